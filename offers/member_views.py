"""The member area under /s/<site>/ (the member area): login, logout, set password (the one-time
link of the Member Welcome and password reset emails), password reset, the library and lessons.

Members are contacts, not dashboard users: django.contrib.auth stays the team's. A member's login lives
in the session under a per-site key (`member:<site id>`, with the hash of their password under
`member-auth:<site id>`, so a new password ends their other sessions). Every view resolves the site by
its slug (Site is not site-owned: an unknown slug is a 404), then loads the member and everything else,
and renders, inside the site's scope: another site's contact or lesson id finds nothing.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from contacts.models import Contact
from creatorhub.forms import add_domain_error
from creatorhub.models import Site
from creatorhub.ratelimits import Limit, client_address, normalized_email, refuse, wait_words
from creatorhub.tenancy import site_scope
from offers import selectors
from offers.errors import MemberError
from offers.member_forms import LoginForm, PasswordResetForm, SetPasswordForm
from offers.services import members

WRONG_LOGIN = "That email and password do not match an account here. Check both, or reset your password."
# The abuse limits (README "Abuse limits and security headers"; the rates are settings). Members are no
# Django users, so django-axes does not see them: their lockout is the cap on failed logins per site and
# email, from anywhere. A member whose logins someone else used up gets in through "Forgot your
# password?": the emailed link logs them in and counts against no login limit.
LOGIN_PER_ADDRESS = Limit("member-login-ip", "MEMBER_LOGIN_RATE_PER_IP")  # every try, all sites
LOGIN_FAILURES = Limit("member-login-failures", "MEMBER_LOGIN_FAILURES_PER_EMAIL")  # per site and email
RESET_PER_ADDRESS = Limit("member-reset-ip", "PASSWORD_RESET_RATE_PER_IP")  # all sites
RESET_PER_EMAIL = Limit("member-reset-email", "PASSWORD_RESET_RATE_PER_EMAIL")  # per site and email
TOO_MANY_FROM_HERE = "Too many attempts from your network. Please try again in {wait}."
TOO_MANY_FAILURES = (
    "Too many failed logins for this email. Please try again in {wait}, or use “Forgot your password?” "
    "below: its link logs you in."
)
TOO_MANY_RESETS = "We sent links to this address a moment ago. Check your inbox, or try again in {wait}."


def _link_lifetime() -> str:
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    return f"{days} days" if days != 1 else "one day"


def _member_key(site: Site) -> str:
    return f"member:{site.pk}"


def _member_auth_key(site: Site) -> str:
    return f"member-auth:{site.pk}"


def log_in(request, site: Site, contact: Contact) -> None:
    """Starts the member's session on this site, under a new session key (no fixation)."""
    request.session.cycle_key()
    request.session[_member_key(site)] = contact.pk
    request.session[_member_auth_key(site)] = members.member_session_hash(contact)
    request.member = contact


def log_out(request, site: Site) -> None:
    """Ends the member's session on this site only; the dashboard login and other sites' stay."""
    request.session.pop(_member_key(site), None)
    request.session.pop(_member_auth_key(site), None)
    request.session.cycle_key()
    request.member = None


def current_member(request, site: Site) -> Contact | None:
    """The member logged into this site, looked up inside its scope (call inside it), or None."""
    pk = request.session.get(_member_key(site))
    if not isinstance(pk, int):
        return None
    contact = Contact.objects.filter(pk=pk).first()
    if contact is None or not constant_time_compare(
        request.session.get(_member_auth_key(site), ""), members.member_session_hash(contact)
    ):
        return None
    return contact


def _library_url(site: Site) -> str:
    return reverse("member-library", args=[site.slug])


def _safe_next(request, site: Site) -> str | None:
    """A `next` path inside this site's member area, else None."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = reverse("member-login", args=[site.slug]).removesuffix("login/")
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


class MemberPageMixin:
    """Resolves the site from the URL (404 when unknown), enters its scope, loads the member from the
    session, and runs the handler and renders its template inside the scope. With `member_required`,
    a visitor who is not logged into this site goes to the site's login page."""

    member_required = True

    def dispatch(self, request, *args, **kwargs):
        site = Site.objects.filter(slug=kwargs.get("site", "")).first()
        if site is None:
            raise Http404("No such site.")
        with site_scope(site):
            request.site = site
            request.member = current_member(request, site)
            if self.member_required and request.member is None:
                login = reverse("member-login", args=[site.slug])
                response = HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
            else:
                response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        add_never_cache_headers(response)  # personal pages: no shared cache keeps them
        return response

    def page(self, template: str, context: dict | None = None, *, status: int = 200):
        context = {"site": self.request.site, "member": self.request.member, **(context or {})}
        return render(self.request, f"member/{template}", context, status=status)

    def notice(self, *, title: str, message: str, status: int = 200, link=None):
        """A page that says one thing, with an optional (url, text) link onward."""
        return self.page("notice.html", {"title": title, "message": message, "link": link}, status=status)


