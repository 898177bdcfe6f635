"""Dashboard pages of the usage app, mounted under /app/<site>/."""

from django.urls import path

from usage import views

urlpatterns = [
    path("", views.OverviewView.as_view(), name="site-home"),
    path("usage/", views.UsageView.as_view(), name="usage"),
]
