"""Reads of the contacts app that are more than a filter."""

from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    DeliveryEvent,
    FormSubmission,
    SubscriptionStatus,
    UnsubscribeReason,
)
from creatorhub.personal_data import export_of


def contact_by_email(email: str) -> Contact | None:
    """The site's contact of an email, whatever its case (call inside the site's scope)."""
    return Contact.objects.filter(email__lower=email.strip().lower()).first()


def status_cause(contact: Contact) -> ConsentEvent | None:
    """The consent event that set the contact's current status (None: never changed since creation)."""
    return (
        ConsentEvent.objects.filter(
            contact=contact, to_status=contact.subscription_status, to_reason=contact.unsubscribe_reason
        )
        .select_related("form", "actor_user", "actor_api_key")
        .order_by("-occurred_at", "-id")
        .first()
    )


def describe_consent_event(event: ConsentEvent) -> str:
    """ "Unsubscribed (opted out) on 2026-11-03 via email link: Unsubscribe link" — for people."""
    status = SubscriptionStatus(event.to_status).label
    if event.to_reason:
        status += f" ({UnsubscribeReason(event.to_reason).label.lower()})"
    text = f"{status} on {event.occurred_at:%Y-%m-%d} via {ConsentSource(event.source).label.lower()}"
    if event.original_at:
        text += f" (the previous platform's date: {event.original_at:%Y-%m-%d})"
    if event.form_id:
        text += f" “{event.form.name}”"
    if event.actor_user_id:
        text += f" by {event.actor_user.email}"
    elif event.actor_api_key_id:
        text += f" by API key “{event.actor_api_key.name}”"
    return f"{text}: {event.note}" if event.note else text


def personal_data(contact: Contact) -> dict:
    """Everything the site holds about the contact, for an access request: their profile, tags,
    consent history, form submissions and providers' delivery reports, then what the rooms above
    hold (creatorhub.personal_data: accesses, purchases, emails, activity)."""
    return {
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "name": contact.name,
            "fields": contact.fields,
            "subscription_status": contact.subscription_status,
            "unsubscribe_reason": contact.unsubscribe_reason,
            "is_customer": contact.is_customer,
            "origin": contact.origin,
            "created_at": contact.created_at,
            "last_activity_at": contact.last_activity_at,
            "member_last_login_at": contact.member_last_login_at,
            "has_member_password": bool(contact.member_password),
        },
        "tags": sorted(tag.name for tag in contact.tags.all()),
        "consent_events": list(
            ConsentEvent.objects.filter(contact=contact)
            .order_by("occurred_at", "id")
            .values(
                "occurred_at",
                "from_status",
                "from_reason",
                "to_status",
                "to_reason",
                "source",
                "note",
                "ip",
                "user_agent",
            )
        ),
        "form_submissions": list(
            FormSubmission.objects.filter(contact=contact)
            .order_by("submitted_at", "id")
            .values("form__name", "submitted_at", "ip", "user_agent")
        ),
        "delivery_events": list(
            DeliveryEvent.objects.filter(contact=contact)
            .order_by("received_at", "id")
            .values("provider", "event_type", "recipient", "description", "occurred_at", "received_at")
        ),
        **export_of(contact),
    }
