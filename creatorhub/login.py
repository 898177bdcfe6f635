"""The dashboard's login page: django.contrib.auth's LoginView with the abuse limits of README "Abuse
limits and security headers".

- A rate per visitor address (LOGIN_RATE_PER_IP; every POST counts) and a cap on failed logins per
  account from anywhere (LOGIN_FAILURES_PER_ACCOUNT), counted in the cache (creatorhub.ratelimits).
  The cap refuses only browsers not known for the account: a successful login leaves a signed cookie
  that marks its browser as known (`remember_device`), and there the owner's password still works, so
  a stranger's wrong guesses cannot keep the owner out. Other browsers are pointed to the password
  reset, whose link always works (creatorhub.accounts) and lifts the limits (`lift_login_limits`).
- django-axes' lockout: after AXES_FAILURE_LIMIT failures for one account from one address, that account
  is locked *for that address* for AXES_COOLOFF_TIME, known browser or not; the owner logs in from
  anywhere else. AxesMiddleware answers a locked-out attempt with `locked_out`
  (settings.AXES_LOCKOUT_CALLABLE).

Every refusal is the login page again with the reason, status 429 and Retry-After.
"""

from axes.helpers import get_cool_off
from axes.utils import reset as reset_axes
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from creatorhub.models import User
from creatorhub.ratelimits import Limit, client_address, normalized_email, refuse, wait_words

LOGIN_PER_ADDRESS = Limit("dashboard-login-ip", "LOGIN_RATE_PER_IP")
LOGIN_FAILURES_PER_ACCOUNT = Limit("dashboard-login-failures", "LOGIN_FAILURES_PER_ACCOUNT")

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SALT = "creatorhub.login.known_device"
KNOWN_DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chromium's cap)
KNOWN_DEVICE_ACCOUNTS = 5  # accounts one browser is known for (a shared computer), the latest first


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        account = normalized_email(request.POST.get("username"))
        wait = LOGIN_PER_ADDRESS.hit(request, client_address(request))
        if wait is not None:
            return refused(request, wait, "Too many login attempts from your network. Try again in {wait}.")
        wait = LOGIN_FAILURES_PER_ACCOUNT.reached(request, account) if account else None
        if wait is not None and not is_known_device(request, account):
            return refused(
                request,
                wait,
                "Too many failed logins for this account. Log in from a browser you used for it before, "
                "reset your password, or try again in {wait}.",
                reset=True,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_device(self.request, response, form.get_user())
        return response

    def form_invalid(self, form):
        account = normalized_email(self.request.POST.get("username"))
        if account and form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            LOGIN_FAILURES_PER_ACCOUNT.count(self.request, account)
        return super().form_invalid(form)


def locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to an attempt on an account locked for this address."""
    wait = int(get_cool_off(request).total_seconds())
    return refused(
        request,
        wait,
        "Too many failed logins for this account from your network: logging in to it from here is "
        "paused. Reset your password, or try again in {wait}.",
        reset=True,
    )


def refused(request, wait: int, message: str, *, reset: bool = False) -> HttpResponse:
    """The login page with the reason of the refusal, the email kept, and with `reset` a link to the
    password reset: 429 with Retry-After."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    refusal = message.format(wait=wait_words(wait))
    context = {"form": form, "next": request.POST.get("next", ""), "refusal": refusal, "offer_reset": reset}
    return refuse(render(request, "registration/login.html", context), wait)


def _known_accounts(request: HttpRequest) -> list[int]:
    """The ids of the accounts this browser logged in to (an unsigned, altered or expired cookie: none)."""
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE
    )
    return [int(pk) for pk in value.split(".") if pk.isdigit()]


def is_known_device(request: HttpRequest, account: str) -> bool:
    """Whether this browser logged in to the account of this email before."""
    known = _known_accounts(request)
    return bool(known) and User.objects.filter(pk__in=known, email__iexact=account).exists()


def remember_device(request: HttpRequest, response: HttpResponse, user: User) -> None:
    """Marks this browser as known for the user's account, after a login. The cookie is signed (a
    browser cannot make itself known) and HttpOnly, sent over HTTPS only wherever the session cookie is."""
    accounts = [user.pk, *(pk for pk in _known_accounts(request) if pk != user.pk)][:KNOWN_DEVICE_ACCOUNTS]
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        ".".join(str(pk) for pk in accounts),  # a comma would need quoting in a cookie
        salt=KNOWN_DEVICE_SALT,
        max_age=KNOWN_DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def lift_login_limits(user: User) -> None:
    """Forgets the account's failed logins, axes' lockouts at every address and the count from anywhere:
    after a password reset, whose link proved the owner reads the account's email."""
    account = normalized_email(user.email)
    reset_axes(username=account)
    LOGIN_FAILURES_PER_ACCOUNT.clear(account)
