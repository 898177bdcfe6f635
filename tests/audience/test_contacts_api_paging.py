"""The contacts API's cursor pages: an import gives many contacts one `created_at`, and the
row comparison that finds a page's start (creatorhub.api.pagination) must break those ties by id."""

from datetime import timedelta
from itertools import pairwise

from django.utils import timezone
from django_scopes import scope

from tests.factories import ContactFactory


def test_contacts_added_at_one_moment_are_paged_forward_and_back_without_gaps_or_repeats(
    as_user, site, owner
):
    moment = timezone.now()
    tied = [ContactFactory(site=site, created_at=moment) for _ in range(5)]
    newer = ContactFactory(site=site, created_at=moment + timedelta(seconds=1))
    client = as_user(owner)
    pages = [client.get(f"/api/v1/sites/{site.slug}/contacts/?page_size=2").json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    ids = [contact["id"] for page in pages for contact in page["results"]]
    assert ids == [newer.pk, *sorted((c.pk for c in tied), reverse=True)]
    for earlier, page in pairwise(pages):
        assert client.get(page["previous"]).json()["results"] == earlier["results"]


def emails_of(client, site, **params) -> list[str]:
    return [c["email"] for c in client.get(f"/api/v1/sites/{site.slug}/contacts/", params).json()["results"]]


def test_a_day_filter_moves_with_the_sites_day(as_user, site, owner, time_machine):
    """A segment's page is built once per site, filters and day (SameShape on PostgreSQL): a filter in
    days counts from the day of each request."""
    ContactFactory(
        site=site, email="recent@example.com", last_activity_at=timezone.now() - timedelta(days=28)
    )
    client = as_user(owner)
    active = '{"all": [{"field": "last_activity", "op": "after", "value": 30}]}'
    assert emails_of(client, site, filters=active) == ["recent@example.com"]
    assert emails_of(client, site, filters=active) == ["recent@example.com"]
    time_machine.move_to(timezone.now() + timedelta(days=3))
    client = as_user(owner)  # a session does not last days
    assert emails_of(client, site, filters=active) == []


def test_two_sites_with_the_same_filters_each_see_their_own_contacts(as_user, site, owner, other_site):
    from creatorhub.models import Membership
    from creatorhub.roles import Role

    ContactFactory(site=site, email="ours@example.com", subscription_status="subscribed")
    ContactFactory(site=other_site, email="theirs@example.com", subscription_status="subscribed")
    with scope(site=other_site):
        Membership.objects.create(site=other_site, user=owner, role=Role.OWNER)
    client = as_user(owner)
    for _ in range(2):
        assert emails_of(client, site, segment="subscribed") == ["ours@example.com"]
        assert emails_of(client, other_site, segment="subscribed") == ["theirs@example.com"]


def test_a_cursor_without_its_time_zone_is_refused(as_user, site, owner):
    import base64
    import json

    crafted = base64.urlsafe_b64encode(json.dumps([False, "2025-01-01T00:00:00", 1]).encode()).decode()
    response = as_user(owner).get(f"/api/v1/sites/{site.slug}/contacts/", {"cursor": crafted})
    assert response.status_code == 400
    assert "cursor" in str(response.json())


def test_each_search_and_field_filter_gets_its_own_rows_and_a_bad_value_is_refused_each_time(
    as_user, site, owner
):
    """Django-filter's fields are part of a page's shape: each value its own query, built when it cleans."""
    ContactFactory(site=site, email="a%b@example.com", subscription_status="subscribed")
    ContactFactory(site=site, email="axb@example.com", subscription_status="pending")
    client = as_user(owner)
    for _ in range(2):
        assert emails_of(client, site, q="a%b") == ["a%b@example.com"]
        assert emails_of(client, site, q="axb") == ["axb@example.com"]
        assert sorted(emails_of(client, site, q="example")) == ["a%b@example.com", "axb@example.com"]
        assert emails_of(client, site, status="pending") == ["axb@example.com"]
        assert emails_of(client, site, status="pending", q="a%b") == []
        refused = client.get(f"/api/v1/sites/{site.slug}/contacts/", {"status": "bogus"})
        assert refused.status_code == 400
        assert "status" in str(refused.json())
