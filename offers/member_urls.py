"""The member area, mounted under /s/<site>/."""

from django.urls import path
from django.views.generic import RedirectView

from offers import member_views as views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="member-library"), name="member-home"),
    path("login/", views.LoginView.as_view(), name="member-login"),
    path("logout/", views.LogoutView.as_view(), name="member-logout"),
    path(
        "set-password/<str:uidb64>/<str:token>/", views.SetPasswordView.as_view(), name="member-set-password"
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="member-password-reset"),
    path("library/", views.LibraryView.as_view(), name="member-library"),
    path("lessons/<int:lesson>/", views.LessonView.as_view(), name="member-lesson"),
    path("lessons/<int:lesson>/complete/", views.CompleteLessonView.as_view(), name="member-lesson-complete"),
]
