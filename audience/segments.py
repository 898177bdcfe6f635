"""Segments: filters kept as data and compiled to one query on Contact.

A segment's filters are JSON: `{"all": [item, …]}`, where the items must all match and each item is a
filter or an OR group `{"any": [filter, …]}`. A filter is `{"field", "op", "value"}`:

| field             | op                          | value                                           |
|-------------------|-----------------------------|-------------------------------------------------|
| `status`          | `is`, `is_not`              | a subscription status; `reason` with unsubscribed |
| `customer`        | `is`                        | true / false                                    |
| `active_customer` | `is`                        | true / false (today in the site's zone) |
| `offer`           | `has`, `has_not`            | an offer id                                     |
| `tag`             | `has`, `has_not`            | a tag id                                        |
| `form`            | `submitted`, `not_submitted`| a form id                                       |
| `added`           | `before`, `after`           | a day: "YYYY-MM-DD", or a number of days ago    |
| `last_activity`   | `before`, `after`, `never`  | a day, as for `added` (none for `never`)        |
| `search`          | `contains`                  | text in the name or the email                   |

Days are calendar days in the site's time zone: `before` a day is earlier than its first moment,
`after` a day is later than its last. The same compiled query serves the Contacts tab, the API, bulk
actions, grants and exports. It reads the rooms below it directly: contacts' tables, offers' accesses
and usage's active-customer rule.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from contacts.counts import count_generation
from contacts.errors import SegmentError
from contacts.models import (
    DEFAULT_SEGMENTS,
    Contact,
    ContactCount,
    ContactTag,
    Form,
    FormSubmission,
    Segment,
    SubscriptionStatus,
    Tag,
    UnsubscribeReason,
)
from creatorhub.compiled import built
from creatorhub.models import Site
from offers.models import Access, Offer
from usage.selectors.active_customers import active_customers_today

MAX_ITEMS = 20
MAX_SEARCH = 200

# Each field: its label and, per operator, how it reads ("has tag", "added before").
FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "status": ("Subscription status", {"is": "is", "is_not": "is not"}),
    "customer": ("Customer", {"is": "is"}),
    "active_customer": ("Active customer", {"is": "is"}),
    "offer": ("Offer", {"has": "has", "has_not": "does not have"}),
    "tag": ("Tag", {"has": "has", "has_not": "does not have"}),
    "form": ("Form", {"submitted": "submitted", "not_submitted": "did not submit"}),
    "added": ("Added", {"before": "before", "after": "after"}),
    "last_activity": ("Last activity", {"before": "before", "after": "after", "never": "never"}),
    "search": ("Name or email", {"contains": "contains"}),
}


@dataclass(frozen=True)
class ResolvedSegment:
    """A default segment or a saved one, as the Contacts tab and the API address it: by key. Its filters
    are clean: the defaults' as written, a saved one's since it was saved (contacts.services), so that
    using one reads no table; a tag, offer or form deleted since simply matches nobody."""

    key: str  # "all", "customers", "subscribed" or a saved segment's id
    name: str
    filters: dict
    saved: Segment | None = None

    @classmethod
    def of(cls, saved: Segment) -> "ResolvedSegment":
        return cls(str(saved.pk), saved.name, saved.filters, saved)


def resolve(key: str) -> ResolvedSegment:
    """The segment of `key` on the site in scope; an unknown key or another site's id is an error."""
    key = str(key).strip()
    if key in DEFAULT_SEGMENTS:
        default = DEFAULT_SEGMENTS[key]
        return ResolvedSegment(default.key, default.name, default.filters)
    unknown = SegmentError(f"No segment {key!r} on this site.", field="segment")
    if not (key.isascii() and key.isdigit()):
        raise unknown
    try:  # get(): nothing to order (every page of a saved segment makes this query)
        return ResolvedSegment.of(Segment.objects.get(pk=int(key)))
    except Segment.DoesNotExist:
        raise unknown from None


# -- Validation -----------------------------------------------------------------------------------------


