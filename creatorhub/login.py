"""The dashboard's login page: django.contrib.auth's LoginView with the abuse limits of README "Abuse
limits and security headers".

- A rate per visitor address (LOGIN_RATE_PER_IP; every POST counts) and a cap on failed logins per
  account from anywhere (LOGIN_FAILURES_PER_ACCOUNT), counted in the cache (creatorhub.ratelimits).
- django-axes' lockout: after AXES_FAILURE_LIMIT failures for one account from one address, that account
  is locked *for that address* for AXES_COOLOFF_TIME; the owner logs in from anywhere else. AxesMiddleware
  answers a locked-out attempt with `locked_out` (settings.AXES_LOCKOUT_CALLABLE).

Every refusal is the login page again with the reason, status 429 and Retry-After.
"""

from axes.helpers import get_cool_off
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponse
from django.shortcuts import render

from creatorhub.ratelimits import Limit, client_address, normalized_email, refuse, wait_words

LOGIN_PER_ADDRESS = Limit("dashboard-login-ip", "LOGIN_RATE_PER_IP")
LOGIN_FAILURES_PER_ACCOUNT = Limit("dashboard-login-failures", "LOGIN_FAILURES_PER_ACCOUNT")


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        account = normalized_email(request.POST.get("username"))
        wait = LOGIN_PER_ADDRESS.hit(request, client_address(request))
        if wait is not None:
            return refused(request, wait, "Too many login attempts from your network. Try again in {wait}.")
        wait = LOGIN_FAILURES_PER_ACCOUNT.reached(request, account) if account else None
        if wait is not None:
            return refused(request, wait, "Too many failed logins for this account. Try again in {wait}.")
        return super().post(request, *args, **kwargs)

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
        "paused. Try again in {wait}.",
    )


def refused(request, wait: int, message: str) -> HttpResponse:
    """The login page with the reason of the refusal, the email kept: 429 with Retry-After."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    refusal = message.format(wait=wait_words(wait))
    context = {"form": form, "next": request.POST.get("next", ""), "refusal": refusal}
    return refuse(render(request, "registration/login.html", context), wait)
