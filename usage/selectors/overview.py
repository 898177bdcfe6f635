"""The figures of a site's Overview page: its contacts, sales, automated emails, active customers, the
jobs running now, and the plan. One function per group of figures; `site_overview` gathers those the
viewer's role may read. Call inside the site's scope.

Every figure is read from an index and touches few rows, whatever the number of contacts: the contacts,
subscribers and customers from the exact counters (contacts.counts.contact_totals), the new contacts and the
active customers from the nightly usage snapshots, the sales and the emails from indexes on their
`created_at`. Nothing counts the contacts table.

Each query is built once per site and day and run again as it is (creatorhub.compiled): building them
cost the ORM more than PostgreSQL takes to run them (the contacts benchmark, "Overview page").
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Value

from contacts.counts import contact_totals
from contacts.models import BulkAction, BulkActionKind, Import, ImportStatus, JobStatus
from creatorhub.compiled import built
from creatorhub.models import Membership, Site
from creatorhub.roles import Scope
from emails.models import EmailStatus, OutboundEmail
from offers.models import Access, AccessSource, GrantJob, Offer, Purchase
from usage.models import OverageCase, OverageStatus, UsageSnapshot
from usage.selectors.plan import usage_against_limit, usage_history

WINDOW_DAYS = 30
RUNNING_JOBS_SHOWN = 10  # the newest


@dataclass(frozen=True)
class Windows:
    """The last 30 days (today and the 29 days before it, in the site's time zone) and the 30 before
    them: the days the Contacts tab's "added after 30 days ago" means, and the days of the snapshots."""

    site_id: int
    time_zone: str
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
            site_id=site.pk,
            time_zone=site.time_zone,
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
        team_size=_count(windows, "team", lambda: Membership.objects.all()),
        audience=audience(site, counts, history, windows) if Scope.CONTACTS_READ in may_read else None,
        sales=sales(windows, history) if Scope.OFFERS_READ in may_read else None,
        emails=automated_emails(windows) if Scope.EMAILS_READ in may_read else None,
        usage=plan_usage(site, history) if Scope.USAGE_READ in may_read else None,
        running_jobs=running_jobs(windows, may_read),
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
    return Sales(
        purchases_last_30_days=_trend(lambda: Purchase.objects.all(), windows, history, "purchases"),
        grants_last_30_days=_trend(
            lambda: Access.objects.filter(source=AccessSource.GRANT), windows, history, "grants"
        ),
    )


def _trend(
    rows: Callable[[], QuerySet], windows: Windows, history: list[UsageSnapshot], kept_as: str
) -> Trend:
    """The rows created in the last 30 days and in the 30 before: today's counted, the days before summed
    from their nightly snapshots (a busy site's month is tens of thousands of rows). Without a snapshot
    for each of those days, all of them are counted, in one query on the site's newest-first index
    (purchase_site_newest, access_site_granted)."""
    first_day = windows.today - timedelta(days=2 * WINDOW_DAYS - 1)
    kept = {s.day: getattr(s, kept_as) for s in history if first_day <= s.day < windows.today}
    if len(kept) == 2 * WINDOW_DAYS - 1 and None not in kept.values():
        split = windows.today - timedelta(days=WINDOW_DAYS - 1)
        today = _count(
            windows, f"{kept_as}-today", lambda: rows().filter(created_at__gte=windows.today_start)
        )
        return Trend(
            today + sum(n for day, n in kept.items() if day >= split),
            sum(n for day, n in kept.items() if day < split),
        )
    counted = _read(
        windows,
        f"{kept_as}-60-days",
        lambda: (
            rows()
            .filter(created_at__gte=windows.previous_start)
            .values("site")
            .annotate(
                last=Count("pk", filter=Q(created_at__gte=windows.start)),
                previous=Count("pk", filter=Q(created_at__lt=windows.start)),
            )
        ),
    )
    return Trend(counted[0]["last"], counted[0]["previous"]) if counted else Trend(0, 0)


# -- Emails -------------------------------------------------------------------------------------------


def automated_emails(windows: Windows) -> AutomatedEmails:
    """The automated emails of the last 30 days by outcome, in one query on outboundemail_site_status."""
    outcomes = (EmailStatus.SENT, EmailStatus.FAILED, EmailStatus.SUPPRESSED)
    rows = _read(
        windows,
        "emails",
        lambda: (
            OutboundEmail.objects.filter(status__in=outcomes, created_at__gte=windows.start)
            .order_by()
            .values("status")
            .annotate(n=Count("pk"))
        ),
    )
    by_status = {row["status"]: row["n"] for row in rows}
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
    return PlanUsage(against_limit=against_limit, history=history, overage_case=open_overage_case(site))


def open_overage_case(site: Site) -> OverageCase | None:
    """Support's unresolved case about the site's usage (at most one: a unique constraint)."""
    key = ("overview", "overage-case", site.pk)
    cases = built(key, lambda: OverageCase.objects.exclude(status=OverageStatus.RESOLVED).order_by()[:1], [])
    return next(iter(cases.rows()), None)


# -- Jobs ---------------------------------------------------------------------------------------------


def running_jobs(windows: Windows, scopes: Collection[str]) -> list[RunningJob]:
    """The imports, bulk actions and grant jobs queued or running now whose pages the role may open, the
    newest first, in one query: most of the time there are none, and three would cost the page more."""
    kinds = [kind for scope, kind in RUNNING_KINDS if scope in scopes]
    if not kinds:
        return []

    def union() -> QuerySet:
        first, *others = (kind() for kind in kinds)
        return first.union(*others, all=True).order_by("-queued_at", "-job_id")[:RUNNING_JOBS_SHOWN]

    rows = _read(windows, "running:" + ",".join(kind.__name__ for kind in kinds), union)
    return [_running_job(**row) for row in rows]


def _imports() -> QuerySet:
    return _running(Import, "import", about=F("filename"), progress_=F("progress"), out_of=Value(100))


def _bulk_actions() -> QuerySet:
    return _running(BulkAction, "bulk", about=F("description"), progress_=F("done"), out_of=F("total"))


def _grant_jobs() -> QuerySet:
    processed = F("granted") + F("skipped") + F("failed")
    return _running(GrantJob, "grant", about=F("offer__title"), progress_=processed, out_of=F("total"))


RUNNING_KINDS = [
    (Scope.IMPORTS_RUN, _imports),
    (Scope.CONTACTS_READ, _bulk_actions),
    (Scope.OFFERS_READ, _grant_jobs),
]


def _running(model, source: str, *, about: F, progress_: F, out_of: F | Value) -> QuerySet:
    """The queued and running jobs of `model` as rows of the same columns, in the same order (the names
    differ from the models' fields, which an annotation may not shadow)."""
    return (
        model.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))  # ImportStatus's too
        .order_by()
        .values(
            source=Value(source),
            job_id=F("pk"),
            action=F("kind") if model is BulkAction else Value(""),
            job_status=F("status"),
            about=about,
            progress_=progress_,
            out_of=out_of,
            queued_at=F("created_at"),
        )
    )


