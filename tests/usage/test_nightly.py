"""The nightly usage run: one snapshot per site and day, resumable, one site's failure does not
stop the others, each site's own last finished day, overage cases that never block anything, the
management command and the beat schedule."""

import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from activity.models import ActivityKind
from activity.services import NewEvent, record_events
from creatorhub.models import Plan
from offers.services.access import grant_offer, revoke_access
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, SiteFactory, UserFactory
from usage import services
from usage.models import OverageCase, OverageOutcome, OverageStatus, UsageSnapshot
from usage.selectors.active_customers import window_of
from usage.services import change_case, compute_all_usage, compute_usage

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SETUP_AT = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
D = date(2025, 6, 15)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(SETUP_AT, tick=False)
    return time_machine


@pytest.fixture
def tiny_plan(db):
    return Plan.objects.create(name="Tiny", contact_limit=100, active_customer_limit=2, price=9)


def customers_of(site, count, prefix="c"):
    people = []
    with scope(site=site):
        offer = create_offer(site, title="Course")
        for n in range(count):
            contact = ContactFactory(site=site, email=f"{prefix}{n}@{site.slug}.example")
            contact.access = grant_offer(site, offer=offer, contact=contact, send_grant_email=False)
            people.append(contact)
    return people


def active_on(site, people, day, kind=ActivityKind.LOGIN):
    """Each of `people` does something in the middle of `day` (in the site's time zone)."""
    _, end = window_of(site, day)
    with scope(site=site):
        record_events(
            site, [NewEvent(contact=p, kind=kind, occurred_at=end - timedelta(hours=12)) for p in people]
        )


def snapshots():
    with scopes_disabled():
        return sorted(
            (s.site.slug, s.day, s.active_customers) for s in UsageSnapshot.objects.select_related("site")
        )


# Snapshots -------------------------------------------------------------------------------------------


def test_compute_usage_stores_one_snapshot_per_site_and_day_and_a_rerun_updates_it(clock):
    site = SiteFactory()
    people = customers_of(site, 3)
    clock.move_to(NOW, tick=False)
    active_on(site, people[:1], D)
    with scope(site=site):
        first = compute_usage(site, day=D)
    assert (first.active_customers, first.customers, first.contacts) == (1, 3, 3)
    assert (first.active_customer_limit, first.contact_limit) == (1_000, 10_000)  # the Basic plan

    active_on(site, people[1:], D - timedelta(days=3))  # the data changes between runs
    with scope(site=site):
        again = compute_usage(site, day=D)
        compute_usage(site, day=D - timedelta(days=1))
        assert UsageSnapshot.objects.filter(day=D).count() == 1
        assert UsageSnapshot.objects.get(day=D).active_customers == 3
        assert UsageSnapshot.objects.count() == 2
    assert again.pk == first.pk


def test_compute_all_usage_covers_every_site_and_only_missing_resumes(clock):
    sites = [SiteFactory(slug=f"s{n}") for n in range(3)]
    for n, site in enumerate(sites):
        people = customers_of(site, n + 1)
        clock.move_to(NOW, tick=False)
        active_on(site, people, D)
        clock.move_to(SETUP_AT, tick=False)
    clock.move_to(NOW, tick=False)

    assert compute_all_usage(day=D) == {"computed": 3, "skipped": 0, "failed": 0}
    assert snapshots() == [("s0", D, 1), ("s1", D, 2), ("s2", D, 3)]

    with scopes_disabled():
        UsageSnapshot.objects.filter(site=sites[1]).delete()  # as if the run had died after s0 and s2
    assert compute_all_usage(day=D, only_missing=True) == {"computed": 1, "skipped": 2, "failed": 0}
    assert snapshots() == [("s0", D, 1), ("s1", D, 2), ("s2", D, 3)]
    assert compute_all_usage(day=D) == {"computed": 3, "skipped": 0, "failed": 0}  # a full re-run
    assert len(snapshots()) == 3


def test_one_site_failing_does_not_stop_the_others_and_is_reported(clock, monkeypatch, caplog):
    """A batch of snapshots that fails is stored again site by site: only the failing site is left out."""
    sites = [SiteFactory(slug=f"s{n}") for n in range(3)]
    clock.move_to(NOW, tick=False)
    real = services._write_snapshots

    def failing_for_s1(rows):
        if any(row.site.slug == "s1" for row in rows):
            raise RuntimeError("the database went away")
        real(rows)

    monkeypatch.setattr(services, "_write_snapshots", failing_for_s1)
    with caplog.at_level(logging.ERROR, logger="usage.services"):
        assert compute_all_usage(day=D) == {"computed": 2, "skipped": 0, "failed": 1}
    assert [slug for slug, _, _ in snapshots()] == ["s0", "s2"]
    assert f"Usage of site s1 on {D} failed" in caplog.text
    assert "the database went away" in caplog.text

    monkeypatch.setattr(services, "_write_snapshots", real)  # fixed: resuming computes only the one left
    assert compute_all_usage(day=D, only_missing=True) == {"computed": 1, "skipped": 2, "failed": 0}
    assert [slug for slug, _, _ in snapshots()] == ["s0", "s1", "s2"]
    assert sites


