"""The usage API, mounted under /api/v1/."""

from django.urls import path

from usage.api import UsageView

urlpatterns = [
    path("sites/<slug:site>/usage/", UsageView.as_view(), name="usage"),
]
