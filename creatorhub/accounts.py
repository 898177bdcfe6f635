"""The dashboard's account pages (README "Dashboard accounts"): a password reset by email, and for the
logged-in user, the password page, which changes the password and logs out the other sessions.

A reset request answers alike whether the account exists, and is rate limited per address and per
email. The emailed link (creatorhub.tokens) works once and expires; setting the password through it
logs the user in, marks the browser as known and lifts the account's login limits (creatorhub.login), so
a stranger's failed guesses never keep the owner out for good.
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views import View

from creatorhub import services
from creatorhub.forms import PasswordResetRequestForm
from creatorhub.login import lift_login_limits, remember_device
from creatorhub.ratelimits import Limit, client_address, normalized_email, refuse, wait_words
from creatorhub.tokens import reset_link_lifetime, reset_tokens

# The member area's reset rates, counted apart (offers.member_views).
RESET_PER_ADDRESS = Limit("dashboard-reset-ip", "PASSWORD_RESET_RATE_PER_IP")
RESET_PER_ACCOUNT = Limit("dashboard-reset-email", "PASSWORD_RESET_RATE_PER_EMAIL")
TOO_MANY_FROM_HERE = "Too many attempts from your network. Please try again in {wait}."
TOO_MANY_RESETS = "We sent links to this address a moment ago. Check your inbox, or try again in {wait}."


class PasswordResetView(View):
    """Asks for a link to set a new password. The answer is the same whether the address has an account
    or not, so the page tells nobody who has one."""

    template_name = "registration/password_reset.html"

    def get(self, request):
        return self.page(PasswordResetRequestForm(initial={"email": request.GET.get("email", "")}))

    def post(self, request):
        form = PasswordResetRequestForm(request.POST)
        wait, message = RESET_PER_ADDRESS.hit(request, client_address(request)), TOO_MANY_FROM_HERE
        if wait is None:
            account = normalized_email(request.POST.get("email"))
            wait, message = RESET_PER_ACCOUNT.hit(request, account), TOO_MANY_RESETS
        if wait is not None:
            form.is_valid()
            form.add_error(None, message.format(wait=wait_words(wait)))
            return refuse(self.page(form), wait)
        if not form.is_valid():
            return self.page(form, status=400)
        services.request_password_reset(email=form.cleaned_data["email"])
        context = {"sent_to": form.cleaned_data["email"], "lifetime": reset_link_lifetime()}
        return render(request, self.template_name, context)

    def page(self, form, status=200):
        return render(self.request, self.template_name, {"form": form}, status=status)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed link's page: a new password, and the user is in."""

    template_name = "registration/password_reset_confirm.html"
    token_generator = reset_tokens
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("app-home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        response = super().form_valid(form)
        lift_login_limits(self.user)
        remember_device(self.request, response, self.user)
        messages.success(
            self.request, "Your new password is set. Any other session of your account was logged out."
        )
        return response


class PasswordView(auth_views.PasswordChangeView):
    """Changes the password (Django's form asks for the current one). The password is in the hash every
    session is checked against, so the change logs out the other sessions; this one stays."""

    template_name = "registration/password.html"
    success_url = reverse_lazy("password")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Your other sessions were logged out.")
        return response


class LogOutOtherSessionsView(LoginRequiredMixin, View):
    def post(self, request):
        services.log_out_other_sessions(user=request.user)
        update_session_auth_hash(request, request.user)
        messages.success(request, "Your other sessions were logged out. This one stays.")
        return redirect("password")
