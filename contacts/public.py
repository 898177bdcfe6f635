"""Public pages: the sign-up form, the double opt-in confirmation link and the unsubscribe link.

Nobody is logged in here. Each view finds the site first (by the slug in the URL, or by the id inside a
signed token: `Site` is not site-owned), then looks up everything else and renders its page inside that
site's scope, so a form, contact or token of one site can never reach another site's rows.

Status codes: 400 for a tampered or expired link and for an invalid submission, 404 for an unknown site,
form or contact, 410 for an archived form and for a confirmation link that no longer applies (the
contact unsubscribed after it was sent, or was deleted), 429 when an address submits too often.
"""

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from contacts import services, tokens
from contacts.errors import ConsentError, FormError
from contacts.models import ConsentSource, Contact, Form, SubscriptionStatus, UnsubscribeReason
from creatorhub.errors import DomainError
from creatorhub.forms import add_domain_error
from creatorhub.models import Site
from creatorhub.ratelimits import Limit, client_address, refuse, wait_words
from creatorhub.tenancy import site_scope

# At most FORM_SUBMISSION_RATE_PER_IP submissions of one form from one address (an IPv6 /64 counts as
# one); the window is fixed, and the refusal's Retry-After says when it ends.
SUBMISSIONS_PER_ADDRESS = Limit("public-form-ip", "FORM_SUBMISSION_RATE_PER_IP")
HONEYPOT = "website"


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, ask_name: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_name:
            del self.fields["name"]


def client_ip(request) -> str | None:
    """The visitor's address as the web server saw it (REMOTE_ADDR), or None when it is not an address.

    X-Forwarded-For is never read: anyone can send it. Behind a reverse proxy, the deployment must make
    REMOTE_ADDR the client's address (the PROXY protocol, or a middleware that takes X-Forwarded-For
    only from the proxy's own address); otherwise every visitor shares the proxy's address, and its
    rate limit.
    """
    ip = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:400]


def problem(request, *, status: int, title: str, message: str, site: Site | None = None):
    """The page of a link or form that does not work, with the reason in words."""
    context = {"site": site, "title": title, "message": message}
    return render(request, "public/link_problem.html", context, status=status)


# -- /f/<site>/<form>/ ------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def public_form(request, site: str, form: str):
    """A site's sign-up form: GET shows it, POST submits it."""
    site_obj = Site.objects.filter(slug=site).first()
    if site_obj is None:
        return problem(
            request, status=404, title="Page not found", message="There is no form at this address."
        )
    with site_scope(site_obj):
        form_obj = Form.objects.filter(slug=form).first()
        if form_obj is None:
            return problem(
                request,
                status=404,
                site=site_obj,
                title="Page not found",
                message="There is no form at this address.",
            )
        if not form_obj.is_active:
            return _form_closed(request, site_obj)
        if request.method == "POST":
            return _submit(request, site_obj, form_obj)
        return _form_page(request, site_obj, form_obj, SignUpForm(ask_name=form_obj.ask_name))


def _form_page(request, site: Site, form: Form, signup: SignUpForm, status: int = 200):
    context = {"site": site, "form": form, "signup": signup, "honeypot": HONEYPOT}
    response = render(request, "public/form.html", context, status=status)
    if form.redirect_url:
        # The sign-up posts here, then goes on to the creator's page: browsers check that redirect
        # against the page's form-action too, so this page's policy names the creator's origin.
        parts = urlsplit(form.redirect_url)
        response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
    return response


def _form_closed(request, site: Site):
    # 410 Gone: the address existed and will not work again (an archived form stays archived).
    return problem(
        request,
        status=410,
        site=site,
        title="This form is closed",
        message="This form no longer takes sign-ups.",
    )


