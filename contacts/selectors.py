"""Reads of the contacts app that are more than a filter."""

from collections import defaultdict
from functools import cache

from django.apps import apps
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    ContactTag,
    DeliveryEvent,
    FormSubmission,
    SubscriptionStatus,
    Tag,
    UnsubscribeReason,
)
from creatorhub.explanations import extra_explanations
from creatorhub.personal_data import export_of


def with_tags_and_offers(contacts: QuerySet, *, offers: bool = True) -> QuerySet:
    """A page's contacts with their tag names, by name (`tag_names`), and the ids of the offers they
    hold (`offer_ids`: live accesses, the offers room's table read as the segment compiler reads it).

    On PostgreSQL they come as arrays in the page's own query: fifty index probes in it cost less than
    planning two more queries, and the subqueries are written out because building them with the ORM
    for every page cost more than running them. Elsewhere the query is unchanged and
    `read_tags_and_offers` reads them after it, one query each.
    """
    if connections[contacts.db].vendor != "postgresql":
        return contacts
    tag_names, offer_ids = _arrays()
    contacts = contacts.annotate(tag_names=RawSQL(tag_names, ()))  # noqa: S611 (constant SQL)
    return contacts.annotate(offer_ids=RawSQL(offer_ids, ())) if offers else contacts  # noqa: S611


def _array_of(column: str, table: str, *, join: str = "", where: str = "", order: str) -> str:
    """ARRAY(...) of `column` of the rows of `table` (as `x`) that belong to the outer query's contact."""
    contacts = Contact._meta.db_table
    # Table and column names of this module, no input:
    return (
        f"ARRAY(SELECT {column} FROM {table} x {join} WHERE x.site_id = {contacts}.site_id "  # noqa: S608
        f"AND x.contact_id = {contacts}.id {where} ORDER BY {order})"
    )


@cache
def _arrays() -> tuple[str, str]:
    """The subqueries of the tag names and of the offers held (live accesses)."""
    tag_names = _array_of(
        "t.name",
        ContactTag._meta.db_table,
        join=f"JOIN {Tag._meta.db_table} t ON t.site_id = x.site_id AND t.id = x.tag_id",
        order="t.name, t.id",
    )
    offer_ids = _array_of(
        "x.offer_id", _accesses().model._meta.db_table, where="AND x.revoked_at IS NULL", order="x.offer_id"
    )
    return tag_names, offer_ids


def read_tags_and_offers(contacts: list[Contact], *, offers: bool = True) -> None:
    """Sets what `with_tags_and_offers` did not read with the contacts: one query each for the page."""
    first = contacts[0] if contacts else None
    read_tags = first is not None and not hasattr(first, "tag_names")
    read_offers = offers and first is not None and not hasattr(first, "offer_ids")
    ids = [contact.pk for contact in contacts]
    tags, held = defaultdict(list), defaultdict(list)
    if read_tags:
        named = ContactTag.objects.filter(contact_id__in=ids).order_by("tag__name", "tag_id")
        for pk, name in named.values_list("contact_id", "tag__name"):
            tags[pk].append(name)
    if read_offers:
        live = _accesses().filter(contact_id__in=ids, revoked_at=None).order_by("offer_id")
        for pk, offer_id in live.values_list("contact_id", "offer_id"):
            held[pk].append(offer_id)
    for contact in contacts:
        if read_tags:
            contact.tag_names = tags[contact.pk]
        if read_offers:
            contact.offer_ids = held[contact.pk]


def _accesses():
    return apps.get_model("offers", "Access").objects


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


def explain(contact: Contact) -> dict:
    """Why the contact is or is not a subscriber and a customer, each with the record that decided it;
    and what the apps above add through creatorhub.explanations (the usage app: "active_customer")."""
    cause = status_cause(contact)
    if cause is not None:
        subscriber_reason = describe_consent_event(cause)
        subscriber_record = {"type": "consent_event", "id": cause.pk}
    else:
        subscriber_reason = (
            f"{SubscriptionStatus(contact.subscription_status).label} since the contact was "
            f"added ({ContactOrigin(contact.origin).label.lower()})."
        )
        subscriber_record = {"type": "contact", "id": contact.pk}
    customer_reason, customer_record = _customer_cause(contact)
    return {
        "subscriber": {
            "value": contact.is_subscriber,
            "reason": subscriber_reason,
            "record": subscriber_record,
        },
        "customer": {
            "value": contact.is_customer,
            "reason": customer_reason,
            "record": customer_record,
        },
        **extra_explanations(contact),
    }


def _customer_cause(contact: Contact) -> tuple[str, dict]:
    """The access that makes the contact a customer, or the revoke that ended the last one. Offer
    accesses are read through the reverse relation `accesses` (the offers app's), as the segment
    compiler reads them: the one place where this room looks up."""
    accesses = sorted(contact.accesses.all(), key=lambda a: (a.created_at, a.pk), reverse=True)
    live = [a for a in accesses if a.revoked_at is None]
    if live:
        access = live[-1]
        return (
            f"Holds “{access.offer.title}” since {access.created_at:%Y-%m-%d} "
            f"({access.get_source_display().lower()}).",
            {"type": "access", "id": access.pk},
        )
    if accesses:
        last = max(accesses, key=lambda a: a.revoked_at)
        return (
            f"Held “{last.offer.title}” until it was revoked on {last.revoked_at:%Y-%m-%d}; "
            "holds no offer now.",
            {"type": "access", "id": last.pk},
        )
    return "Holds no offer: never bought nor was granted one.", {"type": "contact", "id": contact.pk}


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
