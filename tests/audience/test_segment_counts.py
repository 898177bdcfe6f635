"""Each segment shows its count. Filters of statuses and the customer flag only are counted from the
counters, exact at every view; other counts are cached per site, filters and search, and
`contacts_changed(site)` makes the next one fresh once the change commits when the team made it; other
changes show within the count's lifetime."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from audience import segments
from audience.services import bulk_actions, saved_segments
from contacts import services
from contacts.counts import contacts_changed
from contacts.models import ConsentSource, SubscriptionStatus
from creatorhub import audit
from creatorhub.services import create_api_key
from tests.factories import ContactFactory

SUBSCRIBED = {"all": [{"field": "status", "op": "is", "value": "subscribed"}]}
EVERYONE = {"all": []}
# Not served by the counters: cached.
ADDED = {"all": [{"field": "added", "op": "after", "value": "2000-01-01"}]}
ADDED_SUBSCRIBED = {"all": [*ADDED["all"], *SUBSCRIBED["all"]]}


def subscriber(site, email):
    return ContactFactory(site=site, email=email, subscription_status=SubscriptionStatus.SUBSCRIBED)


@pytest.fixture
def people(site, other_site):
    """Three subscribers and two others here; one subscriber on the other site."""
    for email in ("ana@example.com", "anabel@example.com", "bo@example.com"):
        subscriber(site, email)
    ContactFactory(site=site, email="cy@example.com", is_customer=True)
    ContactFactory(site=site, email="di@example.com")
    subscriber(other_site, "ana@example.com")


def count(site, filters, search=""):
    with scope(site=site):
        return segments.count(site, filters=segments.clean(site, filters), search=search)


def changed(site, capture):
    """What the dashboard does after changing contacts: forget the counts once the change commits."""
    with scope(site=site), capture(execute=True):
        contacts_changed(site, at_once=True)


@pytest.mark.parametrize(
    ("filters", "search", "expected"),
    [
        (EVERYONE, "", 5),
        (SUBSCRIBED, "", 3),
        (SUBSCRIBED, "ana", 2),
        ({"all": [{"field": "customer", "op": "is", "value": True}]}, "", 1),
        ({"all": [{"any": [SUBSCRIBED["all"][0], {"field": "customer", "op": "is", "value": True}]}]}, "", 4),
        ({"all": [{"field": "active_customer", "op": "is", "value": False}]}, "example", 5),
    ],
)
def test_a_count_is_the_number_of_contacts_matching(site, people, filters, search, expected):
    with scope(site=site):
        cleaned = segments.clean(site, filters)
        matched = segments.matching(site, filters=cleaned, search=search).count()
    assert count(site, filters, search) == matched == expected


def test_the_counters_serve_every_count_of_statuses_and_customers_in_one_query(
    site, people, django_assert_num_queries
):
    bounced_or_complained = {
        "all": [
            {
                "any": [
                    {"field": "status", "op": "is", "value": "unsubscribed", "reason": "bounced"},
                    {"field": "status", "op": "is", "value": "unsubscribed", "reason": "complained"},
                ]
            }
        ]
    }
    ContactFactory(
        site=site, subscription_status=SubscriptionStatus.UNSUBSCRIBED, unsubscribe_reason="complained"
    )
    with scope(site=site):
        wanted = [
            (segments.clean(site, f), "")
            for f in (
                EVERYONE,
                SUBSCRIBED,
                bounced_or_complained,
                {"all": [{"field": "customer", "op": "is", "value": True}]},
            )
        ]
        with django_assert_num_queries(1):
            assert segments.counts(site, wanted) == [6, 3, 1, 1]


def test_a_counted_count_is_exact_at_once_whoever_made_the_change(site, people, owner):
    with scope(site=site):
        key, _ = create_api_key(site, name="Store", role="admin", acting_user=owner)
    with audit.acting(api_key=key), scope(site=site):
        services.create_contact(site, email="eve@example.com", consent=agreed(ConsentSource.API))
    assert (count(site, SUBSCRIBED), count(site, EVERYONE)) == (4, 6)


def test_a_change_rolled_back_is_not_counted(site, people):
    class Failed(Exception):
        pass

    try:
        with scope(site=site), transaction.atomic():
            subscriber(site, "eve@example.com")
            assert segments.count(site, filters=SUBSCRIBED) == 4  # the transaction sees its own change
            raise Failed
    except Failed:
        pass
    assert count(site, SUBSCRIBED) == 3


def test_a_second_cached_count_runs_no_query(site, people, django_assert_num_queries):
    with scope(site=site):
        with django_assert_num_queries(1):
            assert segments.count(site, filters=ADDED_SUBSCRIBED) == 3
        with django_assert_num_queries(0):
            assert segments.count(site, filters=ADDED_SUBSCRIBED) == 3


def test_a_cached_count_stays_until_contacts_change(site, people, django_capture_on_commit_callbacks):
    assert count(site, ADDED_SUBSCRIBED) == 3
    subscriber(site, "eve@example.com")
    assert count(site, ADDED_SUBSCRIBED) == 3  # cached: the change was not announced
    changed(site, django_capture_on_commit_callbacks)
    assert count(site, ADDED_SUBSCRIBED) == 4


def test_contacts_changed_takes_effect_once_the_change_commits(
    site, people, django_capture_on_commit_callbacks
):
    assert count(site, ADDED) == 5
    with scope(site=site), django_capture_on_commit_callbacks() as callbacks:
        ContactFactory(site=site)
        contacts_changed(site, at_once=True)
        assert segments.count(site, filters=ADDED) == 5  # not committed yet
    for callback in callbacks:
        callback()
    assert count(site, ADDED) == 6


def test_a_change_rolled_back_keeps_the_cached_count(site, people, django_capture_on_commit_callbacks):
    assert count(site, ADDED) == 5
    with scope(site=site), django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                contacts_changed(site, at_once=True)
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert count(site, ADDED) == 5


def test_each_search_has_a_count_of_its_own(site, people):
    assert count(site, SUBSCRIBED) == 3
    assert count(site, SUBSCRIBED, search="ANA") == 2
    assert count(site, SUBSCRIBED, search="  ana ") == 2
    assert count(site, SUBSCRIBED, search="bo@") == 1


def test_another_sites_counts_are_separate(site, other_site, people, django_capture_on_commit_callbacks):
    assert (count(site, ADDED_SUBSCRIBED), count(other_site, ADDED_SUBSCRIBED)) == (3, 1)
    subscriber(site, "eve@example.com")
    subscriber(other_site, "eve@example.com")
    changed(site, django_capture_on_commit_callbacks)
    assert (count(site, ADDED_SUBSCRIBED), count(other_site, ADDED_SUBSCRIBED)) == (
        4,
        1,
    )  # only this site's are fresh
    changed(other_site, django_capture_on_commit_callbacks)
    assert count(other_site, ADDED_SUBSCRIBED) == 2


def test_saved_segment_counts_are_cached_and_refreshed_like_the_default_ones(
    site, people, django_capture_on_commit_callbacks
):
    with scope(site=site):
        saved = saved_segments.create_segment(
            site, name="Anas", filters={"all": [{"field": "search", "op": "contains", "value": "ana"}]}
        )
        filters = segments.resolve(str(saved.pk)).filters
    assert count(site, filters) == 2
    ContactFactory(site=site, email="ana.b@example.com")
    assert count(site, filters) == 2
    changed(site, django_capture_on_commit_callbacks)
    assert count(site, filters) == 3


def test_a_bulk_action_makes_the_next_count_fresh(site, people, django_capture_on_commit_callbacks):
    with scope(site=site):
        (vip,) = services.tags_named(site, ["VIP"])
    tagged = {"all": [{"field": "tag", "op": "has", "value": vip.pk}]}
    assert count(site, tagged) == 0
    with scope(site=site), django_capture_on_commit_callbacks(execute=True):
        bulk_actions.start_bulk_action(
            site, kind="add_tag", selection={"segment": "subscribed"}, params={"tag": "VIP"}
        )
    assert count(site, tagged) == 3


def agreed(source: str) -> services.Consent:
    return services.Consent(source=source, note="Signed up at the studio.")


def test_a_team_members_change_shows_at_once(site, people, admin, django_capture_on_commit_callbacks):
    assert count(site, ADDED_SUBSCRIBED) == 3
    with audit.acting(user=admin), scope(site=site), django_capture_on_commit_callbacks(execute=True):
        services.create_contact(site, email="eve@example.com", consent=agreed(ConsentSource.TEAM))
    assert count(site, ADDED_SUBSCRIBED) == 4


def test_an_integrations_change_shows_within_the_counts_lifetime(
    site, people, owner, django_capture_on_commit_callbacks, time_machine, settings
):
    """A purchase every second would otherwise make every view of the tab count again."""
    assert count(site, ADDED_SUBSCRIBED) == 3
    with scope(site=site):
        key, _ = create_api_key(site, name="Store", role="admin", acting_user=owner)
    with audit.acting(api_key=key), scope(site=site), django_capture_on_commit_callbacks(execute=True):
        services.create_contact(site, email="eve@example.com", consent=agreed(ConsentSource.API))
    assert count(site, ADDED_SUBSCRIBED) == 3
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.SEGMENT_COUNT_SECONDS + 1))
    assert count(site, ADDED_SUBSCRIBED) == 4
