"""The contacts API's cursor pages (DESIGN §2): an import gives many contacts one `created_at`, and the
row comparison that finds a page's start (creatorhub.api.pagination) must break those ties by id."""

from datetime import timedelta
from itertools import pairwise

from django.utils import timezone

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
