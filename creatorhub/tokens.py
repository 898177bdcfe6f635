"""The link of a dashboard password reset email (README "Dashboard accounts")."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from creatorhub.models import User
from creatorhub.ratelimits import wait_words


class DashboardResetTokens(PasswordResetTokenGenerator):
    """Django's reset tokens: signed with the secret key, and single use, since they hash the password and
    the last login, which the reset (or any login) changes. They live DASHBOARD_RESET_MAX_AGE_MINUTES
    rather than PASSWORD_RESET_TIMEOUT, which is the member area's set-password links' (days): a
    dashboard link opens every site of its user."""

    key_salt = "creatorhub.tokens.DashboardResetTokens"

    def check_token(self, user, token):
        if not super().check_token(user, token):
            return False
        made = base36_to_int(token.split("-")[0])  # well-formed: super() checked it
        return self._num_seconds(self._now()) - made <= settings.DASHBOARD_RESET_MAX_AGE_MINUTES * 60


reset_tokens = DashboardResetTokens()


def password_reset_url(user: User) -> str:
    """A new link to set the user's password: made by the worker that emails it, so that no token
    travels through the broker."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password-reset-confirm", args=[uid, reset_tokens.make_token(user)])
    return settings.SITE_URL.rstrip("/") + path


def reset_link_lifetime() -> str:
    """How long a reset link works, in words: "60 minutes"."""
    return wait_words(settings.DASHBOARD_RESET_MAX_AGE_MINUTES * 60)
