"""Writes of the usage app: each site's daily usage against its plan, the overage cases it opens, and
support's work on them."""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from creatorhub import audit
from creatorhub.errors import DomainError
from creatorhub.models import AuditAction, Site
from creatorhub.tenancy import platform_wide, site_scope
from usage.models import OverageCase, OverageCaseEntry, OverageOutcome, OverageStatus, UsageSnapshot
from usage.selectors.active_customers import DayUsage, usage_by_site

logger = logging.getLogger(__name__)

# Snapshots the nightly run writes per statement and transaction.
SNAPSHOT_BATCH = 500


class OverageError(DomainError):
    pass


@transaction.atomic
def compute_usage(site: Site, *, day: date) -> UsageSnapshot:
    """The site's usage on `day`: stored once per site and day (a re-run updates it), compared with the
    plan, and an overage case opened or updated when the site is over its limit. Never blocks anything."""
    return _store_with_overage(_snapshot(site, day, usage_by_site([(site, day)])[site.pk]))


def _snapshot(site: Site, day: date, usage: DayUsage) -> UsageSnapshot:
    return UsageSnapshot(
        site=site,
        day=day,
        active_customers=usage.active_customers,
        customers=usage.customers,
        contacts=usage.contacts,
        purchases=usage.purchases,
        grants=usage.grants,
        active_customer_limit=site.plan.active_customer_limit,
        contact_limit=site.plan.contact_limit,
        computed_at=timezone.now(),
    )


def _write_snapshots(snapshots: list[UsageSnapshot]) -> None:
    """Inserts the snapshots, or updates the ones of a site and day already stored (a re-run)."""
    UsageSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["site", "day"],
        update_fields=[
            "active_customers",
            "customers",
            "contacts",
            "purchases",
            "grants",
            "active_customer_limit",
            "contact_limit",
            "computed_at",
        ],
    )


def _store_with_overage(snapshot: UsageSnapshot) -> UsageSnapshot:
    """One site's snapshot and its overage case, together: if the case fails, the day stays missing
    (and `only_missing` computes it again)."""
    _write_snapshots([snapshot])
    _follow_overage(snapshot.site, snapshot)
    return snapshot


def _follow_overage(site: Site, snapshot: UsageSnapshot) -> None:
    case = OverageCase.objects.select_for_update().exclude(status=OverageStatus.RESOLVED).first()
    over = snapshot.active_customers > snapshot.active_customer_limit
    figures = ngettext(
        "%(active)s active customer against a limit of %(limit)s",
        "%(active)s active customers against a limit of %(limit)s",
        snapshot.active_customers,
    ) % {"active": f"{snapshot.active_customers:,}", "limit": f"{snapshot.active_customer_limit:,}"}
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
    # A backfill of an older day adds its entry and may raise the peak; the case's figures stay the latest.
    if not UsageSnapshot.objects.filter(site=site, day__gt=snapshot.day).exists():
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
    acting_user,
    status: str | None = None,
    outcome: str = "",
    note: str = "",
    assignee=None,
) -> OverageCase:
    """Support's work on a case: a note, a status change (resolved needs an outcome), an assignee."""
    if case.site_id != site.pk:
        raise OverageError("That case belongs to another site.")
    case = OverageCase.objects.select_for_update().get(pk=case.pk)
    if status == OverageStatus.RESOLVED and outcome not in OverageOutcome.values:
        raise OverageError(
            "Say how the case was resolved: upgraded, allowance or back_under.", field="outcome"
        )
    if status and status not in OverageStatus.values:
        raise OverageError("The status is open, contacted or resolved.", field="status")
    if not (status or note.strip() or assignee is not None):
        raise OverageError("Give a note, a status or an assignee.", field="note")
    changed = status and status != case.status
    before = {"status": case.status, "outcome": case.outcome, "assignee": case.assignee_id}
    if changed:
        text = note.strip() or f"Status: {OverageStatus(status).label}"
        OverageCaseEntry.objects.create(
            site=site, case=case, author=acting_user, text=text, from_status=case.status, to_status=status
        )
        case.status = status
        case.outcome = outcome if status == OverageStatus.RESOLVED else ""
        case.resolved_at = timezone.now() if status == OverageStatus.RESOLVED else None
    elif note.strip():
        OverageCaseEntry.objects.create(site=site, case=case, author=acting_user, text=note.strip())
    if assignee is not None:
        case.assignee = assignee
    case.save()
    after = {"status": case.status, "outcome": case.outcome, "assignee": case.assignee_id}
    changes = {key: {"old": before[key], "new": after[key]} for key in before if before[key] != after[key]}
    if note.strip():
        changes["note_added"] = True  # support's notes are theirs: the owner sees that one was added
    audit.record(
        site,
        AuditAction.SUPPORT_CASE_CHANGED,
        target=case,
        target_label=f"Overage case #{case.pk}",
        changes=changes,
        user=acting_user,
        support=True,
    )
    return case


def compute_all_usage(*, day: date | None = None, only_missing: bool = False) -> dict:
    """The nightly run: every site's usage, counted for all sites at once
    (usage.selectors.active_customers.usage_by_site) and stored in batches. Sites over their limit or
    with an unresolved case are stored one by one with their case, each in its own transaction and
    scope. A batch that fails is stored again site by site, so that one site's failure never stops the
    others; a re-run updates a day and `only_missing` resumes after a crash. Without `day`, each site
    gets the last day that has ended in its own time zone.

    Audited platform-wide work: it lists every site, its snapshots and its unresolved cases, and writes
    the batches, under `platform_wide()`.
    """
    with platform_wide("nightly usage: sites, snapshots and open cases"):
        sites = list(Site.objects.select_related("plan").order_by("pk"))
        days = {site.pk: day or site.today() - timedelta(days=1) for site in sites}
        stored = set()
        if only_missing:
            stored = set(UsageSnapshot.objects.filter(day__in=set(days.values())).values_list("site", "day"))
        with_case = set(
            OverageCase.objects.exclude(status=OverageStatus.RESOLVED).values_list("site", flat=True)
        )
    to_do = [site for site in sites if (site.pk, days[site.pk]) not in stored]
    usage = usage_by_site((site, days[site.pk]) for site in to_do)
    in_bulk, one_by_one = [], []
    for site in to_do:
        snapshot = _snapshot(site, days[site.pk], usage[site.pk])
        over = snapshot.active_customers > snapshot.active_customer_limit
        (one_by_one if over or site.pk in with_case else in_bulk).append(snapshot)
    for start in range(0, len(in_bulk), SNAPSHOT_BATCH):
        batch = in_bulk[start : start + SNAPSHOT_BATCH]
        try:
            with platform_wide("nightly usage: a batch of snapshots"), transaction.atomic():
                _write_snapshots(batch)
        except Exception:
            logger.exception("A batch of %s snapshots failed: storing them one by one", len(batch))
            one_by_one += batch
    failed = sum(not _stored_alone(snapshot) for snapshot in one_by_one)
    return {"computed": len(to_do) - failed, "skipped": len(sites) - len(to_do), "failed": failed}


def _stored_alone(snapshot: UsageSnapshot) -> bool:
    """One site's snapshot and case in its own transaction and scope: a failure is logged, not raised."""
    try:
        with site_scope(snapshot.site), transaction.atomic():
            _store_with_overage(snapshot)
    except Exception:
        logger.exception("Usage of site %s on %s failed", snapshot.site.slug, snapshot.day)
        return False
    return True
