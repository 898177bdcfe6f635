from django.urls import path

from activity import views

urlpatterns = [
    # --- Activity page ---
    path("activity/", views.ActivityView.as_view(), name="activity"),
    # --- end of the activity page ---
]
