"""The subscription state machine, and the providers' bounces and complaints that drive it.

Every change of subscription status goes through `_change_status`, which locks the contact, checks the
transition against the status rules (docs/rules.md), and writes the consent event in the same transaction."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts import tokens
from contacts.counts import contacts_changed
from contacts.errors import ConsentError, ContactError
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    DeliveryEvent,
    Form,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.selectors import contact_by_email
from creatorhub import audit, events
from creatorhub.models import AuditAction, Site
from creatorhub.tenancy import ensure_same_site

SUBSCRIBED = SubscriptionStatus.SUBSCRIBED
PENDING = SubscriptionStatus.PENDING
NEVER = SubscriptionStatus.NEVER_SUBSCRIBED
UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED

# Which unsubscribe reason may replace which: deliverability facts (a hard bounce, a complaint) win over
# a choice, and the contact's own choice wins over the team's.
REASON_WEIGHT = {
    UnsubscribeReason.MANUAL: 0,
    UnsubscribeReason.OPTED_OUT: 1,
    UnsubscribeReason.BOUNCED: 2,
    UnsubscribeReason.COMPLAINED: 3,
}


@dataclass(frozen=True)
class Consent:
    """Who or what asks for a status change, and the evidence recorded with it."""

    source: str
    note: str = ""
    user: object = None
    api_key: object = None
    form: Form | None = None
    ip: str | None = None
    user_agent: str = ""


# -- The subscription state machine ------------------------------------------------------------------


def _change_status(site: Site, contact: Contact, *, to: str, reason: str | None, by: Consent) -> Contact:
    """Moves the contact to a status, writing the consent event; does nothing when nothing changes."""
    ensure_same_site(site, contact, by.form, error=ContactError)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if (locked.subscription_status, locked.unsubscribe_reason) == (to, reason):
        return locked
    ConsentEvent.objects.create(
        site=site,
        contact=locked,
        from_status=locked.subscription_status,
        from_reason=locked.unsubscribe_reason,
        to_status=to,
        to_reason=reason,
        source=by.source,
        note=by.note[:300],
        actor_user=by.user,
        actor_api_key=by.api_key,
        form=by.form,
        ip=by.ip,
        user_agent=(by.user_agent or "")[:400],
    )
    if by.source in (ConsentSource.TEAM, ConsentSource.API):  # the team's act, not the person's own
        audit.record(
            site,
            AuditAction.SUBSCRIPTION_CHANGED,
            target=locked,
            changes={
                "subscription_status": {"old": locked.subscription_status, "new": to},
                "unsubscribe_reason": {"old": locked.unsubscribe_reason, "new": reason},
            },
            user=by.user,
            api_key=by.api_key,
        )
    locked.subscription_status, locked.unsubscribe_reason = to, reason
    locked.status_changed_at = timezone.now()
    locked.save(
        update_fields=["subscription_status", "unsubscribe_reason", "status_changed_at", "updated_at"]
    )
    contact.subscription_status, contact.unsubscribe_reason = to, reason
    contact.status_changed_at = locked.status_changed_at
    contacts_changed(site)
    return locked


@transaction.atomic
def subscribe(site: Site, *, contact: Contact, by: Consent) -> Contact:
    """Records consent: never subscribed or pending becomes subscribed.

    An unsubscribed contact is subscribed again only by their own confirmed link, or by the team
    when the team itself had unsubscribed them (reason `manual`).
    """
    if not by.note and by.source in (ConsentSource.TEAM, ConsentSource.API, ConsentSource.IMPORT):
        raise ConsentError(
            "Say how this person gave consent (for example “signed up at my workshop”).", field="consent"
        )
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status == UNSUBSCRIBED and not _may_resubscribe(current, by):
        raise ConsentError(
            f"{current.email} unsubscribed ({current.get_unsubscribe_reason_display().lower()}): "
            "only they can subscribe again, through one of your forms and the confirmation email it sends.",
            field="subscription_status",
        )
    before = current.subscription_status
    contact = _change_status(site, contact, to=SUBSCRIBED, reason=None, by=by)
    if before != SUBSCRIBED and by.source in (ConsentSource.FORM, ConsentSource.LINK, ConsentSource.CHECKOUT):
        events.contact_did(
            site, contact=contact, kind="opted_in", details={"source": by.source}
        )  # their own act
    return contact


def _may_resubscribe(contact: Contact, by: Consent) -> bool:
    if by.source == ConsentSource.LINK:
        return True
    return by.source in (ConsentSource.TEAM, ConsentSource.API) and (
        contact.unsubscribe_reason == UnsubscribeReason.MANUAL
    )


@transaction.atomic
def raise_to_subscribed(site: Site, *, contact: Contact, by: Consent) -> bool:
    """For imports and checkout opt-ins: only raises never subscribed / pending to
    subscribed; never resubscribes and never lowers. Returns whether the status changed."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status not in (NEVER, PENDING):
        return False
    subscribe(site, contact=contact, by=by)
    return True