def test_a_site_whose_overage_case_fails_keeps_no_snapshot_and_the_others_go_on(
    clock, monkeypatch, tiny_plan
):
    """A site over its limit is stored with its case in one transaction: if the case fails, its day
    stays missing (so resuming computes it) and the other sites, over their limit or not, are stored."""
    busy, also_busy = SiteFactory(slug="busy", plan=tiny_plan), SiteFactory(slug="also-busy", plan=tiny_plan)
    SiteFactory(slug="quiet")
    crowds = {site: customers_of(site, 3) for site in (busy, also_busy)}
    clock.move_to(NOW, tick=False)
    for site, people in crowds.items():
        active_on(site, people, D)
    real = services._follow_overage

    def failing_for_busy(site, snapshot):
        if site.slug == "busy":
            raise RuntimeError("lock timeout")
        real(site, snapshot)

    monkeypatch.setattr(services, "_follow_overage", failing_for_busy)
    assert compute_all_usage(day=D) == {"computed": 2, "skipped": 0, "failed": 1}
    assert snapshots() == [("also-busy", D, 3), ("quiet", D, 0)]
    assert case_of(also_busy)[0].active_customers == 3
    with scope(site=busy):
        assert not OverageCase.objects.exists()

    monkeypatch.setattr(services, "_follow_overage", real)
    assert compute_all_usage(day=D, only_missing=True) == {"computed": 1, "skipped": 2, "failed": 0}
    assert case_of(busy)[1] == [f"Opened on {D}: 3 active customers against a limit of 2."]


def test_without_a_day_each_site_gets_its_last_finished_day_in_its_own_time_zone(clock):
    SiteFactory(slug="auckland", time_zone="Pacific/Auckland")  # 16 June 11:30 there
    SiteFactory(slug="utc", time_zone="UTC")  # 15 June 23:30
    SiteFactory(slug="la", time_zone="America/Los_Angeles")  # 15 June 16:30
    clock.move_to(datetime(2025, 6, 15, 23, 30, tzinfo=UTC), tick=False)
    assert compute_all_usage() == {"computed": 3, "skipped": 0, "failed": 0}
    assert snapshots() == [
        ("auckland", date(2025, 6, 15), 0),
        ("la", date(2025, 6, 14), 0),
        ("utc", date(2025, 6, 14), 0),
    ]
    clock.move_to(datetime(2025, 6, 16, 0, 30, tzinfo=UTC), tick=False)  # UTC's day has ended now
    assert compute_all_usage(only_missing=True) == {"computed": 1, "skipped": 2, "failed": 0}
    assert ("utc", date(2025, 6, 15), 0) in snapshots()


# Overage ---------------------------------------------------------------------------------------------


def case_of(site):
    with scope(site=site):
        case = OverageCase.objects.exclude(status=OverageStatus.RESOLVED).get()
        return case, list(case.entries.values_list("text", flat=True))


def test_overage_opens_a_case_updates_it_and_a_rerun_adds_no_duplicate_entry(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)  # a limit of 2 active customers
    people = customers_of(site, 5)
    clock.move_to(NOW, tick=False)
    day1, day2 = date(2025, 3, 10), date(2025, 3, 11)
    active_on(site, people[:3], day1)

    with scope(site=site):
        compute_usage(site, day=day1)
    case, texts = case_of(site)
    assert (case.status, case.opened_on, case.last_over_on) == (OverageStatus.OPEN, day1, day1)
    assert (case.active_customers, case.peak_active_customers, case.active_customer_limit) == (3, 3, 2)
    assert case.over_by == 1
    assert texts == ["Opened on 2025-03-10: 3 active customers against a limit of 2."]
    with scope(site=site):
        assert case.entries.get().to_status == OverageStatus.OPEN
        compute_usage(site, day=day1)  # a re-run of the opening day
    assert case_of(site)[1] == texts

    active_on(site, people[3:4], day2)
    with scope(site=site):
        compute_usage(site, day=day2)
        compute_usage(site, day=day2)  # a re-run of the day
    case, texts = case_of(site)
    assert (case.active_customers, case.peak_active_customers, case.last_over_on) == (4, 4, day2)
    assert texts == [
        "Opened on 2025-03-10: 3 active customers against a limit of 2.",
        "2025-03-11: 4 active customers against a limit of 2.",
    ]
    with scope(site=site):
        assert OverageCase.objects.count() == 1


