"""The contact page: profile, status with its cause, why they are or are not a customer and an active
customer, consent history, tags and activity; and subscribing a contact from it, which renders the page
again when the statement is refused.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): another site's contact is a
404. Writes go through contacts.services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from activity.feed import contact_timeline
from audience.selectors import explain
from contacts import services
from contacts.errors import ConsentError
from contacts.forms import SubscribeForm
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.services import Consent
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

# "Never subscribed — added by hand": how a contact came to be, when no consent event says more.
ORIGIN_PHRASES = {
    ContactOrigin.MANUAL: "added by hand",
    ContactOrigin.FORM: "added by a form",
    ContactOrigin.IMPORT: "added by import",
    ContactOrigin.PURCHASE: "added by a purchase",
    ContactOrigin.GRANT: "added by a grant",
    ContactOrigin.API: "added through the API",
}


class ContactPage(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """The contact page: profile, status with its cause, consent history, tags. Its actions subclass it
    to render it again, with status 400, when their input is refused."""

    template_name = "app/contacts/detail.html"

    def get_context_data(self, *, contact, **kwargs):
        history = list(
            ConsentEvent.objects.filter(contact=contact).select_related("actor_user", "actor_api_key", "form")
        )
        current = (contact.subscription_status, contact.unsubscribe_reason)
        # The latest event that set the current status; none when it is the status the contact was added
        # with (or the data was written by hand).
        cause = next((e for e in history if (e.to_status, e.to_reason) == current), None)
        kwargs.setdefault("subscribe_form", SubscribeForm())
        kwargs.update(self.timeline_context(contact))
        return super().get_context_data(
            contact=contact,
            history=history,
            cause=cause,
            origin_phrase=ORIGIN_PHRASES.get(contact.origin, "added"),
            # Why they are or are not a customer and an active customer, with what decided it.
            explanation=explain(contact),
            tags=list(contact.tags.all()),
            # The team may (re)subscribe a contact who never subscribed, is pending, or whom the
            # team itself unsubscribed; contacts.services.subscribe enforces it, this only hides the form.
            team_may_subscribe=contact.subscription_status != SubscriptionStatus.SUBSCRIBED
            and contact.unsubscribe_reason in (None, UnsubscribeReason.MANUAL),
            **kwargs,
        )

    def timeline_context(self, contact) -> dict:
        """The Activity section: what the contact did, newest first, 20 at a time (`?activity_before=`)."""
        before = self.request.GET.get("activity_before", "")
        rows, next_cursor = contact_timeline(contact, before=before)
        path = self.request.path
        next_url = f"{path}?{urlencode({'activity_before': next_cursor})}" if next_cursor else None
        return {
            "timeline": rows,
            "timeline_first_url": path if before else None,
            "timeline_next_url": next_url,
        }

    def render_contact(self, contact, *, status=200, **kwargs):
        return self.render_to_response(self.get_context_data(contact=contact, **kwargs), status=status)


class ContactDetailView(ContactPage):
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site, pk):
        return self.render_contact(get_object_or_404(Contact, pk=pk))


class ContactSubscribeView(ContactPage):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = SubscribeForm(request.POST)
        if form.is_valid():
            consent = Consent(
                source=ConsentSource.TEAM,
                note=form.cleaned_data["statement"],
                user=request.user,
                ip=request.META.get("REMOTE_ADDR") or None,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
            try:
                services.subscribe(request.site, contact=contact, by=consent)
            except ConsentError as error:
                if error.field == "consent":
                    form.add_error("statement", error.message)
                else:
                    messages.error(request, error.message)
            else:
                messages.success(request, f"{contact.email} is subscribed to marketing email.")
                return redirect("contact-detail", site=site, pk=contact.pk)
        return self.render_contact(contact, subscribe_form=form, status=400)
