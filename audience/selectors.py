"""Reads of the audience: a page of contacts with what the tab shows of each, and a contact's "why"."""

from collections import defaultdict
from functools import cache

from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL

from contacts.models import Contact, ContactOrigin, ContactTag, SubscriptionStatus, Tag
from contacts.selectors import describe_consent_event, status_cause
from creatorhub.compiled import STAND_IN_ID, built
from offers.models import Access
from usage.selectors.active_customers import active_customers_today, explain_activity


def with_tags_and_offers(contacts: QuerySet, *, offers: bool = True) -> QuerySet:
    """A page's contacts with their tag names, by name (`tag_names`), and the ids of the offers they
    hold (`offer_ids`: live accesses, the offers room's table read as the segment compiler reads it).

    On PostgreSQL they come as arrays in the page's own query (for the contacts benchmark's tab and API
    pages): fifty index probes in it cost less than planning two more queries, and the subqueries are
    written out because building them with the ORM for every page cost more than running them.
    Elsewhere the query is unchanged and
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
        "x.offer_id", Access._meta.db_table, where="AND x.revoked_at IS NULL", order="x.offer_id"
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
        live = Access.objects.filter(contact_id__in=ids, revoked_at=None).order_by("offer_id")
        for pk, offer_id in live.values_list("contact_id", "offer_id"):
            held[pk].append(offer_id)
    for contact in contacts:
        if read_tags:
            contact.tag_names = tags[contact.pk]
        if read_offers:
            contact.offer_ids = held[contact.pk]


def with_active_customer_flag(site, contacts: QuerySet) -> QuerySet:
    """The contacts with `is_active_customer` (today, in the site's time zone) read in their own query:
    for a contact shown alone."""
    flag = ExpressionWrapper(active_customers_today(site), output_field=BooleanField())
    return contacts.annotate(is_active_customer=flag)


def read_active_customer_flags(site, contacts: list[Contact]) -> None:
    """Sets `is_active_customer` on a page of contacts read without it, in one query over their ids.
    Not in the page's own query: there PostgreSQL plans the rule's subqueries for every row the index
    could give rather than the page's, and may hash them over the whole site.

    The query is built once per site and day (creatorhub.compiled; the contacts benchmark's API pages
    need it). PostgreSQL takes the page's ids as one array parameter, so that psycopg, which keeps a
    parsed query with at most 50 parameters, parses it once; SQLite, which has no arrays, takes one
    parameter an id."""
    if not contacts or hasattr(contacts[0], "is_active_customer"):
        return
    ids = [contact.pk for contact in contacts]
    connection = connections[Contact._default_manager.db]
    one_array = connection.vendor == "postgresql"
    stand_ins = [[STAND_IN_ID]] if one_array else [STAND_IN_ID - n for n in range(len(ids))]
    query = built(
        ("active-customer-flags", site.pk, connection.alias, site.time_zone, site.today(), len(stand_ins)),
        lambda: _flag_rows(site, connection, stand_ins),
        stand_ins,
    )
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params_with([ids] if one_array else ids))
        active = {pk for pk, flag in cursor.fetchall() if flag}
    for contact in contacts:  # a contact deleted since the page was read is not active
        contact.is_active_customer = contact.pk in active


def _flag_rows(site, connection, stand_ins: list) -> QuerySet:
    """(id, is_active_customer) of the contacts whose ids are `stand_ins` (one array on PostgreSQL)."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        pk = f"{quote(Contact._meta.db_table)}.{quote(Contact._meta.pk.column)}"
        ids = RawSQL(f"{pk} = ANY(%s)", stand_ins, output_field=BooleanField())  # noqa: S611 (model's names)
    else:
        ids = Q(pk__in=stand_ins)
    flagged = with_active_customer_flag(site, Contact.objects.filter(ids))
    return flagged.values_list("pk", "is_active_customer")


def explain(contact: Contact) -> dict:
    """Why the contact is or is not a subscriber, a customer and an active customer today, each with the
    record that decided it."""
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
        "active_customer": explain_activity(contact),
    }


def _customer_cause(contact: Contact) -> tuple[str, dict]:
    """The access that makes the contact a customer, or the revoke that ended the last one."""
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
