"""The nightly run counts every site at once (usage.selectors.active_customers.usage_by_site), by the
same rule as one site's count: site by site, day by day, the same active customers as
`active_customers_on`, over several time zones, the window's edges, revoked customers, leads with
activity and events that are not activity. Customers are counted as the day ends, not as they are now."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_scopes import scope, scopes_disabled

from activity.models import ActivityKind
from activity.services import NewEvent, record_events
from offers.services.access import grant_offer, revoke_access
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, SiteFactory
from usage.models import UsageSnapshot
from usage.selectors.active_customers import active_customers_on, usage_by_site, window_of
from usage.services import compute_all_usage, compute_usage

pytestmark = pytest.mark.django_db

SETUP_AT = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 8, 1, 12, 0, tzinfo=UTC)
D = date(2025, 6, 15)
# Paris and Berlin end their days at the same instant: one window, counted together.
ZONES = ["UTC", "America/Los_Angeles", "Pacific/Auckland", "Europe/Paris", "Europe/Berlin"]


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(SETUP_AT, tick=False)
    return time_machine


def people_of(site, clock) -> dict:
    """One of each case around the site's day D; returns them by name."""
    start, end = window_of(site, D)
    with scope(site=site):
        offer = create_offer(site, title="Course")
        people = {
            name: ContactFactory(site=site, email=f"{name}@{site.slug}.example")
            for name in (
                "edge_in",
                "edge_out",
                "at_end",
                "after_end",
                "revoked_before",
                "revoked_after",
                "lead",
                "granted_only",
                "lag",
            )
        }
        access = {
            name: grant_offer(site, offer=offer, contact=person, send_grant_email=False)
            for name, person in people.items()
            if name != "lead"
        }
        clock.move_to(end - timedelta(days=1), tick=False)
        revoke_access(site, access=access["revoked_before"])
        clock.move_to(end + timedelta(hours=1), tick=False)
        revoke_access(site, access=access["revoked_after"])
        clock.move_to(NOW, tick=False)

        def did(name, at, kind=ActivityKind.LESSON_COMPLETED):
            record_events(site, [NewEvent(contact=people[name], kind=kind, occurred_at=at)])

        did("edge_in", end - timedelta(days=29, hours=23))
        did("edge_out", end - timedelta(days=30))
        did("at_end", end)
        did("after_end", end + timedelta(seconds=1))
        did("revoked_before", end - timedelta(days=2))
        did("revoked_after", end - timedelta(days=2))
        did("lead", end - timedelta(days=1), ActivityKind.FORM_SUBMITTED)
        did("granted_only", end - timedelta(days=1), ActivityKind.OFFER_GRANTED)
        did("granted_only", end + timedelta(days=2), ActivityKind.LOGIN)  # last_activity_at is recent
        did("lag", start - timedelta(minutes=3))
        did("lag", start + timedelta(minutes=2))  # within the step: last_activity_at stays outside
    clock.move_to(SETUP_AT, tick=False)
    return people


@pytest.fixture
def sites(clock):
    made = [SiteFactory(slug=f"s-{zone.lower().replace('/', '-')}", time_zone=zone) for zone in ZONES]
    for site in made:
        people_of(site, clock)
    made.append(SiteFactory(slug="empty", time_zone="UTC"))
    clock.move_to(NOW, tick=False)
    return made


def one_by_one(sites, day) -> dict:
    counts = {}
    for site in sites:
        with scope(site=site):
            counts[site.slug] = active_customers_on(site, day)
    return counts


def test_all_sites_at_once_count_exactly_what_each_site_counts_alone(sites):
    for day in (D - timedelta(days=1), D, D + timedelta(days=1), D + timedelta(days=3)):
        together = usage_by_site((site, day) for site in sites)
        assert {site.slug: together[site.pk].active_customers for site in sites} == one_by_one(sites, day)

    on_d = one_by_one(sites, D)
    # edge_in, at_end, revoked_after and lag; never edge_out, after_end, revoked_before, lead, granted_only
    assert on_d == {**{site.slug: 4 for site in sites[:-1]}, "empty": 0}
    assert set(one_by_one(sites, D + timedelta(days=1)).values()) == {2, 0}  # at_end and after_end


def test_the_nightly_run_stores_those_counts_and_the_customers_and_contacts_of_the_day(sites):
    assert compute_all_usage(day=D) == {"computed": 6, "skipped": 0, "failed": 0}
    with scopes_disabled():
        stored = {
            s.site.slug: (s.active_customers, s.customers, s.contacts)
            for s in UsageSnapshot.objects.select_related("site")
        }
    # Customers when D ends: revoked_after still held the access then (is_customer is False today).
    assert stored == {**{site.slug: (4, 7, 9) for site in sites[:-1]}, "empty": (0, 0, 0)}
    with scope(site=sites[1]):
        assert compute_usage(sites[1], day=D).customers == 7  # one site alone: the same figures


def test_the_count_takes_five_queries_per_window_however_many_sites(sites, django_assert_num_queries):
    """Five zones, four windows: Paris and Berlin share one, the empty site joins UTC's. Five counts a
    window: active customers, customers, contacts, and the day's purchases and grants."""
    with django_assert_num_queries(4 * 5):
        usage_by_site((site, D) for site in sites)
    more = [SiteFactory(slug=f"more-{n}", time_zone="Europe/Paris") for n in range(5)]
    with django_assert_num_queries(4 * 5):
        usage_by_site((site, D) for site in sites + more)
