from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from creatorhub import accounts, login, views

site_pages = [
    path("settings/team/", views.TeamView.as_view(), name="team"),
    path("settings/team/<int:pk>/role/", views.ChangeRoleView.as_view(), name="team-change-role"),
    path("settings/team/<int:pk>/remove/", views.RemoveMemberView.as_view(), name="team-remove"),
    path(
        "settings/invitations/<int:pk>/revoke/",
        views.RevokeInvitationView.as_view(),
        name="invitation-revoke",
    ),
    path("settings/api-keys/", views.ApiKeysView.as_view(), name="api-keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.RevokeApiKeyView.as_view(), name="api-key-revoke"),
    path("audit/", views.AuditLogView.as_view(), name="audit-log"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="app-home"), name="root"),
    path("accounts/login/", login.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("accounts/password/", accounts.PasswordView.as_view(), name="password"),
    path(
        "accounts/password/log-out-other-sessions/",
        accounts.LogOutOtherSessionsView.as_view(),
        name="log-out-other-sessions",
    ),
    path("invitations/<str:token>/", views.AcceptInvitationView.as_view(), name="accept-invitation"),
    path("app/", views.AppHomeView.as_view(), name="app-home"),
    path("app/<slug:site>/", include("usage.urls")),
    path("app/<slug:site>/", include(site_pages)),
    path("app/<slug:site>/", include("contacts.urls")),
    path("app/<slug:site>/", include("audience.urls")),
    path("app/<slug:site>/", include("emails.urls")),
    path("app/<slug:site>/", include("offers.urls")),
    path("app/<slug:site>/", include("activity.urls")),
    path("s/<slug:site>/", include("offers.member_urls")),
    path("api/v1/", include(("creatorhub.api.urls", "api"))),
    path("api/v1/", include(("contacts.api_urls", "contacts-api"))),
    path("api/v1/", include(("emails.api_urls", "emails-api"))),
    path("api/v1/", include(("offers.api_urls", "offers-api"))),
    path("api/v1/", include(("activity.api_urls", "activity-api"))),
    path("api/v1/", include(("usage.api_urls", "usage-api"))),
    path("api/v1/", include(("audience.api_urls", "audience-api"))),
    path("api/v1/support/", include(("usage.support_api_urls", "support-api"))),
    path("support/", include("usage.support_urls")),
    path("webhooks/", include("emails.webhook_urls")),
    path("", include("contacts.public_urls")),
    path("admin/", admin.site.urls),
]

# Under /api/, Django's own error answers are in the API's JSON format too (creatorhub.api.errors).
handler400 = "creatorhub.api.errors.bad_request"
handler403 = "creatorhub.api.errors.permission_denied"
handler404 = "creatorhub.api.errors.page_not_found"
handler500 = "creatorhub.api.errors.server_error"
