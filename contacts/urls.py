"""Dashboard pages of the contacts app, mounted under /app/<site>/."""

from django.urls import include, path

from contacts import views

urlpatterns = [
    path("imports/", include("contacts.imports.urls")),
    path("contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
    path("contacts/<int:pk>/edit/", views.ContactEditView.as_view(), name="contact-edit"),
    path("contacts/<int:pk>/tags/", views.ContactTagsView.as_view(), name="contact-tags"),
    path(
        "contacts/<int:pk>/unsubscribe/", views.ContactUnsubscribeView.as_view(), name="contact-unsubscribe"
    ),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
    path("contacts/<int:pk>/personal-data/", views.PersonalDataView.as_view(), name="contact-personal-data"),
    path("forms/", views.FormListView.as_view(), name="forms"),
    path("forms/new/", views.FormCreateView.as_view(), name="form-create"),
    path("forms/<int:pk>/", views.FormEditView.as_view(), name="form-edit"),
    path("forms/<int:pk>/archive/", views.FormArchiveView.as_view(), name="form-archive"),
]
