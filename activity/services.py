"""Writes of the activity app: recording what contacts did, the daily usage and the overage cases."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activity.models import (
    NOT_ACTIVITY,
    ActivityEvent,
    OverageCase,
    OverageCaseEntry,
    OverageOutcome,
    OverageStatus,
    UsageSnapshot,
)
from activity.selectors import LAST_ACTIVITY_STEP, active_customers_on, today_of
from contacts.models import Contact
from creatorhub.errors import DomainError
from creatorhub.models import Site
from creatorhub.tenancy import site_scope

logger = logging.getLogger(__name__)


class ActivityError(DomainError):
    pass


@dataclass(frozen=True)
class NewEvent:
    contact: Contact
    kind: str
    occurred_at: datetime
    details: dict = field(default_factory=dict)
    external_id: str = ""


@transaction.atomic
def record_events(site: Site, events: list[NewEvent]) -> int:
    """The single entry for activity: writes the events (a repeated `external_id` is ignored) and
    advances each contact's `last_activity_at`. Returns how many events were new."""
    for event in events:
        if event.contact.site_id != site.pk:
            raise ActivityError("That contact belongs to another site.")
    rows = [
        ActivityEvent(
            site=site,
            contact=e.contact,
            kind=e.kind,
            occurred_at=e.occurred_at,
            details=e.details,
            external_id=e.external_id,
        )
        for e in events
    ]
    before = ActivityEvent.objects.filter(
        external_id__in=[e.external_id for e in events if e.external_id]
    ).count()
    ActivityEvent.objects.bulk_create(rows, ignore_conflicts=True)
    latest: dict[int, datetime] = {}
    for event in events:
        if event.kind not in NOT_ACTIVITY:
            latest[event.contact.pk] = max(latest.get(event.contact.pk, event.occurred_at), event.occurred_at)
    _advance_last_activity(latest)
    with_ids = [e for e in events if e.external_id]
    after = ActivityEvent.objects.filter(external_id__in=[e.external_id for e in with_ids]).count()
    return len(events) - len(with_ids) + (after - before)


def _advance_last_activity(latest: dict[int, datetime]) -> None:
    now = timezone.now()
    for contact_id, moment in latest.items():
        moment = min(moment, now)  # an event stamped in the future does not move the clock ahead
        Contact.objects.filter(pk=contact_id).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=moment - LAST_ACTIVITY_STEP)
        ).update(last_activity_at=moment)


def record_one(site: Site, *, contact: Contact, kind: str, occurred_at=None, details=None) -> None:
    """What the lower rooms call through creatorhub.events when a contact does something."""
    record_events(
        site,
        [
            NewEvent(
                contact=contact, kind=kind, occurred_at=occurred_at or timezone.now(), details=details or {}
            )
        ],
    )


@transaction.atomic
def compute_usage(site: Site, *, day: date) -> UsageSnapshot:
    """The site's usage on `day`: stored once per site and day (a re-run updates it), compared with the
    plan, and an overage case opened or updated when the site is over its limit. Never blocks anything."""
    plan = site.plan
    active = active_customers_on(site, day)
    snapshot, _ = UsageSnapshot.objects.update_or_create(
        site=site,
        day=day,
        defaults={
            "active_customers": active,
            "customers": Contact.objects.filter(is_customer=True).count(),
            "contacts": Contact.objects.count(),
            "active_customer_limit": plan.active_customer_limit,
            "contact_limit": plan.contact_limit,
            "computed_at": timezone.now(),
        },
    )
    _follow_overage(site, snapshot)
    return snapshot


def _follow_overage(site: Site, snapshot: UsageSnapshot) -> None:
    case = OverageCase.objects.select_for_update().exclude(status=OverageStatus.RESOLVED).first()
    over = snapshot.active_customers > snapshot.active_customer_limit
    figures = (
        f"{snapshot.active_customers:,} active customers against a limit of "
        f"{snapshot.active_customer_limit:,}"
    )
    opened = f"Opened on {snapshot.day}: {figures}."
    if case is None:
        if over:
            case = OverageCase.objects.create(
                site=site,
                opened_on=snapshot.day,
                last_over_on=snapshot.day,
                active_customers=snapshot.active_customers,
                peak_active_customers=snapshot.active_customers,
                active_customer_limit=snapshot.active_customer_limit,
            )
            OverageCaseEntry.objects.create(
                site=site,
                case=case,
                text=opened,
                to_status=OverageStatus.OPEN,
            )
        return
    case.active_customers = snapshot.active_customers
    case.active_customer_limit = snapshot.active_customer_limit
    case.peak_active_customers = max(case.peak_active_customers, snapshot.active_customers)
    if over:
        case.last_over_on = max(case.last_over_on, snapshot.day)
    case.save()
    note = f"{snapshot.day}: {figures}." if over else f"{snapshot.day}: back under the limit ({figures})."
    # A re-run of a day adds nothing, the day the case was opened included.
    if not case.entries.filter(author=None, text__in=[note, opened]).exists():
        OverageCaseEntry.objects.create(site=site, case=case, text=note)


@transaction.atomic
def change_case(
    site: Site,
    *,
    case: OverageCase,
    author,
    status: str | None = None,
    outcome: str = "",
    note: str = "",
    assignee=None,
) -> OverageCase:
    """Support's work on a case: a note, a status change (resolved needs an outcome), an assignee."""
    if case.site_id != site.pk:
        raise ActivityError("That case belongs to another site.")
    case = OverageCase.objects.select_for_update().get(pk=case.pk)
    if status == OverageStatus.RESOLVED and outcome not in OverageOutcome.values:
        raise ActivityError(
            "Say how the case was resolved: upgraded, allowance or back_under.", field="outcome"
        )
    if status and status not in OverageStatus.values:
        raise ActivityError("The status is open, contacted or resolved.", field="status")
    if not (status or note.strip() or assignee is not None):
        raise ActivityError("Give a note, a status or an assignee.", field="note")
    changed = status and status != case.status
    if changed:
        text = note.strip() or f"Status: {OverageStatus(status).label}"
        OverageCaseEntry.objects.create(
            site=site, case=case, author=author, text=text, from_status=case.status, to_status=status
        )
        case.status = status
        case.outcome = outcome if status == OverageStatus.RESOLVED else ""
        case.resolved_at = timezone.now() if status == OverageStatus.RESOLVED else None
    elif note.strip():
        OverageCaseEntry.objects.create(site=site, case=case, author=author, text=note.strip())
    if assignee is not None:
        case.assignee = assignee
    case.save()
    return case


def compute_all_usage(*, day: date | None = None, only_missing: bool = False) -> dict:
    """The nightly run: every site's usage, each site in its own transaction and scope, so a crash
    loses at most one site's work and a re-run (`only_missing` to resume) never duplicates a day.
    Without `day`, each site gets the last day that has ended in its own time zone.

    Audited platform-wide work: it lists every site, then works inside each one's scope.
    """
    done = skipped = failed = 0
    for site in Site.objects.select_related("plan").order_by("pk").iterator():
        site_day = day or today_of(site) - timedelta(days=1)
        with site_scope(site):
            if only_missing and UsageSnapshot.objects.filter(day=site_day).exists():
                skipped += 1
                continue
            try:
                compute_usage(site, day=site_day)
            except Exception:  # one site's failure must not stop the others
                logger.exception("Usage of site %s on %s failed", site.slug, site_day)
                failed += 1
            else:
                done += 1
    return {"computed": done, "skipped": skipped, "failed": failed}