def _reset_link(site: Site) -> tuple[str, str]:
    return reverse("member-password-reset", args=[site.slug]), "Get a new link"


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(MemberPageMixin, View):
    member_required = False

    def get(self, request, site):
        if request.member is not None:
            return HttpResponseRedirect(_safe_next(request, request.site) or _library_url(request.site))
        return self._form(LoginForm(initial={"email": request.GET.get("email", "")}))

    def post(self, request, site):
        site = request.site
        form = LoginForm(request.POST)
        account = f"{site.pk}:{normalized_email(request.POST.get('email'))}"
        wait = LOGIN_PER_ADDRESS.hit(request, client_address(request))
        message = TOO_MANY_FROM_HERE
        if wait is None:
            wait, message = LOGIN_FAILURES.reached(request, account), TOO_MANY_FAILURES
        if wait is not None:
            return self._refused(form, message, wait)
        if not form.is_valid():
            return self._form(form, status=400)
        try:
            contact = members.authenticate_member(
                site, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except MemberError as error:
            form.add_error(None, error.message)
            return self._form(form, status=400)
        if contact is None:
            LOGIN_FAILURES.count(request, account)
            form.add_error(None, WRONG_LOGIN)
            return self._form(form, status=400)
        log_in(request, site, contact)
        return HttpResponseRedirect(_safe_next(request, site) or _library_url(site))

    def _form(self, form, status=200):
        return self.page(
            "login.html", {"form": form, "next": _safe_next(self.request, self.request.site)}, status=status
        )

    def _refused(self, form, message: str, wait: int):
        form.is_valid()
        form.add_error(None, message.format(wait=wait_words(wait)))
        return refuse(self._form(form), wait)


class LogoutView(MemberPageMixin, View):
    member_required = False
    http_method_names = ["post"]

    def post(self, request, site):
        log_out(request, request.site)
        return HttpResponseRedirect(reverse("member-login", args=[request.site.slug]))


@method_decorator(sensitive_post_parameters("password", "password_again"), name="dispatch")
class SetPasswordView(MemberPageMixin, View):
    """The one-time link of the Member Welcome and password reset emails. GET only shows the form
    (mail scanners open links); the POST spends the link, sets the password and logs the member in."""

    member_required = False

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        # The token is in the address: no other origin may see it (a POST stays same-origin, so Django's
        # CSRF origin check still sees our own Origin; "no-referrer" would send "null" and fail it).
        response["Referrer-Policy"] = "same-origin"
        return response

    def get(self, request, site, uidb64, token):
        if members.contact_for_link(uidb64, token) is None:
            return self._expired()
        return self._form(SetPasswordForm())

    def post(self, request, site, uidb64, token):
        site = request.site
        contact = members.contact_for_uid(uidb64)
        if contact is None:
            return self._expired()
        form = SetPasswordForm(request.POST)
        if not form.is_valid():
            return self._form(form, status=400)
        try:
            contact = members.set_member_password(
                site,
                contact=contact,
                token=token,
                password=form.cleaned_data["password"],
                password_again=form.cleaned_data["password_again"],
            )
        except MemberError as error:
            if error.field == "token":
                return self._expired()
            add_domain_error(form, error)
            return self._form(form, status=400)
        try:
            members.log_in_member(site, contact=contact)
        except MemberError as error:
            return self.notice(title="Your password is set", message=error.message)
        log_in(request, site, contact)
        return HttpResponseRedirect(_library_url(site))

    def _form(self, form, status=200):
        return self.page("set_password.html", {"form": form}, status=status)

    def _expired(self):
        return self.notice(
            title="This link has expired or was already used",
            message=f"Links to set a password work once, for {_link_lifetime()}. Ask for a new one: we will "
            "email it to you.",
            status=400,
            link=_reset_link(self.request.site),
        )


class PasswordResetView(MemberPageMixin, View):
    """Asks for a new set-password link. The answer is the same whether the address has an account or
    not, so the page tells nobody who is a member."""

    member_required = False

    def get(self, request, site):
        return self._form(PasswordResetForm(initial={"email": request.GET.get("email", "")}))

    def post(self, request, site):
        site = request.site
        form = PasswordResetForm(request.POST)
        wait = RESET_PER_ADDRESS.hit(request, client_address(request))
        message = TOO_MANY_FROM_HERE
        if wait is None:
            account = f"{site.pk}:{normalized_email(request.POST.get('email'))}"
            wait, message = RESET_PER_EMAIL.hit(request, account), TOO_MANY_RESETS
        if wait is not None:
            form.is_valid()
            form.add_error(None, message.format(wait=wait_words(wait)))
            return refuse(self._form(form), wait)
        if not form.is_valid():
            return self._form(form, status=400)
        members.request_password_reset(site, email=form.cleaned_data["email"])
        return self.notice(
            title="Check your inbox",
            message=f"If an account exists for {form.cleaned_data['email']}, we sent it a link to set a "
            f"new password. The link works once, for {_link_lifetime()}. Nothing there after a few "
            "minutes? Look in your spam folder.",
            link=(reverse("member-login", args=[site.slug]), "Back to log in"),
        )

    def _form(self, form, status=200):
        return self.page("password_reset.html", {"form": form}, status=status)


class LibraryView(MemberPageMixin, View):
    def get(self, request, site):
        return self.page("library.html", {"library": selectors.library_of(request.member), "nav": "library"})


class LessonView(MemberPageMixin, View):
    def get(self, request, site, lesson):
        found = selectors.lesson_for_member(request.member, lesson)
        if found is None:
            raise Http404("No such lesson.")
        return self.page("lesson.html", {"lesson": found, "next_lesson": selectors.next_lesson(found)})


class CompleteLessonView(MemberPageMixin, View):
    http_method_names = ["post"]

    def post(self, request, site, lesson):
        found = selectors.lesson_for_member(request.member, lesson)
        if found is None:
            raise Http404("No such lesson.")
        try:
            members.complete_lesson(request.site, contact=request.member, lesson=found)
        except MemberError:  # the access was revoked a moment ago
            raise Http404("No such lesson.") from None
        return HttpResponseRedirect(reverse("member-lesson", args=[request.site.slug, found.pk]))