def _running_job(*, source, job_id, action, job_status, about, progress_, out_of, queued_at) -> RunningJob:
    if source == "import":
        status = ImportStatus(job_status)
        percent = progress_ if status == ImportStatus.RUNNING else None
        return RunningJob("Import", about, status, status.label, percent, "import-detail", job_id)
    status = JobStatus(job_status)
    percent = _percent(progress_, out_of)
    if source == "bulk":
        return RunningJob(
            BulkActionKind(action).label, about, status, status.label, percent, "bulk-action", job_id
        )
    return RunningJob("Grant", about, status, status.label, percent, "grant-job", job_id)


def _percent(done: int, total: int) -> int | None:
    return min(done * 100 // total, 100) if total else None


# -- The queries, built once per site and day ------------------------------------------------------------


def _read(windows: Windows, name: str, build: Callable[[], QuerySet]) -> list[dict]:
    """The rows of the page's query `name` (a `values()` queryset). Its SQL depends on the site and on the
    day and time zone of the windows, and on nothing else: `name` tells the rest."""
    key = ("overview", name, windows.site_id, windows.time_zone, windows.today)
    return built(key, build, []).values()


def _count(windows: Windows, name: str, rows: Callable[[], QuerySet]) -> int:
    counted = _read(windows, name, lambda: rows().order_by().values("site").annotate(n=Count("pk")))
    return counted[0]["n"] if counted else 0