def clean(site: Site, filters) -> dict:
    """The filters, checked and normalised (ids as ints, days as ISO text); a SegmentError names the
    first filter that is wrong ("Filter 2.1: …" is the first filter of the second item's OR group)."""
    if not isinstance(filters, dict) or set(filters) != {"all"} or not isinstance(filters["all"], list):
        raise SegmentError('Filters are an object {"all": [filter, …]}.', field="filters")
    items = filters["all"]
    if len(items) > MAX_ITEMS:
        raise SegmentError(f"At most {MAX_ITEMS} filters.", field="filters")
    cleaned = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict) and "any" in item:
            if set(item) != {"any"}:
                raise SegmentError(
                    f'Filter {n}: an OR group is an object {{"any": [filter, …]}} and nothing else.',
                    field="filters",
                )
            group = item["any"]
            if not isinstance(group, list) or not group or len(group) > MAX_ITEMS:
                raise SegmentError(
                    f"Filter {n}: an OR group lists 1 to {MAX_ITEMS} filters.", field="filters"
                )
            cleaned.append({"any": [_clean_filter(site, f, f"{n}.{m}") for m, f in enumerate(group, 1)]})
        else:
            cleaned.append(_clean_filter(site, item, str(n)))
    return {"all": cleaned}


def _clean_filter(site: Site, item, where: str) -> dict:
    def refuse(message: str):
        raise SegmentError(f"Filter {where}: {message}", field="filters")

    if not isinstance(item, dict):
        refuse('give an object {"field", "op", "value"}.')
    field, op = item.get("field"), item.get("op")
    if not isinstance(field, str) or field not in FIELDS:
        refuse(f"unknown field {field!r}; use one of {', '.join(FIELDS)}.")
    label, ops = FIELDS[field]
    if not isinstance(op, str) or op not in ops:
        refuse(f"{label.lower()} takes the operator {' or '.join(map(repr, ops))}, not {op!r}.")
    allowed = {"field", "op", "value", "reason"} if field == "status" else {"field", "op", "value"}
    if set(item) - allowed:
        refuse(f"unexpected key {sorted(set(item) - allowed)[0]!r}.")
    value = item.get("value")
    cleaned = {"field": field, "op": op}
    if field == "status":
        if value not in SubscriptionStatus.values:
            refuse(f"the status is one of {', '.join(SubscriptionStatus.values)}.")
        reason = item.get("reason")
        if reason is not None:
            if value != SubscriptionStatus.UNSUBSCRIBED or reason not in UnsubscribeReason.values:
                refuse(
                    f"a reason goes with unsubscribed and is one of {', '.join(UnsubscribeReason.values)}."
                )
            cleaned["reason"] = reason
        cleaned["value"] = value
    elif field in ("customer", "active_customer"):
        if not isinstance(value, bool):
            refuse("the value is true or false.")
        cleaned["value"] = value
    elif field in ("offer", "tag", "form"):
        cleaned["value"] = _own_id(site, field, value, refuse)
    elif field in ("added", "last_activity"):
        if op != "never":
            cleaned["value"] = _day_value(value, refuse)
    else:  # search
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SEARCH or "\x00" in value:
            refuse(f"search for 1 to {MAX_SEARCH} characters.")
        cleaned["value"] = value.strip()
    return cleaned


def _own_id(site: Site, field: str, value, refuse) -> int:
    model = {"offer": Offer, "tag": Tag, "form": Form}[field]
    if isinstance(value, bool) or not isinstance(value, int | str) or not re.fullmatch(r"[0-9]+", str(value)):
        refuse(f"give the {field}'s id.")
    if not model.objects.filter(site=site, pk=int(value)).exists():
        refuse(f"no {field} with id {value} on this site.")
    return int(value)


