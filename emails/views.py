"""Dashboard pages of the emails app: the automated emails and their templates, and the email log.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): a kind's template and the
preview's contact are looked up there, so another site's contact id is a 404. Writes go through
emails.services.
"""

import logging

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.generic import TemplateView

from contacts.models import Contact
from creatorhub.forms import add_domain_error
from creatorhub.paging import FilteredLogView
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin
from emails import services
from emails.errors import TemplateError
from emails.forms import EmailLogFilterForm, EmailTemplateForm
from emails.models import EmailKind, OutboundEmail
from emails.rendering import VARIABLES

logger = logging.getLogger(__name__)

PREVIEW_CONTACTS = 50  # the newest contacts offered for the preview
# The Content-Security-Policy of the HTML preview's own document (EmailPreviewView), instead of the
# pages' policy: an email's HTML styles itself inline and shows images from anywhere (https), but runs
# no script and submits no form (`sandbox` makes it a unique origin even when opened on its own), and
# only our own pages may frame it.
PREVIEW_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": [SELF, "data:", "https:"],
    "form-action": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [SELF],
    "sandbox": [True],
}


def kind_or_404(kind: str) -> EmailKind:
    try:
        return EmailKind(kind)
    except ValueError:
        raise Http404("No such email.") from None


class EmailsView(SitePageMixin, TemplateView):
    template_name = "app/emails/list.html"
    scope_map = {"GET": Scope.EMAILS_READ}

    def get_context_data(self, **kwargs):
        return super().get_context_data(templates=services.site_templates(self.request.site), **kwargs)


class EmailTemplateView(SitePageMixin, TemplateView):
    """A kind's template: the editor (for emails:edit), the variables, and a preview with the sample
    contact or one of the site's contacts (`?contact=<id>`)."""

    template_name = "app/emails/edit.html"
    scope_map = {"GET": Scope.EMAILS_READ, "POST": Scope.EMAILS_EDIT}

    def get(self, request, site, kind):
        return self.render_page(kind_or_404(kind))

    def post(self, request, site, kind):
        kind = kind_or_404(kind)
        form = EmailTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.save_template(
                    request.site, kind=kind.value, acting_user=request.user, **form.cleaned_data
                )
            except TemplateError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the {kind.label} email: the next one sent uses it.")
                return redirect("email-template", site=site, kind=kind.value)
        return self.render_page(kind, form=form, status=400)

    def render_page(self, kind: EmailKind, *, form=None, status=200):
        site = self.request.site
        parts, custom = services.template_parts(kind.value, site=site)
        if form is None:
            form = EmailTemplateForm(initial=parts._asdict())
        contact = preview_contact(self.request)
        try:
            rendered, preview_error = services.preview(site, kind=kind.value, contact=contact), None
        except Exception as error:  # a saved template that fails on this contact: say so, do not 500
            logger.warning("Preview of %s failed on site %s: %s", kind, site.pk, error)
            rendered, preview_error = None, str(error)
        contacts = list(Contact.objects.order_by("-created_at", "-id")[:PREVIEW_CONTACTS])
        if contact is not None and contact not in contacts:
            contacts.insert(0, contact)
        context = self.get_context_data(
            kind=kind,
            parts=parts,
            custom=custom,
            form=form,
            variables=VARIABLES[kind.value],
            preview=rendered,
            preview_error=preview_error,
            preview_contact=contact,
            contacts=contacts,
        )
        return self.render_to_response(context, status=status)


def preview_contact(request) -> Contact | None:
    """The contact of `?contact=<id>` (looked up in the site's scope: another site's is a 404), or None
    for the sample contact."""
    raw = request.GET.get("contact", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such contact.")
    return get_object_or_404(Contact, pk=int(raw))


@method_decorator(xframe_options_sameorigin, name="dispatch")
class EmailPreviewView(SitePageMixin, View):
    """The HTML body of a kind's preview as a document of its own, shown by the editor page in a
    sandboxed iframe, under PREVIEW_POLICY (the pages' policy would refuse the email's inline styles)."""

    scope_map = {"GET": Scope.EMAILS_READ}

    def get(self, request, site, kind):
        kind = kind_or_404(kind)
        try:
            rendered = services.preview(request.site, kind=kind.value, contact=preview_contact(request))
        except Http404:
            raise
        except Exception as error:  # the editor page says why; this document only names the failure
            response = HttpResponse(
                f"The template could not be rendered: {error}", content_type="text/plain", status=400
            )
        else:
            response = HttpResponse(rendered.html)
        response._csp_config = PREVIEW_POLICY
        response["Cache-Control"] = "private, no-store"
        return response


class EmailTemplateRestoreView(SitePageMixin, View):
    scope_map = {"POST": Scope.EMAILS_EDIT}

    def post(self, request, site, kind):
        kind = kind_or_404(kind)
        if services.restore_default(request.site, kind=kind.value):
            messages.success(request, f"The {kind.label} email is back to the default.")
        else:
            messages.info(request, f"The {kind.label} email uses the default already.")
        return redirect("email-template", site=site, kind=kind.value)


# -- The email log ------------------------------------------------------------------------------------


class EmailLogView(SitePageMixin, FilteredLogView):
    """Every automated email of the site, newest first: queued, sent, failed (with the error) or
    suppressed (with the reason). Filters: `status`, `kind`; paged by `?cursor=`."""

    template_name = "app/emails/log.html"
    scope_map = {"GET": Scope.EMAILS_READ}

    noun = "emails"

    def filter_form(self):
        return EmailLogFilterForm(self.request.GET)

    def rows(self, chosen: dict):
        return OutboundEmail.objects.filter(**chosen)
