from django.urls import path

from activity.usage_api import UsageView

urlpatterns = [
    path("sites/<slug:site>/usage/", UsageView.as_view(), name="usage"),
]
