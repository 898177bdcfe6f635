"""Dashboard pages of contact imports, mounted under /app/<site>/imports/."""

from django.urls import path

from contacts.imports import views

urlpatterns = [
    path("", views.ImportListView.as_view(), name="imports"),
    path("new/", views.ImportCreateView.as_view(), name="import-create"),
    path("<int:pk>/", views.ImportPage.as_view(), name="import-detail"),
    path("<int:pk>/preview/", views.ImportPreviewView.as_view(), name="import-preview"),
    path("<int:pk>/start/", views.ImportStartView.as_view(), name="import-start"),
    path("<int:pk>/discard/", views.ImportDiscardView.as_view(), name="import-discard"),
    path("<int:pk>/errors.csv", views.ImportReportView.as_view(), name="import-report"),
]
