from django.urls import path

from usage import support_api

urlpatterns = [
    path("cases/", support_api.CaseListView.as_view(), name="cases"),
    path("cases/<int:pk>/", support_api.CaseDetailView.as_view(), name="case-detail"),
    path("sites/<slug:slug>/usage/", support_api.SiteUsageView.as_view(), name="site-usage"),
]
