from django.urls import path

from activity import views

urlpatterns = [
    # --- Usage page ---
    path("usage/", views.UsageView.as_view(), name="usage"),
    # --- end of the usage page ---
    # --- Activity page ---
    path("activity/", views.ActivityView.as_view(), name="activity"),
    # --- end of the activity page ---
]