def test_back_under_the_limit_adds_an_entry_but_leaves_the_case_to_support(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)
    people = customers_of(site, 4)
    clock.move_to(NOW, tick=False)
    active_on(site, people, date(2025, 3, 10))
    active_on(site, people[:1], date(2025, 4, 19))
    with scope(site=site):
        compute_usage(site, day=date(2025, 3, 10))
        compute_usage(site, day=date(2025, 4, 20))  # the March events have left the window
    case, texts = case_of(site)
    assert case.status == OverageStatus.OPEN
    assert case.resolved_at is None
    assert (case.active_customers, case.peak_active_customers, case.last_over_on) == (1, 4, date(2025, 3, 10))
    assert texts[-1] == "2025-04-20: back under the limit (1 active customer against a limit of 2)."


def test_a_backfill_of_an_older_day_keeps_the_cases_latest_figures(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)
    people = customers_of(site, 5)
    clock.move_to(NOW, tick=False)
    day1, day2 = date(2025, 3, 10), date(2025, 3, 11)
    active_on(site, people[:5], day1)
    active_on(site, people[:3], day2 + timedelta(days=30))
    with scope(site=site):
        compute_usage(site, day=day2 + timedelta(days=30))  # 3 active: the case opens with today's figure
        compute_usage(site, day=day1)  # a backfill: 5 active then
    case, texts = case_of(site)
    assert (case.active_customers, case.peak_active_customers, case.last_over_on) == (3, 5, date(2025, 4, 10))
    assert texts[-1] == "2025-03-10: 5 active customers against a limit of 2."


def test_the_nightly_run_follows_a_site_over_its_limit_and_back_under(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)
    SiteFactory(slug="quiet")
    people = customers_of(site, 4)
    clock.move_to(NOW, tick=False)
    active_on(site, people, date(2025, 3, 10))
    active_on(site, people[:1], date(2025, 4, 19))
    assert compute_all_usage(day=date(2025, 3, 10)) == {"computed": 2, "skipped": 0, "failed": 0}
    assert case_of(site)[1] == ["Opened on 2025-03-10: 4 active customers against a limit of 2."]
    compute_all_usage(day=date(2025, 4, 20))  # under the limit, but the case is still open
    case, texts = case_of(site)
    assert (case.active_customers, case.peak_active_customers) == (1, 4)
    assert texts[-1] == "2025-04-20: back under the limit (1 active customer against a limit of 2)."


def test_a_resolved_case_and_a_new_overage_opens_a_new_case(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)
    people = customers_of(site, 4)
    staff = UserFactory(email="support@creatorhub.example", is_staff=True)
    clock.move_to(NOW, tick=False)
    active_on(site, people, date(2025, 3, 10))
    with scope(site=site):
        compute_usage(site, day=date(2025, 3, 10))
        first, _ = case_of(site)
        change_case(
            site,
            case=first,
            acting_user=staff,
            status=OverageStatus.RESOLVED,
            outcome=OverageOutcome.ALLOWANCE,
        )
    active_on(site, people[:3], date(2025, 5, 1))
    with scope(site=site):
        compute_usage(site, day=date(2025, 5, 1))
        assert OverageCase.objects.count() == 2
        first.refresh_from_db()
        assert (first.status, first.outcome) == (OverageStatus.RESOLVED, OverageOutcome.ALLOWANCE)
    second, texts = case_of(site)
    assert second.pk != first.pk
    assert second.opened_on == date(2025, 5, 1)
    assert texts == ["Opened on 2025-05-01: 3 active customers against a limit of 2."]


def test_a_site_over_its_limit_still_accepts_new_customers_and_activity(clock, tiny_plan):
    site = SiteFactory(slug="busy", plan=tiny_plan)
    people = customers_of(site, 3)
    clock.move_to(NOW, tick=False)
    active_on(site, people, D)
    with scope(site=site):
        compute_usage(site, day=D)
        assert OverageCase.objects.filter(status=OverageStatus.OPEN).exists()
        newcomer = ContactFactory(site=site, email="new@busy.example")
        access = grant_offer(site, offer=create_offer(site, title="Another"), contact=newcomer)
        assert access is not None
        newcomer.refresh_from_db()
        assert newcomer.is_customer
        added = record_events(
            site, [NewEvent(contact=newcomer, kind=ActivityKind.LOGIN, occurred_at=timezone.now())]
        )
        assert added == 1
        assert compute_usage(site, day=date(2025, 8, 1)).active_customers == 1
        revoke_access(site, access=access)  # nothing is locked either way


# The command -----------------------------------------------------------------------------------------