def _submit(request, site: Site, form: Form):
    # Every POST counts, valid or not (a bot's failed tries too).
    wait = SUBMISSIONS_PER_ADDRESS.hit(request, f"{form.pk}:{client_address(request)}")
    if wait is not None:
        response = problem(
            request,
            status=429,
            site=site,
            title="Too many sign-ups",
            message=f"Too many sign-ups came from your network. Please try again in {wait_words(wait)}.",
        )
        return refuse(response, wait)
    if request.POST.get(HONEYPOT, "").strip():
        # A bot filled the field people cannot see: answer as if it worked, and keep nothing.
        return _thanks(request, site, form, needs_confirmation=form.double_opt_in)
    signup = SignUpForm(request.POST, ask_name=form.ask_name)
    if not signup.is_valid():
        return _form_page(request, site, form, signup, status=400)
    try:
        services.submit_form(
            site,
            form=form,
            email=signup.cleaned_data["email"],
            name=signup.cleaned_data.get("name", ""),
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except FormError:
        return _form_closed(request, site)  # archived while the visitor was typing
    except DomainError as error:
        add_domain_error(signup, error)
        return _form_page(request, site, form, signup, status=400)
    # A form answers alike for every address, so the page never tells a stranger whether an address is
    # subscribed already, or had unsubscribed (then a confirmation email goes to it, whatever the form).
    return _thanks(request, site, form, needs_confirmation=form.double_opt_in)


def _thanks(request, site: Site, form: Form, *, needs_confirmation: bool):
    if form.redirect_url:
        return HttpResponseRedirect(form.redirect_url)
    context = {"site": site, "form": form, "needs_confirmation": needs_confirmation}
    return render(request, "public/form_thanks.html", context)


# -- /c/<token>/ ------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_subscription(request, token: str):
    """The link of a double opt-in or resubscription email. GET only shows a button: mail scanners
    fetch links on their own, and only the person's POST (with its CSRF token) subscribes."""
    try:
        confirmation = tokens.read_confirmation_token(token)
    except tokens.BadToken as error:
        return problem(request, status=400, title="This link does not work", message=error.message)
    site = Site.objects.filter(pk=confirmation.site_id).first()
    if site is None:
        return problem(
            request, status=404, title="Page not found", message="The site of this link no longer exists."
        )
    with site_scope(site):
        if request.method == "POST":
            try:
                services.confirm_subscription(
                    site, confirmation=confirmation, ip=client_ip(request), user_agent=user_agent(request)
                )
            except ConsentError as error:
                # 410 Gone: the link was genuine but no longer applies.
                return problem(
                    request, status=410, site=site, title="This link no longer works", message=error.message
                )
            return render(request, "public/confirm.html", {"site": site, "confirmed": True})
        return render(request, "public/confirm.html", {"site": site, "confirmed": False})


# -- /u/<token>/ ------------------------------------------------------------------------------------


# No CSRF check: mail clients send RFC 8058's one-click POST (body `List-Unsubscribe=One-Click`) with
# no cookie and no CSRF token, and it must work. The signed token in the URL is the authorisation: it
# names one contact of one site, cannot be forged, and a forged cross-site POST could do nothing more
# than the link itself does. The view touches no session and no logged-in user.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """The unsubscribe link of every marketing email. GET asks, POST unsubscribes (reason `opted_out`)."""
    try:
        site_id, contact_id = tokens.read_unsubscribe_token(token)
    except tokens.BadToken as error:
        return problem(request, status=400, title="This link does not work", message=error.message)
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return problem(
            request, status=404, title="Page not found", message="The site of this link no longer exists."
        )
    with site_scope(site):
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            return problem(
                request,
                status=404,
                site=site,
                title="This contact no longer exists",
                message=f"{site.name} has deleted the contact this link was made for, "
                "so there is nothing left to unsubscribe.",
            )
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            by = services.Consent(
                source=ConsentSource.LINK,
                note="Unsubscribe link (one-click, from the mail app)" if one_click else "Unsubscribe link",
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
            services.unsubscribe(site, contact=contact, reason=UnsubscribeReason.OPTED_OUT, by=by)
            return render(
                request, "public/unsubscribe.html", {"site": site, "contact": contact, "done": True}
            )
        already = contact.subscription_status == SubscriptionStatus.UNSUBSCRIBED
        context = {"site": site, "contact": contact, "done": False, "already": already}
        return render(request, "public/unsubscribe.html", context)