def _day_value(value, refuse) -> str | int:
    """A day as "YYYY-MM-DD", or a whole number of days ago (0 is today), kept relative."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 36500:
            refuse("a number of days ago is between 0 and 36,500.")
        return value
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        refuse('give a day as "YYYY-MM-DD" or a number of days ago.')
    if not date(1, 1, 2) <= day <= date(9999, 12, 30):  # its bounds must exist in every time zone
        refuse("give a day between 0001-01-02 and 9999-12-30.")
    return day.isoformat()


# -- Compiling ------------------------------------------------------------------------------------------


def condition(site: Site, filters: dict) -> Q:
    """The Q on Contact of cleaned `filters`: AND of the items, OR inside a group. What it compiles to
    depends on the site, the filters and the site's day (its time zone and today), and on nothing else:
    the contacts API builds a page's SQL once for each (creatorhub.api.pagination.SameShape)."""
    compiled = Q()
    for item in filters["all"]:
        if "any" in item:
            group = Q()
            for f in item["any"]:
                group |= _compile(site, f)
            compiled &= group
        else:
            compiled &= _compile(site, item)
    return compiled


def _compile(site: Site, f: dict) -> Q:
    field, op, value = f["field"], f["op"], f.get("value")
    negate = op in ("is_not", "has_not", "not_submitted")
    if field == "status":
        q = Q(subscription_status=value)
        if "reason" in f:
            q &= Q(unsubscribe_reason=f["reason"])
    elif field == "customer":
        q = Q(is_customer=value)
    elif field == "active_customer":
        q = active_customers_today(site)
        negate = not value
    elif field == "offer":
        q = Q(
            Exists(
                Access.objects.filter(
                    site=OuterRef("site"), contact=OuterRef("pk"), offer_id=value, revoked_at__isnull=True
                )
            )
        )
    elif field == "tag":
        q = Q(Exists(ContactTag.objects.filter(site=OuterRef("site"), contact=OuterRef("pk"), tag_id=value)))
    elif field == "form":
        q = Q(
            Exists(
                FormSubmission.objects.filter(site=OuterRef("site"), contact=OuterRef("pk"), form_id=value)
            )
        )
    elif field == "search":
        q = Q(email__icontains=value) | Q(name__icontains=value)
    else:  # added, last_activity
        column = "created_at" if field == "added" else "last_activity_at"
        if op == "never":
            return Q(last_activity_at__isnull=True)
        start, end = _day_bounds(site, value)
        q = Q(**{f"{column}__lt": start}) if op == "before" else Q(**{f"{column}__gte": end})
    return ~q if negate else q


def _day_bounds(site: Site, value: str | int) -> tuple[datetime, datetime]:
    """The first moment of the day and of the day after, in the site's time zone."""
    zone = ZoneInfo(site.time_zone)
    day = site.today() - timedelta(days=value) if isinstance(value, int) else date.fromisoformat(value)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def matching(site: Site, *, filters: dict, search: str = "") -> QuerySet[Contact]:
    """The contacts that cleaned `filters` match, narrowed by the Contacts tab's search box."""
    contacts = Contact.objects.filter(site=site).filter(condition(site, filters))
    search = search.replace("\x00", "").strip()[:MAX_SEARCH]  # PostgreSQL text holds no NUL
    if search:
        contacts = contacts.filter(_compile(site, {"field": "search", "op": "contains", "value": search}))
    return contacts


# -- Counts ---------------------------------------------------------------------------------------------
# A filter of statuses and the customer flag only (All, Customers, Subscribed, the bounced and complained)
# is counted from the counters (ContactCount), which are exact at every view and cost a few rows. Any
# other count of a million contacts is costly on PostgreSQL (docs/performance.md), so it is cached per
# site, filters and search for SEGMENT_COUNT_SECONDS. The services call contacts.counts.contacts_changed
# for every change; the team's own changes (dashboard pages, the API in a team member's session, the jobs they
# start, imports) start a new generation of the site's cached counts at once. Others — an integration's
# purchases and API calls, public forms, webhooks — and the passing of time for day filters show within
# the cache's lifetime: on a busy store they would make nearly every view of the tab count again. Where
# such a number must be exact — the count confirmed before deleting, a job's total —
# `matching(...).count()` is used.