@transaction.atomic
def start_double_opt_in(site: Site, *, contact: Contact, by: Consent) -> Contact:
    """A never-subscribed contact who submitted a double opt-in form waits for confirmation."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status != NEVER:
        return current
    return _change_status(site, contact, to=PENDING, reason=None, by=by)


@transaction.atomic
def unsubscribe(site: Site, *, contact: Contact, reason: str, by: Consent) -> Contact:
    """Unsubscribes with a reason. An unsubscribed contact keeps the weightier of the two reasons, so a
    hard bounce after an opt-out is remembered (and suppresses every email)."""
    if reason not in REASON_WEIGHT:
        raise ConsentError("The reason is one of manual, opted_out, bounced, complained.", field="reason")
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if (
        current.subscription_status == UNSUBSCRIBED
        and REASON_WEIGHT[reason] <= REASON_WEIGHT[current.unsubscribe_reason]
    ):
        return current
    return _change_status(site, contact, to=UNSUBSCRIBED, reason=reason, by=by)


@transaction.atomic
def confirm_subscription(
    site: Site, *, confirmation: tokens.Confirmation, ip: str | None = None, user_agent: str = ""
) -> Contact:
    """The contact followed the link of a double opt-in or resubscription email."""
    contact = Contact.objects.filter(pk=confirmation.contact_id).first()
    if contact is None:
        raise ConsentError("This contact no longer exists.")
    form = Form.objects.filter(pk=confirmation.form_id).first() if confirmation.form_id else None
    if contact.subscription_status == SUBSCRIBED:
        return contact
    if contact.subscription_status == UNSUBSCRIBED and (
        not confirmation.resubscribe or confirmation.status_since != contact.status_changed_at
    ):  # an old link never undoes a later unsubscribe
        raise ConsentError("You unsubscribed after this link was sent: sign up again to subscribe.")
    note = "Confirmed the resubscription email" if confirmation.resubscribe else "Confirmed the opt-in email"
    by = Consent(source=ConsentSource.LINK, note=note, form=form, ip=ip, user_agent=user_agent)
    return subscribe(site, contact=contact, by=by)


# -- Provider events (bounces and complaints) ---------------------------------------------------------

DELIVERY_REASONS = {"bounced": UnsubscribeReason.BOUNCED, "complained": UnsubscribeReason.COMPLAINED}


@transaction.atomic
def record_delivery_event(
    site: Site,
    *,
    provider: str,
    event_type: str,
    recipient: str,
    provider_event_id: str = "",
    message_id: str = "",
    description: str = "",
    occurred_at=None,
    raw: dict | None = None,
) -> DeliveryEvent | None:
    """Keeps a provider's event and applies it: a hard bounce or a complaint unsubscribes the contact
    of that address at once. The same provider event twice is recorded once. Returns None for a repeat."""
    provider_event_id = provider_event_id[:200]
    if (
        provider_event_id
        and DeliveryEvent.objects.filter(provider=provider, provider_event_id=provider_event_id).exists()
    ):
        return None
    contact = contact_by_email(recipient) if recipient else None
    try:
        with transaction.atomic():
            event = DeliveryEvent.objects.create(
                site=site,
                provider=provider,
                event_type=event_type,
                provider_event_id=provider_event_id,
                recipient=recipient[:254],
                contact=contact,
                message_id=message_id[:300],
                description=description,
                occurred_at=occurred_at,
                raw=raw or {},
            )
    except IntegrityError:  # the same event, delivered twice at the same moment
        return None
    reason = DELIVERY_REASONS.get(event_type)
    if contact is not None and reason is not None:
        before = (contact.subscription_status, contact.unsubscribe_reason)
        by = Consent(source=ConsentSource.WEBHOOK, note=f"{provider}: {event_type} {description}".strip())
        after = unsubscribe(site, contact=contact, reason=reason, by=by)
        event.applied = (after.subscription_status, after.unsubscribe_reason) != before
        event.save(update_fields=["applied"])
    return event
