"""Dashboard pages of the contacts app, mounted under /app/<site>/."""

from django.urls import include, path

from contacts import export_views, tab_views, views

urlpatterns = [
    path("imports/", include("contacts.imports.urls")),
    path("contacts/", views.ContactListView.as_view(), name="contacts"),
    path("contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
    path("contacts/count/", tab_views.CountView.as_view(), name="contacts-count"),
    path("contacts/builder/", tab_views.BuilderView.as_view(), name="contacts-builder"),
    path("contacts/bulk/<slug:kind>/", tab_views.BulkStartView.as_view(), name="contacts-bulk"),
    path("contacts/actions/<int:pk>/", tab_views.BulkActionView.as_view(), name="bulk-action"),
    path("contacts/segments/new/", tab_views.SegmentCreateView.as_view(), name="segment-create"),
    path("contacts/segments/<int:pk>/", tab_views.SegmentEditView.as_view(), name="segment-edit"),
    path("contacts/segments/<int:pk>/delete/", tab_views.SegmentDeleteView.as_view(), name="segment-delete"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.ContactEditView.as_view(), name="contact-edit"),
    path("contacts/<int:pk>/tags/", views.ContactTagsView.as_view(), name="contact-tags"),
    path("contacts/<int:pk>/subscribe/", views.ContactSubscribeView.as_view(), name="contact-subscribe"),
    path(
        "contacts/<int:pk>/unsubscribe/", views.ContactUnsubscribeView.as_view(), name="contact-unsubscribe"
    ),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
    path("forms/", views.FormListView.as_view(), name="forms"),
    path("forms/new/", views.FormCreateView.as_view(), name="form-create"),
    path("forms/<int:pk>/", views.FormEditView.as_view(), name="form-edit"),
    path("forms/<int:pk>/archive/", views.FormArchiveView.as_view(), name="form-archive"),
    path(
        "contacts/<int:pk>/personal-data/",
        export_views.PersonalDataView.as_view(),
        name="contact-personal-data",
    ),
    path("exports/", export_views.ExportListView.as_view(), name="exports"),
    path("exports/new/", export_views.ExportCreateView.as_view(), name="export-create"),
    path("exports/<int:pk>/", export_views.ExportDetailView.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", export_views.ExportDownloadView.as_view(), name="export-download"),
]
