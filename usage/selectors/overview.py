"""The figures of a site's Overview page: its contacts, sales, automated emails, active customers, the
jobs running now, and the plan. One function per group of figures; `site_overview` gathers those the
viewer's role may read. Call inside the site's scope.

Every figure is read from an index and touches few rows, whatever the number of contacts: the contacts,
subscribers and customers from the exact counters (contacts.counts.contact_totals), the new contacts and the
active customers from the nightly usage snapshots, the sales and the emails from indexes on their
`created_at`. Nothing counts the contacts table.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from contacts.counts import contact_totals
from contacts.models import BulkAction, Import, ImportStatus, JobStatus
from creatorhub.models import Membership, Site
from creatorhub.roles import Scope
from emails.models import EmailStatus, OutboundEmail
from offers.models import Access, AccessSource, GrantJob, Offer, Purchase
from usage.models import OverageCase, OverageStatus, UsageSnapshot
from usage.selectors.plan import usage_against_limit, usage_history

WINDOW_DAYS = 30
RUNNING_JOBS_SHOWN = 5  # of each kind, newest first


@dataclass(frozen=True)
class Windows:
    """The last 30 days (today and the 29 days before it, in the site's time zone) and the 30 before
    them: the days the Contacts tab's "added after 30 days ago" means, and the days of the snapshots."""

    today: date
    start: datetime
    previous_start: datetime
    today_start: datetime

    @classmethod
    def of(cls, site: Site) -> "Windows":
        today = site.today()
        zone = ZoneInfo(site.time_zone)

        def first_moment(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return cls(
            today=today,
            start=first_moment(today - timedelta(days=WINDOW_DAYS - 1)),
            previous_start=first_moment(today - timedelta(days=2 * WINDOW_DAYS - 1)),
            today_start=first_moment(today),
        )


@dataclass(frozen=True)
class Trend:
    """A figure of the last 30 days beside the same figure of the 30 days before them."""

    last_30_days: int
    previous_30_days: int | None  # None when it is not known (no snapshot of that day)

    @property
    def change(self) -> str:
        """The difference in words a creator reads at a glance: "+12 vs the 30 days before"."""
        if self.previous_30_days is None:
            return ""
        difference = self.last_30_days - self.previous_30_days
        if difference == 0:
            return "Same as the 30 days before"
        sign = "+" if difference > 0 else "\N{MINUS SIGN}"
        return f"{sign}{abs(difference):,} vs the 30 days before"


@dataclass(frozen=True)
class Audience:
    contacts: int
    subscribers: int
    customers: int
    new_contacts_last_30_days: Trend | None  # None before the nightly count has the days it needs


@dataclass(frozen=True)
class Sales:
    purchases_last_30_days: Trend
    grants_last_30_days: Trend


@dataclass(frozen=True)
class AutomatedEmails:
    sent_last_30_days: int
    failed_last_30_days: int
    suppressed_last_30_days: int


@dataclass(frozen=True)
class PlanUsage:
    """The latest nightly count of active customers against the plan's limit (the usage page counts
    today's live), the days behind the chart, and support's open case about it."""

    against_limit: dict | None  # usage.selectors.plan.usage_against_limit; None before the first night
    history: list[UsageSnapshot]
    overage_case: OverageCase | None


@dataclass(frozen=True)
class RunningJob:
    """An import, bulk action or grant job that is queued or running, with its progress page."""

    kind: str
    description: str
    status: str  # a JobStatus or ImportStatus value
    status_label: str
    percent: int | None  # None while its size is not known yet
    url_name: str
    pk: int


@dataclass(frozen=True)
class Overview:
    """Every figure of the Overview page; a group is None when the viewer's role may not read it."""

    is_new: bool  # no contacts and no offers yet: the page shows the first steps instead of figures
    team_size: int
    audience: Audience | None
    sales: Sales | None
    emails: AutomatedEmails | None
    usage: PlanUsage | None
    running_jobs: list[RunningJob]


def site_overview(site: Site, *, scopes: Collection[str]) -> Overview:
    """The Overview of `site` for a viewer with `scopes` (creatorhub.roles): what the role may not read
    is not read at all."""
    may_read = frozenset(scopes)
    windows = Windows.of(site)
    counts = contact_counts(site)  # also whether the site is new, whoever looks
    needs_history = may_read & {Scope.CONTACTS_READ, Scope.OFFERS_READ, Scope.USAGE_READ}
    history = usage_history(site, windows.today) if needs_history else []
    return Overview(
        is_new=counts[0] == 0 and not Offer.objects.exists(),
        team_size=Membership.objects.count(),
        audience=audience(site, counts, history, windows) if Scope.CONTACTS_READ in may_read else None,
        sales=sales(windows, history) if Scope.OFFERS_READ in may_read else None,
        emails=automated_emails(windows) if Scope.EMAILS_READ in may_read else None,
        usage=plan_usage(site, history) if Scope.USAGE_READ in may_read else None,
        running_jobs=running_jobs(may_read),
    )


# -- Contacts -----------------------------------------------------------------------------------------


def contact_counts(site: Site) -> tuple[int, int, int]:
    """Contacts, subscribers and customers: the default segments' exact counters, in one query."""
    totals = contact_totals(site)
    return totals["contacts"], totals["subscribers"], totals["customers"]


def audience(
    site: Site, counts: tuple[int, int, int], history: list[UsageSnapshot], windows: Windows
) -> Audience:
    contacts, subscribers, customers = counts
    return Audience(
        contacts=contacts,
        subscribers=subscribers,
        customers=customers,
        new_contacts_last_30_days=new_contacts_last_30_days(site, contacts, history, windows),
    )


def new_contacts_last_30_days(
    site: Site, contacts: int, history: list[UsageSnapshot], windows: Windows
) -> Trend | None:
    """How many contacts the site gained in the last 30 days (added less deleted), and in the 30 before:
    today's count less the count of the nightly snapshot at the start of each window, which spares
    counting the contacts added. None when the snapshot at the start of the last 30 days is missing."""
    start_day = windows.today - timedelta(days=WINDOW_DAYS)
    at_start = _contacts_at_end_of(site, start_day, history)
    if at_start is None:
        return None
    before = _contacts_at_end_of(site, start_day - timedelta(days=WINDOW_DAYS), history)
    return Trend(contacts - at_start, at_start - before if before is not None else None)


def _contacts_at_end_of(site: Site, day: date, history: list[UsageSnapshot]) -> int | None:
    """The site's contacts when `day` ended: its snapshot's, or none at all before the site existed."""
    for snapshot in history:
        if snapshot.day == day:
            return snapshot.contacts
    day_ended = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(site.time_zone))
    return 0 if site.created_at >= day_ended else None


# -- Offers -------------------------------------------------------------------------------------------


def sales(windows: Windows, history: list[UsageSnapshot]) -> Sales:
    grants = Access.objects.filter(source=AccessSource.GRANT)
    return Sales(
        purchases_last_30_days=_trend(Purchase.objects.all(), windows, history, "purchases"),
        grants_last_30_days=_trend(grants, windows, history, "grants"),
    )


def _trend(rows: QuerySet, windows: Windows, history: list[UsageSnapshot], kept_as: str) -> Trend:
    """The rows created in the last 30 days and in the 30 before: today's counted, the days before summed
    from their nightly snapshots (a busy site's month is tens of thousands of rows). Without a snapshot
    for each of those days, all of them are counted, in one query on the site's newest-first index
    (purchase_site_newest, access_site_granted)."""
    first_day = windows.today - timedelta(days=2 * WINDOW_DAYS - 1)
    kept = {s.day: getattr(s, kept_as) for s in history if first_day <= s.day < windows.today}
    if len(kept) == 2 * WINDOW_DAYS - 1 and None not in kept.values():
        split = windows.today - timedelta(days=WINDOW_DAYS - 1)
        today = rows.filter(created_at__gte=windows.today_start).count()
        return Trend(
            today + sum(n for day, n in kept.items() if day >= split),
            sum(n for day, n in kept.items() if day < split),
        )
    counted = rows.filter(created_at__gte=windows.previous_start).aggregate(
        last=Count("pk", filter=Q(created_at__gte=windows.start)),
        previous=Count("pk", filter=Q(created_at__lt=windows.start)),
    )
    return Trend(counted["last"], counted["previous"])


# -- Emails -------------------------------------------------------------------------------------------


def automated_emails(windows: Windows) -> AutomatedEmails:
    """The automated emails of the last 30 days by outcome, in one query on outboundemail_site_status."""
    outcomes = (EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.SUPPRESSED)
    by_status = dict(
        OutboundEmail.objects.filter(status__in=outcomes, created_at__gte=windows.start)
        .order_by()
        .values_list("status")
        .annotate(Count("pk"))
    )
    return AutomatedEmails(
        sent_last_30_days=by_status.get(EmailStatus.SENT, 0),
        failed_last_30_days=by_status.get(EmailStatus.FAILED, 0),
        suppressed_last_30_days=by_status.get(EmailStatus.SUPPRESSED, 0),
    )


# -- Usage --------------------------------------------------------------------------------------------


def plan_usage(site: Site, history: list[UsageSnapshot]) -> PlanUsage:
    """Active customers as the nightly task last counted them, against today's plan: counting them live
    reads every recently active contact, which the usage page does and the Overview does not."""
    against_limit = None
    if history:
        latest = history[-1]
        against_limit = usage_against_limit(
            latest.active_customers, site.plan.active_customer_limit, day=latest.day
        )
    return PlanUsage(against_limit=against_limit, history=history, overage_case=open_overage_case())


def open_overage_case() -> OverageCase | None:
    """Support's unresolved case about the site's usage (at most one: a unique constraint)."""
    return OverageCase.objects.exclude(status=OverageStatus.RESOLVED).order_by().first()


# -- Jobs ---------------------------------------------------------------------------------------------


def running_jobs(scopes: Collection[str]) -> list[RunningJob]:
    """The imports, bulk actions and grant jobs queued or running now whose pages the role may open."""
    jobs = []
    if Scope.IMPORTS_RUN in scopes:
        jobs += running_imports()
    if Scope.CONTACTS_READ in scopes:
        jobs += running_bulk_actions()
    if Scope.OFFERS_READ in scopes:
        jobs += running_grant_jobs()
    return jobs


def running_imports() -> list[RunningJob]:
    imports = (
        Import.objects.filter(status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING))
        .only("filename", "status", "progress", "created_at")
        .order_by("-created_at", "-id")[:RUNNING_JOBS_SHOWN]
    )
    return [
        RunningJob(
            "Import",
            imp.filename,
            imp.status,
            imp.get_status_display(),
            imp.progress if imp.status == ImportStatus.RUNNING else None,
            "import-detail",
            imp.pk,
        )
        for imp in imports
    ]


def running_bulk_actions() -> list[RunningJob]:
    actions = (
        BulkAction.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
        .only("kind", "description", "status", "total", "done", "created_at")
        .order_by("-created_at", "-id")[:RUNNING_JOBS_SHOWN]
    )
    return [
        RunningJob(
            action.get_kind_display(),
            action.description,
            action.status,
            action.get_status_display(),
            _percent(action.done, action.total),
            "bulk-action",
            action.pk,
        )
        for action in actions
    ]


def running_grant_jobs() -> list[RunningJob]:
    jobs = (
        GrantJob.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
        .select_related("offer")
        .only("offer__title", "status", "total", "granted", "skipped", "failed", "created_at")
        .order_by("-created_at", "-id")[:RUNNING_JOBS_SHOWN]
    )
    return [
        RunningJob(
            "Grant",
            job.offer.title,
            job.status,
            job.get_status_display(),
            _percent(job.processed, job.total),
            "grant-job",
            job.pk,
        )
        for job in jobs
    ]


def _percent(done: int, total: int) -> int | None:
    return min(done * 100 // total, 100) if total else None
