"""Who is an active customer on a day D: a customer with at least one activity event in
(D - 30 days, D], D a calendar day in the site's time zone. Everything goes through the real services."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from activity.models import ActivityEvent, ActivityKind
from activity.selectors import LAST_ACTIVITY_STEP
from activity.services import NewEvent, record_events
from offers.models import Access
from offers.services.access import grant_offer, revoke_access
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, SiteFactory
from usage.selectors.active_customers import (
    active_customers,
    active_customers_on,
    explain_activity,
    window_of,
)
from usage.services import compute_usage

pytestmark = pytest.mark.django_db

SETUP_AT = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)  # customers are made long before the days looked at
NOW = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)  # and the days are looked at afterwards
D = date(2025, 6, 15)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(SETUP_AT, tick=False)
    return time_machine


def contact_of(site, email):
    return ContactFactory(site=site, email=email)


def customer_of(site, email):
    contact = contact_of(site, email)
    with scope(site=site):
        offer = create_offer(site, title=f"Course for {email}")
        access = grant_offer(site, offer=offer, contact=contact, send_grant_email=False)
    contact.access = access
    return contact


def record(site, contact, at, kind=ActivityKind.LESSON_COMPLETED):
    with scope(site=site):
        return record_events(site, [NewEvent(contact=contact, kind=kind, occurred_at=at)])


def active_emails(site, day):
    with scope(site=site):
        return set(active_customers(site, day).values_list("email", flat=True))


def events_only_count(site, day) -> int:
    """The rule read straight from the events and accesses, in Python, without last_activity_at."""
    start, end = window_of(site, day)
    with scope(site=site):
        live = {
            access.contact_id
            for access in Access.objects.all()
            if access.created_at <= end and (access.revoked_at is None or access.revoked_at > end)
        }
        active = {
            event.contact_id for event in ActivityEvent.objects.all() if start < event.occurred_at <= end
        }
    return len(live & active)


def test_the_window_is_the_30_days_ending_when_the_day_ends(clock):
    site = SiteFactory(time_zone="UTC")
    names = ["inside-start", "at-start", "at-end", "after-end", "middle"]
    people = {name: customer_of(site, f"{name}@example.com") for name in names}
    clock.move_to(NOW, tick=False)
    start, end = window_of(site, D)
    assert end == datetime(2025, 6, 16, tzinfo=UTC)
    assert end - start == timedelta(days=30)

    record(site, people["inside-start"], end - timedelta(days=29, hours=23))
    record(site, people["at-start"], end - timedelta(days=30))  # (D - 30 days is outside
    record(site, people["at-end"], end)  # D] is inside: the very end of D
    record(site, people["after-end"], end + timedelta(seconds=1))
    record(site, people["middle"], end - timedelta(days=12))

    assert active_emails(site, D) == {"inside-start@example.com", "at-end@example.com", "middle@example.com"}
    with scope(site=site):
        assert active_customers_on(site, D) == 3
    # The next day takes in after-end and lets inside-start go; the day before, at-start in, at-end out.
    after = {"after-end@example.com", "at-end@example.com", "middle@example.com"}
    assert active_emails(site, D + timedelta(days=1)) == after
    before = {"inside-start@example.com", "at-start@example.com", "middle@example.com"}
    assert active_emails(site, D - timedelta(days=1)) == before


def test_the_event_29_days_23_hours_before_the_end_leaves_the_window_an_hour_later(clock):
    site = SiteFactory(time_zone="UTC")
    ana = customer_of(site, "ana@example.com")
    clock.move_to(NOW, tick=False)
    _, end = window_of(site, D)
    record(site, ana, end - timedelta(days=29, hours=23))
    with scope(site=site):
        assert active_customers_on(site, D) == 1
        assert active_customers_on(site, D + timedelta(days=1)) == 0


def test_the_same_utc_event_counts_on_different_local_days_in_auckland_and_los_angeles(clock):
    auckland = SiteFactory(time_zone="Pacific/Auckland")  # UTC+12 in June
    los_angeles = SiteFactory(time_zone="America/Los_Angeles")  # UTC-7 in June
    kiri = customer_of(auckland, "kiri@example.com")
    lou = customer_of(los_angeles, "lou@example.com")
    clock.move_to(NOW, tick=False)
    moment = datetime(2025, 6, 15, 13, 0, tzinfo=UTC)  # 16 June 01:00 in Auckland, 15 June 06:00 in LA
    record(auckland, kiri, moment)
    record(los_angeles, lou, moment)

    def active_days(site):
        days = [date(2025, 6, 10) + timedelta(days=n) for n in range(40)]
        with scope(site=site):
            return [day for day in days if active_customers_on(site, day)]

    auckland_days, la_days = active_days(auckland), active_days(los_angeles)
    assert (auckland_days[0], auckland_days[-1]) == (date(2025, 6, 16), date(2025, 7, 15))
    assert (la_days[0], la_days[-1]) == (date(2025, 6, 15), date(2025, 7, 14))
    assert len(auckland_days) == len(la_days) == 30

    with scope(site=auckland):
        assert compute_usage(auckland, day=date(2025, 6, 15)).active_customers == 0
    with scope(site=los_angeles):
        assert compute_usage(los_angeles, day=date(2025, 6, 15)).active_customers == 1


def test_a_customer_whose_only_access_was_revoked_is_not_active_after_the_revoke(clock):
    site = SiteFactory()
    rita = customer_of(site, "rita@example.com")
    clock.move_to(datetime(2025, 6, 1, 10, 0, tzinfo=UTC), tick=False)
    record(site, rita, timezone.now(), kind=ActivityKind.LOGIN)
    clock.move_to(datetime(2025, 6, 10, 10, 0, tzinfo=UTC), tick=False)
    with scope(site=site):
        revoke_access(site, access=rita.access)
    clock.move_to(NOW, tick=False)

    assert active_emails(site, date(2025, 6, 12)) == set()  # no live access when the day ends
    assert active_emails(site, date(2025, 6, 5)) == {"rita@example.com"}  # before the revoke, she was
    assert active_emails(site, date(2025, 6, 9)) == {"rita@example.com"}
    with scope(site=site):
        assert explain_activity(rita, date(2025, 6, 12))["value"] is False
        assert explain_activity(rita, date(2025, 6, 5))["value"] is True


def test_a_customer_with_another_live_access_stays_active_after_one_is_revoked(clock):
    site = SiteFactory()
    sam = customer_of(site, "sam@example.com")
    with scope(site=site):
        grant_offer(site, offer=create_offer(site, title="Second"), contact=sam, send_grant_email=False)
    clock.move_to(datetime(2025, 6, 10, 10, 0, tzinfo=UTC), tick=False)
    record(site, sam, timezone.now())
    with scope(site=site):
        revoke_access(site, access=sam.access)
    clock.move_to(NOW, tick=False)
    assert active_emails(site, date(2025, 6, 12)) == {"sam@example.com"}


def test_a_non_customer_with_activity_is_not_active_nor_a_customer_without_activity(clock):
    site = SiteFactory()
    lead = contact_of(site, "lead@example.com")
    quiet = customer_of(site, "quiet@example.com")
    busy = customer_of(site, "busy@example.com")
    clock.move_to(NOW, tick=False)
    _, end = window_of(site, D)
    record(site, lead, end - timedelta(days=1), kind=ActivityKind.FORM_SUBMITTED)
    record(site, busy, end - timedelta(days=1), kind=ActivityKind.PURCHASED)

    assert active_emails(site, D) == {"busy@example.com"}
    with scope(site=site):
        lead_says = explain_activity(lead, D)
        quiet_says = explain_activity(quiet, D)
    assert lead_says["value"] is False
    assert lead_says["reason"] == "Not a customer, so not an active customer."
    assert quiet_says["value"] is False
    assert quiet_says["reason"] == "A customer with no activity in the 30 days ending 2025-06-15."
    assert quiet_says["record"] == {"type": "contact", "id": quiet.pk}


def test_a_login_is_activity(clock):
    site = SiteFactory()
    lena = customer_of(site, "lena@example.com")
    clock.move_to(NOW, tick=False)
    _, end = window_of(site, D)
    record(site, lena, end - timedelta(days=20), kind=ActivityKind.LOGIN)
    assert active_emails(site, D) == {"lena@example.com"}


def test_explain_activity_gives_the_deciding_event_the_latest_in_the_window(clock):
    site = SiteFactory()
    eve = customer_of(site, "eve@example.com")
    clock.move_to(NOW, tick=False)
    _, end = window_of(site, D)
    record(site, eve, end - timedelta(days=20), kind=ActivityKind.LESSON_COMPLETED)
    record(site, eve, datetime(2025, 6, 14, 8, 30, tzinfo=UTC), kind=ActivityKind.LOGIN)
    record(site, eve, end + timedelta(days=2), kind=ActivityKind.PURCHASED)  # after D: not for D
    with scope(site=site):
        deciding = ActivityEvent.objects.get(contact=eve, kind=ActivityKind.LOGIN)
        says = explain_activity(eve, D)
    assert says == {
        "value": True,
        "reason": "A customer active in the 30 days ending 2025-06-15: logged in on 2025-06-14 08:30 UTC.",
        "record": {"type": "activity_event", "id": deciding.pk},
    }


def test_explain_activity_defaults_to_today_in_the_site_time_zone(clock):
    site = SiteFactory(time_zone="Pacific/Auckland")
    kai = customer_of(site, "kai@example.com")
    clock.move_to(datetime(2025, 6, 15, 20, 0, tzinfo=UTC), tick=False)  # already 16 June in Auckland
    record(site, kai, timezone.now())
    with scope(site=site):
        says = explain_activity(kai)
    assert says["value"] is True
    assert "30 days ending 2025-06-16" in says["reason"]


def test_the_lag_of_last_activity_at_never_changes_the_count(clock):
    site = SiteFactory(time_zone="UTC")
    lag = customer_of(site, "lag@example.com")
    clock.move_to(NOW, tick=False)
    start, _ = window_of(site, D)
    outside = start - timedelta(minutes=3)
    record(site, lag, outside)
    record(site, lag, outside + timedelta(minutes=5))  # in the window, within the step: not rewritten
    with scope(site=site):
        lag.refresh_from_db()
    assert lag.last_activity_at == outside  # last_activity_at itself is just outside the window
    assert outside + timedelta(minutes=5) - lag.last_activity_at < LAST_ACTIVITY_STEP
    assert active_emails(site, D) == {"lag@example.com"}
    with scope(site=site):
        assert explain_activity(lag, D)["value"] is True
        assert compute_usage(site, day=D).active_customers == 1


def test_last_activity_at_moves_only_by_more_than_the_step_and_only_forward(clock):
    site = SiteFactory()
    mo = customer_of(site, "mo@example.com")
    clock.move_to(NOW, tick=False)
    first = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    record(site, mo, first)
    record(site, mo, first + LAST_ACTIVITY_STEP)
    with scope(site=site):
        mo.refresh_from_db()
    assert mo.last_activity_at == first
    record(site, mo, first + LAST_ACTIVITY_STEP + timedelta(seconds=1))
    record(site, mo, first - timedelta(days=3))  # a late event from the past
    with scope(site=site):
        mo.refresh_from_db()
    assert mo.last_activity_at == first + LAST_ACTIVITY_STEP + timedelta(seconds=1)


def test_the_count_equals_the_events_only_count_for_any_history(clock):
    """Random histories (busy contacts, late events, revokes): the count that leaves contacts out by
    last_activity_at agrees, every day, with the one read from the events alone."""
    site = SiteFactory(time_zone="America/Los_Angeles")
    rng = random.Random(20250615)
    people = [customer_of(site, f"p{n}@example.com") for n in range(12)]
    people += [contact_of(site, f"lead{n}@example.com") for n in range(3)]
    clock.move_to(NOW, tick=False)
    base = datetime(2025, 5, 1, tzinfo=UTC)
    for person in people:
        moments = []
        for _ in range(rng.randint(0, 6)):
            moment = base + timedelta(minutes=rng.randint(0, 60 * 24 * 70))
            moments += [moment] + [moment + timedelta(minutes=rng.randint(1, 9)) for _ in range(2)]
        rng.shuffle(moments)
        for moment in moments:
            record(site, person, moment, kind=rng.choice(ActivityKind.values))
    for person in people[:3]:
        with scope(site=site):
            revoke_access(site, access=person.access)  # revoked now, after every day looked at
    with scope(site=site):
        for n in range(0, 80, 3):
            day = date(2025, 5, 1) + timedelta(days=n)
            assert active_customers_on(site, day) == events_only_count(site, day), day