def test_the_command_computes_a_day_for_every_site(clock):
    for slug in ("a", "b"):
        SiteFactory(slug=slug)
    clock.move_to(NOW, tick=False)
    out = StringIO()
    call_command("compute_usage", "--day", "2025-06-15", stdout=out)
    assert out.getvalue() == "2025-06-15: 2 computed, 0 skipped, 0 failed\n"
    assert snapshots() == [("a", D, 0), ("b", D, 0)]


def test_the_command_backfills_a_range_one_snapshot_per_day_per_site(clock):
    for slug in ("a", "b"):
        SiteFactory(slug=slug)
    clock.move_to(NOW, tick=False)
    call_command("compute_usage", "--from", "2025-06-10", "--to", "2025-06-12", stdout=StringIO())
    call_command("compute_usage", "--from", "2025-06-11", "--to", "2025-06-13", stdout=StringIO())
    days = [date(2025, 6, 10) + timedelta(days=n) for n in range(4)]
    assert snapshots() == sorted((slug, day, 0) for slug in ("a", "b") for day in days)
    out = StringIO()
    call_command("compute_usage", "--from", "2025-06-10", "--to", "2025-06-14", "--only-missing", stdout=out)
    assert out.getvalue().splitlines()[0] == "2025-06-10: 0 computed, 2 skipped, 0 failed"
    assert out.getvalue().splitlines()[-1] == "2025-06-14: 2 computed, 0 skipped, 0 failed"


def test_the_command_without_a_day_takes_each_sites_last_finished_day(clock):
    SiteFactory(slug="a", time_zone="Pacific/Auckland")
    clock.move_to(datetime(2025, 6, 15, 23, 30, tzinfo=UTC), tick=False)
    out = StringIO()
    call_command("compute_usage", stdout=out)
    assert out.getvalue() == "each site's last day: 1 computed, 0 skipped, 0 failed\n"
    assert snapshots() == [("a", date(2025, 6, 15), 0)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2025-06-15", "--from", "2025-06-01", "--to", "2025-06-02"], "not both"),
        (["--from", "2025-06-01"], "needs both --from and --to"),
        (["--to", "2025-06-01"], "needs both --from and --to"),
        (["--from", "2025-06-05", "--to", "2025-06-01"], "--from must not be after --to"),
        (["--day", "15/06/2025"], "invalid fromisoformat value"),
        (["--day", "2025-02-30"], "invalid fromisoformat value"),
    ],
)
def test_the_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("compute_usage", *args, stdout=StringIO())
    assert snapshots() == []


def test_the_command_fails_when_a_site_failed(clock, monkeypatch):
    SiteFactory(slug="a")
    clock.move_to(NOW, tick=False)

    def broken(rows):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_write_snapshots", broken)
    out = StringIO()
    with pytest.raises(CommandError, match="Some sites failed"):
        call_command("compute_usage", "--day", "2025-06-15", stdout=out)
    assert out.getvalue() == "2025-06-15: 0 computed, 0 skipped, 1 failed\n"


# The schedule ----------------------------------------------------------------------------------------


def test_the_task_computes_a_given_day():
    from usage.tasks import nightly_usage

    SiteFactory(slug="a")
    assert nightly_usage.delay(day="2025-06-15").get() == {"computed": 1, "skipped": 0, "failed": 0}
    assert snapshots() == [("a", D, 0)]


def test_the_beat_schedule_runs_the_nightly_task_at_three_utc_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-usage"]
    assert entry["task"] == "usage.tasks.nightly_usage"
    if "USAGE_NIGHTLY_AT" not in os.environ:
        assert entry["schedule"] == crontab(hour=3, minute=0)
    assert settings.CELERY_TIMEZONE == "UTC"


PRINT_SCHEDULE = (
    "from django.conf import settings; s = settings.CELERY_BEAT_SCHEDULE['nightly-usage']; "
    "print(s['task'], sorted(s['schedule'].hour), sorted(s['schedule'].minute))"
)


def run_shell(**env):
    dropped = ("USAGE_NIGHTLY_AT", "DATABASE_URL", "REDIS_URL")
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PRINT_SCHEDULE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "usage.tasks.nightly_usage [3] [0]"), ("01:45", "usage.tasks.nightly_usage [1] [45]")],
)
def test_usage_nightly_at_moves_the_schedule(value, expected):
    result = run_shell(**({"USAGE_NIGHTLY_AT": value} if value else {}))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.slow
def test_a_bad_usage_nightly_at_is_refused_with_a_clear_message():
    result = run_shell(USAGE_NIGHTLY_AT="3am")
    assert result.returncode != 0
    assert "USAGE_NIGHTLY_AT must look like 03:00; got '3am'." in result.stderr