COUNTED_FIELDS = frozenset({"status", "customer"})  # the columns of ContactCount


def count(site: Site, *, filters: dict, search: str = "") -> int:
    return counts(site, [(filters, search)])[0]


def counts(site: Site, wanted: list[tuple[dict, str]]) -> list[int]:
    """The count of each (filters, search) of `wanted`: those the counters serve in one query, the
    cached ones read from the cache at once (a tab shows six), the others counted and cached."""
    found = _counted(
        site, {n: filters for n, (filters, search) in enumerate(wanted) if _countable(filters, search)}
    )
    cached = {n: w for n, w in enumerate(wanted) if n not in found}
    if cached:
        generation = count_generation(site)
        keys = {
            n: f"segment-count:{site.pk}:{generation}:"
            + hashlib.sha256(json.dumps([filters, search.strip()], sort_keys=True).encode()).hexdigest()
            for n, (filters, search) in cached.items()
        }
        in_cache = cache.get_many(list(keys.values()))
        for n, (filters, search) in cached.items():
            if keys[n] not in in_cache:
                in_cache[keys[n]] = matching(site, filters=filters, search=search).count()
                cache.set(keys[n], in_cache[keys[n]], settings.SEGMENT_COUNT_SECONDS)
            found[n] = in_cache[keys[n]]
    return [found[n] for n in range(len(wanted))]


def _countable(filters: dict, search: str) -> bool:
    return not search.strip() and all(
        f["field"] in COUNTED_FIELDS for item in filters["all"] for f in item.get("any", [item])
    )


def _counted(site: Site, filters: dict[int, dict]) -> dict[int, int]:
    """The counts of `filters` (each of COUNTED_FIELDS only), by key: the compiled filters match the
    counters' rows as they match contacts, since the counters have the same columns."""
    if not filters:
        return {}
    # Built once per site and filters (creatorhub.compiled): every view of the tab reads these counts, and
    # building their query cost the ORM more than PostgreSQL takes to run it (the contacts benchmark,
    # "Tab first view after a change").
    sums = built(
        ("segment-counters", site.pk, json.dumps(filters, sort_keys=True)),
        lambda: (
            ContactCount.objects.filter(site=site)
            .values("site")
            .annotate(**{f"n{n}": Sum("contacts", filter=condition(site, f)) for n, f in filters.items()})
        ),
        [],
    ).values()
    return {n: int(sums[0][f"n{n}"] or 0) if sums else 0 for n in filters}  # PostgreSQL's sums: numerics


# -- Words ----------------------------------------------------------------------------------------------


def describe(filters: dict) -> list[str]:
    """One phrase per item of cleaned `filters`, for people: "Tag has “VIP”", "Added after 2026-01-01"."""
    return [
        " or ".join(_phrase(f) for f in item["any"]) if "any" in item else _phrase(item)
        for item in filters["all"]
    ]


def _phrase(f: dict) -> str:
    label, ops = FIELDS[f["field"]]
    value = f.get("value")
    if f["field"] == "status":
        shown = SubscriptionStatus(value).label.lower()
        if "reason" in f:
            shown += f" ({UnsubscribeReason(f['reason']).label.lower()})"
    elif isinstance(value, bool):
        shown = "yes" if value else "no"
    elif f["field"] in ("offer", "tag", "form"):
        model = {"offer": Offer, "tag": Tag, "form": Form}[f["field"]]
        found = model.objects.filter(pk=value).first()
        shown = f"“{found}”" if found else f"#{value} (deleted)"
    elif f["field"] in ("added", "last_activity") and isinstance(value, int):
        shown = "today" if value == 0 else f"{value} day{'s' if value != 1 else ''} ago"
    elif f["op"] == "never":
        return f"{label}: never"
    else:
        shown = f"“{value}”" if f["field"] == "search" else str(value)
    return f"{label} {ops[f['op']]} {shown}"
