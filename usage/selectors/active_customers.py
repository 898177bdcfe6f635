"""Who is an active customer — one rule, used by the nightly count, the contact page, the
API flag and the segment filter — and the counts the nightly run reads.

An active customer on a day D is a customer with at least one activity event in (D - 30 days, D]:
D is a calendar day in the site's time zone, and the window ends when that day ends.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from activity.models import NOT_ACTIVITY, ActivityEvent
from activity.selectors import LAST_ACTIVITY_STEP
from contacts.models import Contact
from creatorhub.models import Site
from creatorhub.tenancy import platform_wide
from offers.models import Access, AccessSource, Purchase

WINDOW = timedelta(days=30)


def window_of(site: Site, day: date) -> tuple[datetime, datetime]:
    """(start, end] of the 30 days ending with `day`, in the site's time zone."""
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(site.time_zone))
    return end - WINDOW, end


def _customers_at(moment: datetime) -> Q:
    """Contacts holding a live access at `moment` (not `is_customer`, which is only about now)."""
    live = Access.objects.filter(
        site=OuterRef("site"), contact=OuterRef("pk"), created_at__lte=moment
    ).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=moment))
    return Q(Exists(live))


def active_customer_condition(start: datetime, end: datetime) -> Q:
    """The rule on Contact, for the window (start, end]: a live access at the end and an activity event
    in the window. The one place it is written, for one site or all of them. Contacts whose
    `last_activity_at` is older than the window (less the step it may lag behind) are left out before
    the events are looked at; a `last_activity_at` inside the window is no proof (it is the recording
    time of an event stamped ahead of it), so the events still decide. Lookups match `site` too, for
    the indexes that start with it. Build it inside a scope or `platform_wide()`."""
    in_window = ActivityEvent.objects.filter(
        site=OuterRef("site"), contact=OuterRef("pk"), occurred_at__gt=start, occurred_at__lte=end
    ).exclude(kind__in=NOT_ACTIVITY)
    return Q(last_activity_at__gt=start - LAST_ACTIVITY_STEP) & _customers_at(end) & Q(Exists(in_window))


def active_customers_today(site: Site) -> Q:
    """Today's active customers of the site, in its time zone, as a condition on each contact (EXISTS on
    its accesses and events): the segment filter "active customer" and the contacts API's flag
    `is_active_customer`. (Written `pk IN (the site's active customers)`, a page of the contacts who are
    not would read every active customer of the site.)"""
    return active_customer_condition(*window_of(site, site.today()))


def active_customers(site: Site, day: date) -> QuerySet[Contact]:
    """The site's active customers on `day`, exactly."""
    return Contact.objects.filter(site=site).filter(active_customer_condition(*window_of(site, day)))


def active_customers_on(site: Site, day: date) -> int:
    return active_customers(site, day).count()


@dataclass(frozen=True)
class DayUsage:
    """A site's figures on a day, as they stand when the day ends in its time zone."""

    active_customers: int
    customers: int
    contacts: int
    purchases: int  # of the day itself
    grants: int


def usage_by_site(site_days: Iterable[tuple[Site, date]]) -> dict[int, DayUsage]:
    """{site id: its usage on its day} for many sites at once: the nightly run's reads. Sites whose days
    end at the same instant (same window, whatever the zone's name) share one grouped count of each
    figure, so a night costs a few queries per window instead of a few per site.

    Audited platform-wide work: it reads every given site's contacts, accesses and events under
    `platform_wide()`, each query naming its sites and grouping by site.
    """
    groups: dict[tuple[datetime, datetime, datetime], list[int]] = defaultdict(list)
    for site, day in site_days:
        day_start = datetime.combine(day, time.min, tzinfo=ZoneInfo(site.time_zone))
        groups[(*window_of(site, day), day_start)].append(site.pk)
    usage = {}
    with platform_wide(f"nightly usage: counts of {sum(map(len, groups.values()))} sites"):
        for (start, end, day_start), site_ids in groups.items():
            contacts = Contact.objects.filter(site__in=site_ids)
            active = _count_by_site(contacts.filter(active_customer_condition(start, end)))
            customers = _count_by_site(contacts.filter(_customers_at(end)))
            everyone = _count_by_site(contacts.filter(created_at__lte=end))
            of_the_day = {"site__in": site_ids, "created_at__gte": day_start, "created_at__lt": end}
            purchases = _count_by_site(Purchase.objects.filter(**of_the_day))
            grants = _count_by_site(Access.objects.filter(source=AccessSource.GRANT, **of_the_day))
            for site_id in site_ids:
                usage[site_id] = DayUsage(
                    active_customers=active.get(site_id, 0),
                    customers=customers.get(site_id, 0),
                    contacts=everyone.get(site_id, 0),
                    purchases=purchases.get(site_id, 0),
                    grants=grants.get(site_id, 0),
                )
    return usage


def _count_by_site(rows: QuerySet) -> dict[int, int]:
    return dict(rows.order_by().values_list("site").annotate(Count("pk")))


def explain_activity(contact: Contact, day: date | None = None) -> dict:
    """Whether the contact is an active customer on `day` (today by default), with the event that
    decides it: the latest activity in the window."""
    site = contact.site
    day = day or site.today()
    start, end = window_of(site, day)
    latest = (
        ActivityEvent.objects.filter(contact=contact, occurred_at__gt=start, occurred_at__lte=end)
        .exclude(kind__in=NOT_ACTIVITY)
        .order_by("-occurred_at", "-id")
        .first()
    )
    is_customer = Contact.objects.filter(pk=contact.pk).filter(_customers_at(end)).exists()
    if not is_customer:
        reason = "Not a customer, so not an active customer."
    elif latest is None:
        reason = f"A customer with no activity in the 30 days ending {day:%Y-%m-%d}."
    else:
        reason = (
            f"A customer active in the 30 days ending {day:%Y-%m-%d}: "
            f"{latest.get_kind_display().lower()} on {latest.occurred_at:%Y-%m-%d %H:%M} UTC."
        )
    record = {"type": "activity_event", "id": latest.pk} if latest else {"type": "contact", "id": contact.pk}
    return {"value": is_customer and latest is not None, "reason": reason, "record": record}
