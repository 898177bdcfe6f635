"""Dashboard pages of the emails app, mounted under /app/<site>/."""

from django.urls import path

from emails import views

urlpatterns = [
    path("emails/", views.EmailsView.as_view(), name="emails"),
    path("emails/templates/<str:kind>/", views.EmailTemplateView.as_view(), name="email-template"),
    path(
        "emails/templates/<str:kind>/preview/",
        views.EmailPreviewView.as_view(),
        name="email-template-preview",
    ),
    path(
        "emails/templates/<str:kind>/restore/",
        views.EmailTemplateRestoreView.as_view(),
        name="email-template-restore",
    ),
    path("emails/log/", views.EmailLogView.as_view(), name="email-log"),
]
