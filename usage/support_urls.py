from django.urls import path

from usage import support_views

urlpatterns = [
    path("", support_views.QueueView.as_view(), name="support-queue"),
    path("sites/<slug:slug>/", support_views.SiteView.as_view(), name="support-site"),
    path("cases/<int:pk>/", support_views.CaseView.as_view(), name="support-case"),
]
