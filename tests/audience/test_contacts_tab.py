"""The Contacts tab: segments as tabs with their counts, filters in the URL and the filter
builder, search, cursor paging, saved segments, and the actions on a selection — chosen contacts or all
that match — with the role each needs and every id looked up inside the site."""

import html
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from audience.services import saved_segments
from contacts import services
from contacts.models import (
    BulkAction,
    ConsentSource,
    Contact,
    Export,
    Segment,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.services import Consent
from offers.models import Access, GrantJob
from offers.services import catalog
from offers.services.access import Granter, grant_offer
from tests.factories import ContactFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop")


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW):
        yield


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def listed(response) -> list[str]:
    return [contact.email.split("@")[0] for contact in response.context["contacts"]]


def tab(site, **params):
    return f"/app/{site.slug}/contacts/", params


def filters(*items) -> str:
    return json.dumps({"all": list(items)})


@pytest.fixture
def world(site, owner):
    """Six contacts of Ana's site, newest first: Maya (subscribed; tags VIP and Yoga; active 2 days
    ago), Liam (a customer of “Yoga Basics”; tag Yoga; active 40 days ago), Arjun (signed up with the
    newsletter form, then opted out; active 3 days ago), Chloé (bounced), Noah (pending) and James (never
    subscribed, no name, an .com address)."""
    with scope(site=site):
        newsletter = services.create_form(site, name="Newsletter", slug="newsletter", double_opt_in=False)
        offer = catalog.create_offer(site, title="Yoga Basics")
        retreat = catalog.create_offer(site, title="Retreat")

        def person(handle, name, days_ago, domain="example.org", **fields):
            return ContactFactory(
                site=site, email=f"{handle}@{domain}", name=name, created_at=NOW - days_ago * DAY, **fields
            )

        maya = person("maya", "Maya Fernandes", 1)
        services.subscribe(site, contact=maya, by=TEAM)
        services.add_tags(site, contact=maya, names=["VIP", "Yoga"])
        liam = person("liam", "Liam O'Connor", 2)
        grant_offer(site, offer=offer, contact=liam, send_grant_email=False, by=Granter(user=owner))
        services.add_tags(site, contact=liam, names=["Yoga"])
        services.submit_form(site, form=newsletter, email="arjun@example.org", name="Arjun Patel")
        arjun = Contact.objects.get(email="arjun@example.org")
        Contact.objects.filter(pk=arjun.pk).update(created_at=NOW - 5 * DAY)
        services.unsubscribe(
            site, contact=arjun, reason=UnsubscribeReason.OPTED_OUT, by=Consent(source=ConsentSource.LINK)
        )
        chloe = person(
            "chloe",
            "Chloé Dubois",
            10,
            subscription_status=SubscriptionStatus.UNSUBSCRIBED,
            unsubscribe_reason=UnsubscribeReason.BOUNCED,
        )
        noah = person("noah", "Noah Kim", 20, subscription_status=SubscriptionStatus.PENDING)
        james = person("james", "", 40, domain="example.com")
        Contact.objects.filter(pk=maya.pk).update(last_activity_at=NOW - 2 * DAY)
        Contact.objects.filter(pk=liam.pk).update(last_activity_at=NOW - 40 * DAY)
        Contact.objects.filter(pk=arjun.pk).update(last_activity_at=NOW - 3 * DAY)
        Contact.objects.exclude(pk__in=[maya.pk, liam.pk, arjun.pk]).update(last_activity_at=None)
        vip, yoga = services.tags_named(site, ["VIP", "Yoga"])
    return dict(
        maya=maya,
        liam=liam,
        arjun=arjun,
        chloe=chloe,
        noah=noah,
        james=james,
        offer=offer,
        retreat=retreat,
        newsletter=newsletter,
        vip=vip,
        yoga=yoga,
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def get(client, site, **params):
    return client.get(f"/app/{site.slug}/contacts/", params)


# -- Tabs, counts, search, paging ---------------------------------------------------------------------


def test_the_tab_lists_every_contact_newest_first_with_its_columns(owner_client, site, world):
    response = get(owner_client, site)
    assert response.status_code == 200
    assert listed(response) == ["maya", "liam", "arjun", "chloe", "noah", "james"]
    page = text(response)
    for column in ("Name", "Email", "Status", "Tags", "Added", "Last activity"):
        assert f" {column} " in page
    assert "Unsubscribed · hard bounce" in page
    assert "Unsubscribed · opted out" in page
    body = response.content.decode()
    assert body.count('aria-label="Customer"') == 1  # the blue check on Liam's avatar


def test_names_emails_and_tags_are_shown_as_text_never_as_markup(owner_client, site):
    with scope(site=site):
        contact = ContactFactory(site=site, name='<img src=x onerror="alert(1)">', email="a&b@example.net")
        services.add_tags(site, contact=contact, names=["<b>VIP</b>"])
    page = owner_client.get(*tab(site)).content.decode()
    assert "<img src=x" not in page
    assert "<b>VIP</b>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;b&gt;VIP&lt;/b&gt;" in page
    assert "a&amp;b@example.net" in page
    assert 'aria-hidden="true">&lt;</span>' in page  # the avatar's initial


def test_the_default_and_saved_segments_are_tabs_with_their_counts(owner_client, site, world):
    with scope(site=site):
        saved_segments.create_segment(
            site, name="VIP", filters={"all": [{"field": "tag", "op": "has", "value": world["vip"].pk}]}
        )
    response = get(owner_client, site)
    tabs = [(t["name"], t["count"]) for t in response.context["tabs"]]
    assert tabs == [("All", "6"), ("Customers", "1"), ("Subscribed", "1"), ("VIP", "1")]
    assert re.search(r'aria-current="page">All <span class="count">6</span>', response.content.decode())
    customers = get(owner_client, site, segment="customers")
    assert listed(customers) == ["liam"]
    assert re.search(r'aria-current="page">Customers', customers.content.decode())


def test_counts_are_cached_not_counted_again_on_every_view(owner_client, site, world):
    get(owner_client, site)
    with CaptureQueriesContext(connection) as queries:
        response = get(owner_client, site)
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_change_made_from_the_tab_shows_in_the_counts_at_once(
    owner_client, site, world, django_capture_on_commit_callbacks
):
    assert get(owner_client, site).context["tabs"][2]["count"] == "1"
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            f"/app/{site.slug}/contacts/bulk/subscribe/",
            {"contact_ids": [world["james"].pk], "consent": "Asked at the workshop", "attestation": "on"},
        )
    assert get(owner_client, site).context["tabs"][2]["count"] == "2"


def test_search_finds_contacts_by_name_or_email_inside_the_segment(owner_client, site, world):
    assert listed(get(owner_client, site, q="ARJUN")) == ["arjun"]
    assert listed(get(owner_client, site, q="example.com")) == ["james"]
    assert listed(get(owner_client, site, q="o'connor")) == ["liam"]
    assert listed(get(owner_client, site, segment="customers", q="maya")) == []
    response = get(owner_client, site, q="nobody")
    assert "No contacts match “nobody”." in text(response)


def test_the_dates_show_in_the_sites_time_zone(owner_client, site, world):
    site.time_zone = "Asia/Tokyo"
    site.save()
    with scope(site=site):
        Contact.objects.filter(pk=world["maya"].pk).update(
            last_activity_at=datetime(2026, 3, 9, 20, 30, tzinfo=UTC)
        )
    assert "Mar 10, 2026, 05:30" in text(get(owner_client, site))


def test_the_tab_is_paged_by_cursor_newest_first_keeping_the_view(owner_client, site):
    with scope(site=site):
        for n in range(120):
            ContactFactory(site=site, email=f"p{n:03}@example.net", created_at=NOW - n * timedelta(minutes=1))
    seen, url, pages = [], f"/app/{site.slug}/contacts/?q=example.net", 0
    while url:
        response = owner_client.get(url)
        assert response.status_code == 200
        seen += listed(response)
        pages += 1
        url = response.context["next_url"]
        if url:
            assert parse_qs(urlsplit(url).query)["q"] == ["example.net"]
    assert pages == 3
    assert seen == [f"p{n:03}" for n in range(120)]
    assert "Newest contacts" in text(response)


def test_a_broken_page_link_is_a_400_that_shows_the_newest_contacts(owner_client, site, world):
    response = get(owner_client, site, before="not-a-cursor")
    assert response.status_code == 400
    assert "This page link is not valid" in text(response)
    assert listed(response)[0] == "maya"


def test_a_page_costs_the_same_few_queries_whatever_its_size(
    owner_client, site, world, django_assert_max_num_queries
):
    """Tags are prefetched and the counts cached: no query per row."""
    with scope(site=site):
        tag = services.tags_named(site, ["Bulk"])[0]
        for n in range(60):
            contact = ContactFactory(site=site, email=f"bulk{n}@example.net", created_at=NOW - 50 * DAY)
            services.add_tags(site, contact=contact, names=[tag.name, f"t{n}"])
    get(owner_client, site), get(owner_client, site, q="maya")  # the counts are cached from here
    with CaptureQueriesContext(connection) as small:
        assert len(listed(get(owner_client, site, q="maya"))) == 1
    with CaptureQueriesContext(connection) as full:
        assert len(listed(get(owner_client, site))) == 50
    assert len(full.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(12):
        get(owner_client, site, filters=filters({"field": "tag", "op": "has", "value": tag.pk}))


# -- Filters in the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"field": "status", "op": "is", "value": "subscribed"}], ["maya"]),
        ([{"field": "status", "op": "is", "value": "unsubscribed"}], ["arjun", "chloe"]),
        ([{"field": "status", "op": "is", "value": "unsubscribed", "reason": "bounced"}], ["chloe"]),
        (
            [{"field": "status", "op": "is_not", "value": "never_subscribed"}],
            ["maya", "arjun", "chloe", "noah"],
        ),
        ([{"field": "customer", "op": "is", "value": True}], ["liam"]),
        ([{"field": "customer", "op": "is", "value": False}], ["maya", "arjun", "chloe", "noah", "james"]),
        ([{"field": "tag", "op": "has", "value": "vip"}], ["maya"]),
        ([{"field": "tag", "op": "has_not", "value": "yoga"}], ["arjun", "chloe", "noah", "james"]),
        ([{"field": "offer", "op": "has", "value": "offer"}], ["liam"]),
        (
            [{"field": "offer", "op": "has_not", "value": "retreat"}],
            ["maya", "liam", "arjun", "chloe", "noah", "james"],
        ),
        ([{"field": "form", "op": "submitted", "value": "newsletter"}], ["arjun"]),
        (
            [{"field": "form", "op": "not_submitted", "value": "newsletter"}],
            ["maya", "liam", "chloe", "noah", "james"],
        ),
        ([{"field": "added", "op": "after", "value": 6}], ["maya", "liam", "arjun"]),
        ([{"field": "added", "op": "before", "value": 15}], ["noah", "james"]),
        ([{"field": "added", "op": "before", "value": "2026-02-28"}], ["noah", "james"]),
        ([{"field": "added", "op": "before", "value": "2026-03-01"}], ["chloe", "noah", "james"]),
        ([{"field": "last_activity", "op": "never"}], ["chloe", "noah", "james"]),
        ([{"field": "last_activity", "op": "after", "value": 7}], ["maya", "arjun"]),
        ([{"field": "last_activity", "op": "before", "value": 30}], ["liam"]),
        ([{"field": "search", "op": "contains", "value": "DUBOIS"}], ["chloe"]),
        (
            [
                {
                    "any": [
                        {"field": "tag", "op": "has", "value": "vip"},
                        {"field": "customer", "op": "is", "value": True},
                    ]
                }
            ],
            ["maya", "liam"],
        ),
        (
            [
                {"field": "status", "op": "is", "value": "unsubscribed"},
                {"field": "added", "op": "after", "value": 7},
            ],
            ["arjun"],
        ),
    ],
)
def test_each_filter_in_the_url_lists_its_contacts(owner_client, site, world, items, expected):
    for item in items:  # name the rows of the world by their fixture key
        for f in item.get("any", [item]):
            if isinstance(f.get("value"), str) and f["value"] in world:
                f["value"] = world[f["value"]].pk
    response = get(owner_client, site, filters=json.dumps({"all": items}))
    assert response.status_code == 200
    assert listed(response) == expected
    assert response.context["view_count"] == len(expected)


def test_filters_narrow_the_segment_they_are_on(owner_client, site, world):
    yoga = filters({"field": "tag", "op": "has", "value": world["yoga"].pk})
    assert listed(get(owner_client, site, segment="customers", filters=yoga)) == ["liam"]
    assert listed(get(owner_client, site, segment="subscribed", filters=yoga, q="maya")) == ["maya"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "The filters in this link are not valid JSON."),
        ("[1, 2]", 'Filters are an object {"all": [filter, …]}.'),
        (filters({"field": "colour", "op": "is", "value": 1}), "Filter 1: unknown field 'colour'"),
        (filters({"field": ["tag"], "op": "has", "value": 1}), "Filter 1: unknown field"),
        (filters({"field": "tag", "op": "is", "value": 1}), "Filter 1: tag takes the operator"),
        (filters({"field": "added", "op": "after", "value": "last tuesday"}), "YYYY-MM-DD"),
        (filters({"field": "customer", "op": "is", "value": "yes"}), "Filter 1: the value is true or false."),
        (json.dumps({"all": [{"any": []}]}), "Filter 1: an OR group lists 1 to 20 filters."),
    ],
)
def test_invalid_filters_in_the_url_are_a_400_with_a_clear_message(owner_client, site, world, value, message):
    response = get(owner_client, site, segment="customers", filters=value)
    assert response.status_code == 400
    assert "These filters cannot be used:" in text(response)
    assert message in text(response)
    assert listed(response) == ["liam"]  # the segment, without the filters


def test_a_filter_on_another_sites_tag_is_refused(owner_client, site, other_site, world):
    with scope(site=other_site):
        theirs = services.tags_named(other_site, ["secret"])[0]
    response = get(owner_client, site, filters=filters({"field": "tag", "op": "has", "value": theirs.pk}))
    assert response.status_code == 400
    assert f"no tag with id {theirs.pk} on this site" in text(response)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"filters": filters({"field": "search", "op": "contains", "value": "a\x00b"})},
        {"filters": filters({"field": "tag", "op": "has", "value": 10**30})},
        {"filters": filters({"field": "added", "op": "after", "value": "9999-12-31"})},
        {"filters": filters({"field": "added", "op": "before", "value": "0001-01-01"})},
        {"filters": "1" * 30_000},
        {"segment": str(10**30)},
        {"before": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgMTAwMDAwMDAwMDAwMDAwMDAwMDAwMF0="},
        {"builder": "apply", "c0_0_field": "search", "c0_0_value": "x\x00"},
        {"builder": "apply", "c0_0_field": "tag", "c0_0_value": "9" * 40},
        {"builder": "remove:999999999999999999999.1"},
        {"builder": "or:99999999999999999999", "or99999999999999999999_field": "tag"},
    ],
)
def test_a_hand_made_link_is_never_a_server_error(owner_client, site, world, params):
    for path in ("", "count/", "builder/", "bulk/delete/"):
        response = owner_client.get(f"/app/{site.slug}/contacts/{path}", params)
        assert response.status_code in (200, 302, 400, 404), (path, response.status_code)
    response = owner_client.post(bulk_url(site, "add_tag"), {**params, "contact_ids": ["1" * 18], "tag": "x"})
    assert response.status_code in (302, 400, 404)


# -- The filter builder -----------------------------------------------------------------------------------


def test_without_javascript_adding_a_filter_draws_it_with_its_operators_and_values(owner_client, site, world):
    response = get(owner_client, site, builder="add", new_field="tag")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="c0_0_field" value="tag"' in body
    assert '<select id="c0_0_op" name="c0_0_op" autofocus>' in body
    assert f'<option value="{world["vip"].pk}">VIP</option>' in body
    assert listed(response) == ["maya", "liam", "arjun", "chloe", "noah", "james"]  # not applied yet


def test_applying_the_builder_sends_to_the_url_of_its_filters(owner_client, site, world):
    response = get(
        owner_client,
        site,
        segment="customers",
        builder="apply",
        c0_0_field="tag",
        c0_0_op="has",
        c0_0_value=str(world["yoga"].pk),
        c1_0_field="added",
        c1_0_op="after",
        c1_0_days="6",
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["segment"] == ["customers"]
    assert json.loads(query["filters"][0]) == {
        "all": [
            {"field": "tag", "op": "has", "value": world["yoga"].pk},
            {"field": "added", "op": "after", "value": 6},
        ]
    }
    assert listed(owner_client.get(response["Location"])) == ["liam"]


def test_an_or_alternative_joins_the_filters_group(owner_client, site, world):
    draft = dict(c0_0_field="tag", c0_0_op="has", c0_0_value=str(world["vip"].pk))
    response = get(owner_client, site, builder="or:0", or0_field="customer", **draft)
    assert 'name="c0_1_field" value="customer"' in response.content.decode()
    applied = get(owner_client, site, builder="apply", c0_1_field="customer", c0_1_value="yes", **draft)
    filters_ = json.loads(parse_qs(urlsplit(applied["Location"]).query)["filters"][0])
    assert filters_ == {
        "all": [
            {
                "any": [
                    {"field": "tag", "op": "has", "value": world["vip"].pk},
                    {"field": "customer", "op": "is", "value": True},
                ]
            }
        ]
    }
    assert listed(owner_client.get(applied["Location"])) == ["maya", "liam"]


def test_removing_a_filter_leaves_the_others(owner_client, site, world):
    response = get(
        owner_client,
        site,
        builder="remove:0.0",
        c0_0_field="tag",
        c0_0_value=str(world["vip"].pk),
        c1_0_field="status",
        c1_0_value="pending",
    )
    groups = response.context["groups"]
    assert [[c.field for c in group] for group in groups] == [["status"]]
    assert 'id="new_field" name="new_field" autofocus' in response.content.decode()


def test_applying_an_incomplete_filter_says_what_is_missing(owner_client, site, world):
    response = get(owner_client, site, builder="apply", c0_0_field="tag", c0_0_op="has", c0_0_value="")
    assert response.status_code == 400
    assert "These filters are not applied: Filter 1: choose a tag." in text(response)
    response = get(
        owner_client,
        site,
        builder="apply",
        c0_0_field="added",
        c0_0_op="after",
        c0_0_days="3",
        c0_0_date="2026-01-01",
    )
    assert "Filter 1: give a day or a number of days ago, not both." in text(response)


def test_the_builder_shows_the_applied_filters(owner_client, site, world):
    applied = filters(
        {"field": "status", "op": "is", "value": "unsubscribed", "reason": "opted_out"},
        {"field": "last_activity", "op": "after", "value": "2026-03-01"},
    )
    body = get(owner_client, site, filters=applied).content.decode()
    assert '<option value="unsubscribed" selected>unsubscribed</option>' in body
    assert '<option value="opted_out" selected>opted out</option>' in body
    assert 'name="c1_0_date" value="2026-03-01"' in body


def test_htmx_gets_the_builder_alone_after_a_button(owner_client, site, world):
    response = owner_client.get(
        f"/app/{site.slug}/contacts/builder/",
        {"builder": "add", "new_field": "status", "builder_for": "tab", "segment": "customers"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="filter-builder"')
    assert 'name="c0_0_field" value="status"' in body
    assert '<input type="hidden" name="segment" value="customers">' in body


def test_the_count_follows_the_builder_as_it_is_filled(owner_client, site, world):
    url = f"/app/{site.slug}/contacts/count/"
    vip = {"builder_for": "tab", "c0_0_field": "tag", "c0_0_op": "has", "c0_0_value": world["vip"].pk}
    assert "1 contact matches in All" in text(owner_client.get(url, vip))
    assert "0 contacts match in Customers" in text(owner_client.get(url, {**vip, "segment": "customers"}))
    assert "6 contacts match in All" in text(owner_client.get(url, {"builder_for": "tab"}))
    incomplete = text(owner_client.get(url, {**vip, "c0_0_value": ""}))
    assert "To count, complete the filters: Filter 1: choose a tag." in incomplete


# -- Saved segments -------------------------------------------------------------------------------------


def test_the_view_is_saved_as_a_segment_that_shows_as_a_tab_with_its_count(owner_client, site, world):
    yoga = filters({"field": "tag", "op": "has", "value": world["yoga"].pk})
    response = owner_client.post(
        f"/app/{site.slug}/contacts/segments/new/",
        {"name": "Yoga customers", "segment": "customers", "filters": yoga},
    )
    with scope(site=site):
        saved = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/contacts/?segment={saved.pk}"
    assert saved.filters == {
        "all": [
            {"field": "customer", "op": "is", "value": True},
            {"field": "tag", "op": "has", "value": world["yoga"].pk},
        ]
    }
    page = owner_client.get(response["Location"])
    assert ("Yoga customers", "1") in [(t["name"], t["count"]) for t in page.context["tabs"]]
    assert "Saved the segment “Yoga customers”: 1 contact." in text(page)
    assert listed(page) == ["liam"]


def test_a_search_is_saved_as_a_filter_of_the_segment(owner_client, site, world):
    owner_client.post(f"/app/{site.slug}/contacts/segments/new/", {"name": "Dot com", "q": "example.com"})
    with scope(site=site):
        assert Segment.objects.get().filters == {
            "all": [{"field": "search", "op": "contains", "value": "example.com"}]
        }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("vip", "A segment is already named “vip”."),
        ("", "This field is required."),
        ("customers", "is a default"),
    ],
)
def test_a_segment_name_that_is_taken_or_empty_is_a_form_error(owner_client, site, world, name, message):
    with scope(site=site):
        saved_segments.create_segment(site, name="VIP", filters={"all": []})
    response = owner_client.post(
        f"/app/{site.slug}/contacts/segments/new/",
        {"name": name, "filters": filters({"field": "customer", "op": "is", "value": True})},
    )
    assert response.status_code == 400
    assert message in text(response)
    with scope(site=site):
        assert Segment.objects.count() == 1


def test_a_saved_segment_is_renamed_and_refiltered_on_its_page(owner_client, site, world):
    with scope(site=site):
        saved = saved_segments.create_segment(
            site, name="VIP", filters={"all": [{"field": "tag", "op": "has", "value": world["vip"].pk}]}
        )
    url = f"/app/{site.slug}/contacts/segments/{saved.pk}/"
    page = owner_client.get(url)
    assert page.status_code == 200
    assert f'<option value="{world["vip"].pk}" selected>VIP</option>' in page.content.decode()
    assert "1 contact matches" in text(page)
    response = owner_client.post(
        url,
        {
            "name": "VIP or customer",
            "builder": "save",
            "c0_0_field": "tag",
            "c0_0_op": "has",
            "c0_0_value": world["vip"].pk,
            "c0_1_field": "customer",
            "c0_1_value": "yes",
        },
    )
    assert response.status_code == 302
    with scope(site=site):
        saved.refresh_from_db()
    assert saved.name == "VIP or customer"
    assert listed(owner_client.get(response["Location"])) == ["maya", "liam"]


def test_without_javascript_the_segment_page_adds_a_filter_without_saving(owner_client, site, world):
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Everyone", filters={"all": []})
    url = f"/app/{site.slug}/contacts/segments/{saved.pk}/"
    response = owner_client.post(url, {"name": "Everyone", "builder": "add", "new_field": "form"})
    assert response.status_code == 200
    assert f'<option value="{world["newsletter"].pk}">Newsletter</option>' in response.content.decode()
    with scope(site=site):
        saved.refresh_from_db()
    assert saved.filters == {"all": []}
    response = owner_client.post(url, {"name": "Everyone", "builder": "save", "c0_0_field": "form"})
    assert response.status_code == 400
    assert "Filter 1: choose a form." in text(response)


def test_a_saved_segment_is_deleted_and_no_contact_changes(owner_client, site, world):
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Everyone", filters={"all": []})
    response = owner_client.post(f"/app/{site.slug}/contacts/segments/{saved.pk}/delete/")
    assert response.status_code == 302
    with scope(site=site):
        assert not Segment.objects.exists()
        assert Contact.objects.count() == 6
    assert "Deleted the segment “Everyone”. No contact was changed." in text(
        owner_client.get(response["Location"])
    )


# -- Actions on a selection ------------------------------------------------------------------------------


def bulk_url(site, kind):
    return f"/app/{site.slug}/contacts/bulk/{kind}/"


def tags_of(site, contact):
    with scope(site=site):
        return sorted(t.name for t in Contact.objects.get(pk=contact.pk).tags.all())


def test_the_step_page_says_what_the_action_does_to_how_many(owner_client, site, world):
    ids = [world["maya"].pk, world["liam"].pk]
    response = owner_client.get(bulk_url(site, "add_tag"), {"contact_ids": ids})
    assert response.status_code == 200
    page = text(response)
    assert "Add a tag" in page
    assert "2 selected contacts Maya Fernandes, Liam O'Connor." in page
    assert "Add the tag to 2 contacts" in page
    assert (
        '<datalist id="existing-tags"><option value="VIP"><option value="Yoga"></datalist>'
        in response.content.decode()
    )


def test_tagging_selected_contacts_tells_what_it_did_and_shows_the_result(owner_client, site, world):
    ids = [world["maya"].pk, world["liam"].pk]
    response = owner_client.post(bulk_url(site, "add_tag"), {"contact_ids": ids, "tag": "VIP"})
    with scope(site=site):
        action = BulkAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/contacts/actions/{action.pk}/"
    assert (action.status, action.changed, action.skipped) == ("done", 1, 1)
    assert tags_of(site, world["liam"]) == ["VIP", "Yoga"]
    page = text(owner_client.get(response["Location"]))
    assert "Tagged 1 contact “VIP”. Skipped 1 (Already had the tag: 1)." in page
    assert "Tagged 1" in page
    assert "Already had the tag: 1" in page


def test_select_all_on_this_page_without_javascript_takes_the_pages_contacts(owner_client, site, world):
    page_ids = [world[k].pk for k in ("maya", "liam", "arjun", "chloe", "noah", "james")]
    response = owner_client.get(bulk_url(site, "remove_tag"), {"select_page": "1", "page_ids": page_ids})
    assert "6 selected contacts" in text(response)
    response = owner_client.post(bulk_url(site, "remove_tag"), {"contact_ids": page_ids, "tag": "yoga"})
    assert response.status_code == 302
    assert tags_of(site, world["maya"]) == ["VIP"]
    assert tags_of(site, world["liam"]) == []


def test_subscribing_all_matching_skips_those_who_unsubscribed_themselves(owner_client, site, world):
    not_subscribed = filters({"field": "status", "op": "is_not", "value": "subscribed"})
    step = owner_client.get(bulk_url(site, "subscribe"), {"matching": "1", "filters": not_subscribed})
    assert "All 5 contacts of this view" in text(step)
    response = owner_client.post(
        bulk_url(site, "subscribe"),
        {
            "matching": "1",
            "filters": not_subscribed,
            "consent": "These contacts asked to receive marketing email",
            "attestation": "on",
        },
    )
    assert response.status_code == 302
    with scope(site=site):
        action = BulkAction.objects.get()
        assert action.selection["filters"]["all"][0]["op"] == "is_not"  # the segment selection, not ids
        statuses = dict(Contact.objects.values_list("email", "subscription_status"))
    assert (action.changed, action.skipped) == (3, 2)
    assert sorted(action.skipped_reasons.values()) == [1, 1]
    assert sorted(r.split("(")[-1].rstrip(")") for r in action.skipped_reasons) == [
        "hard bounce",
        "opted out",
    ]
    assert statuses["james@example.com"] == statuses["noah@example.org"] == "subscribed"
    assert statuses["chloe@example.org"] == "unsubscribed"
    page = text(owner_client.get(response["Location"]))
    assert "Subscribed 3 contacts to marketing email. Skipped 2" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"attestation": "on"}, "Say how these contacts gave their consent."),
        ({"consent": "They asked"}, "Confirm that these contacts agreed to receive marketing emails."),
    ],
)
def test_subscribing_needs_the_consent_statement_and_the_attestation(
    owner_client, site, world, data, message
):
    response = owner_client.post(bulk_url(site, "subscribe"), {"contact_ids": [world["james"].pk], **data})
    assert response.status_code == 400
    assert message in text(response)
    with scope(site=site):
        assert not BulkAction.objects.exists()


def test_unsubscribing_a_selection(owner_client, site, world):
    response = owner_client.post(
        bulk_url(site, "unsubscribe"), {"contact_ids": [world["maya"].pk, world["chloe"].pk]}
    )
    assert response.status_code == 302
    with scope(site=site):
        maya = Contact.objects.get(pk=world["maya"].pk)
    assert (maya.subscription_status, maya.unsubscribe_reason) == ("unsubscribed", "manual")
    assert "Unsubscribed 1 contact from marketing email. Skipped 1 (Already unsubscribed: 1)." in text(
        owner_client.get(response["Location"])
    )


def test_deleting_all_matching_confirms_the_exact_count_first(owner_client, site, world):
    unsubscribed = filters({"field": "status", "op": "is", "value": "unsubscribed"})
    step = owner_client.get(bulk_url(site, "delete"), {"matching": "1", "filters": unsubscribed})
    assert step.status_code == 200
    page = text(step)
    assert "This deletes 2 contacts with their consent history" in page
    assert "Delete 2 contacts" in page
    with scope(site=site):
        assert Contact.objects.count() == 6  # the step page changes nothing
    response = owner_client.post(bulk_url(site, "delete"), {"matching": "1", "filters": unsubscribed})
    assert response.status_code == 302
    with scope(site=site):
        assert sorted(Contact.objects.values_list("email", flat=True)) == [
            "james@example.com",
            "liam@example.org",
            "maya@example.org",
            "noah@example.org",
        ]
    assert "Deleted 2 contacts with their consent history." in text(owner_client.get(response["Location"]))


def test_deleting_chosen_contacts_confirms_their_number(owner_client, site, world):
    step = owner_client.get(bulk_url(site, "delete"), {"contact_ids": [world["james"].pk]})
    assert "This deletes 1 contact with" in text(step)
    owner_client.post(bulk_url(site, "delete"), {"contact_ids": [world["james"].pk]})
    with scope(site=site):
        assert not Contact.objects.filter(pk=world["james"].pk).exists()


def test_granting_an_offer_to_a_selection_runs_a_grant_job(
    owner_client, site, world, mailoutbox, django_capture_on_commit_callbacks
):
    ids = [world["maya"].pk, world["liam"].pk]
    step = owner_client.get(bulk_url(site, "grant"), {"contact_ids": ids})
    assert re.search(r'<input type="checkbox" name="send_grant_email"[^>]* checked', step.content.decode())
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs the job after commit
        response = owner_client.post(
            bulk_url(site, "grant"),
            {"contact_ids": ids, "offer": world["offer"].pk, "send_grant_email": "on"},
        )
    with scope(site=site):
        job = GrantJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/grant-jobs/{job.pk}/"
    assert (job.status, job.granted, job.skipped) == ("done", 1, 1)  # Liam held it already
    assert [m.subject for m in mailoutbox if "Yoga Basics" in m.subject]
    assert "Granting “Yoga Basics” to 2 selected contacts." in text(owner_client.get(response["Location"]))


def test_granting_to_all_matching_without_the_email(
    owner_client, site, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            bulk_url(site, "grant"), {"matching": "1", "segment": "subscribed", "offer": world["retreat"].pk}
        )
    assert response.status_code == 302
    with scope(site=site):
        job = GrantJob.objects.get()
        assert list(
            Access.objects.filter(offer=world["retreat"]).values_list("contact__email", flat=True)
        ) == ["maya@example.org"]
    assert job.send_grant_email is False
    assert job.target["segment"] == "subscribed"
    assert not [m for m in mailoutbox if "Retreat" in m.subject]


def test_an_archived_offer_cannot_be_granted(owner_client, site, world):
    with scope(site=site):
        catalog.archive_offer(site, offer=world["retreat"])
    response = owner_client.post(
        bulk_url(site, "grant"), {"contact_ids": [world["maya"].pk], "offer": world["retreat"].pk}
    )
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)


def test_revoking_an_offer_from_all_matching(owner_client, site, world):
    response = owner_client.post(
        bulk_url(site, "revoke_offer"), {"matching": "1", "segment": "customers", "offer": world["offer"].pk}
    )
    assert response.status_code == 302
    with scope(site=site):
        assert not Access.objects.filter(revoked_at=None).exists()
        assert not Contact.objects.get(pk=world["liam"].pk).is_customer
    assert "Revoked “Yoga Basics” from 1 contact; nothing was sent." in text(
        owner_client.get(response["Location"])
    )


def test_export_posts_the_selection_to_the_export(
    owner_client, site, world, django_capture_on_commit_callbacks
):
    customers = {"matching": "1", "segment": "customers"}
    step = owner_client.get(bulk_url(site, "export"), customers)
    body = step.content.decode()
    assert f'action="/app/{site.slug}/exports/new/"' in body
    assert '<input type="hidden" name="segment" value="customers">' in body
    assert '<input type="hidden" name="matching" value="1">' in body
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/app/{site.slug}/exports/new/", customers)
    assert response.status_code == 302
    with scope(site=site):
        assert Export.objects.get().total == 1


def test_an_action_without_a_selection_sends_back_to_the_tab(owner_client, site, world):
    response = owner_client.get(bulk_url(site, "add_tag"), {"segment": "customers"})
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/contacts/?segment=customers"
    assert "Select contacts first" in text(owner_client.get(response["Location"]))


def test_bad_ids_or_an_unknown_action_are_refused(owner_client, site, world):
    response = owner_client.get(bulk_url(site, "add_tag"), {"contact_ids": ["x1"]})
    assert response.status_code == 400
    assert "The chosen contacts are not valid" in text(response)
    assert owner_client.get(bulk_url(site, "paint"), {"contact_ids": [world["maya"].pk]}).status_code == 404
    response = owner_client.get(bulk_url(site, "delete"), {"matching": "1", "filters": "{"})
    assert response.status_code == 400


def test_a_large_selection_runs_on_a_worker_and_its_page_polls_until_done(
    owner_client, site, world, django_capture_on_commit_callbacks
):
    with scope(site=site):
        for n in range(100):
            ContactFactory(site=site, email=f"many{n}@example.net", created_at=NOW - 60 * DAY)
    with django_capture_on_commit_callbacks() as queued:  # the worker has not run it yet
        response = owner_client.post(bulk_url(site, "add_tag"), {"matching": "1", "tag": "Many"})
    assert len(queued) == 1
    page = owner_client.get(response["Location"])
    assert "Add a tag: started for 106 contacts. This page shows its progress." in text(page)
    assert 'hx-trigger="every 2s"' in page.content.decode()
    assert "Queued 0 of 106 worked" in text(page)
    queued[0]()  # the worker's turn
    page = owner_client.get(response["Location"], headers={"HX-Request": "true"})
    assert "Done 106 of 106 worked" in text(page)
    assert "hx-trigger" not in page.content.decode()


def test_the_progress_page_answers_htmx_with_its_part_alone(owner_client, site, world):
    owner_client.post(bulk_url(site, "add_tag"), {"contact_ids": [world["noah"].pk], "tag": "New"})
    with scope(site=site):
        action = BulkAction.objects.get()
    response = owner_client.get(
        f"/app/{site.slug}/contacts/actions/{action.pk}/", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="action-progress"' in body
    assert "hx-trigger" not in body  # done: no more polling
    assert "HX-Request" in response["Vary"]


# -- Roles ---------------------------------------------------------------------------------------------


def test_the_assistant_tags_but_sees_and_may_do_nothing_more(client, site, assistant, world):
    client.force_login(assistant)
    page = get(client, site)
    labels = [a["label"] for a in page.context["actions"]]
    assert labels == ["Add a tag", "Remove a tag"]
    assert "Save as segment" not in text(get(client, site, q="maya"))
    assert (
        client.post(bulk_url(site, "add_tag"), {"contact_ids": [world["maya"].pk], "tag": "Met"}).status_code
        == 302
    )
    for kind, data in [
        ("delete", {}),
        ("grant", {"offer": world["offer"].pk}),
        ("revoke_offer", {"offer": world["offer"].pk}),
        ("subscribe", {"consent": "x", "attestation": "on"}),
        ("unsubscribe", {}),
        ("export", {}),
    ]:
        assert client.get(bulk_url(site, kind), {"contact_ids": [world["maya"].pk]}).status_code == 403, kind
        assert (
            client.post(bulk_url(site, kind), {"contact_ids": [world["maya"].pk], **data}).status_code == 403
        ), kind
    assert client.post(f"/app/{site.slug}/contacts/segments/new/", {"name": "Mine"}).status_code == 403
    with scope(site=site):
        assert Contact.objects.count() == 6
        assert not GrantJob.objects.exists()


# -- Tenancy -------------------------------------------------------------------------------------------


def test_another_sites_user_gets_a_404_on_every_page_of_the_tab(client, site, other_owner, world):
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Everyone", filters={"all": []})
        action = BulkAction.objects.create(
            site=site, kind="add_tag", selection={"contact_ids": [1]}, description="1 selected contact"
        )
    client.force_login(other_owner)
    base = f"/app/{site.slug}/contacts/"
    for url in (
        base,
        base + "count/",
        base + "builder/",
        base + f"bulk/add_tag/?contact_ids={world['maya'].pk}",
        base + f"actions/{action.pk}/",
        base + f"segments/{saved.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(base + "segments/new/", {"name": "x"}).status_code == 404
    assert client.post(base + f"segments/{saved.pk}/delete/").status_code == 404
    assert client.post(base + "bulk/delete/", {"contact_ids": [world["maya"].pk]}).status_code == 404
    with scope(site=site):
        assert Segment.objects.exists()
        assert Contact.objects.count() == 6


def test_another_sites_segment_is_a_404(owner_client, site, other_site, world):
    with scope(site=other_site):
        theirs = saved_segments.create_segment(other_site, name="Theirs", filters={"all": []})
    base = f"/app/{site.slug}/contacts/"
    assert get(owner_client, site, segment=theirs.pk).status_code == 404
    assert owner_client.get(base + "count/", {"builder_for": "tab", "segment": theirs.pk}).status_code == 404
    assert owner_client.get(base + f"segments/{theirs.pk}/").status_code == 404
    assert owner_client.post(base + f"segments/{theirs.pk}/", {"name": "Mine"}).status_code == 404
    assert owner_client.post(base + f"segments/{theirs.pk}/delete/").status_code == 404
    response = owner_client.post(bulk_url(site, "delete"), {"matching": "1", "segment": theirs.pk})
    assert response.status_code == 404
    assert get(owner_client, site, segment="²").status_code == 404
    with scope(site=other_site):
        assert Segment.objects.filter(pk=theirs.pk).exists()
    with scope(site=site):
        assert Contact.objects.count() == 6


def test_another_sites_contact_ids_in_an_action_are_a_404_and_nothing_is_touched(
    owner_client, site, other_site, world
):
    with scope(site=other_site):
        theirs = ContactFactory(site=other_site, email="theirs@example.net")
    for kind, data in [
        ("delete", {}),
        ("add_tag", {"tag": "Stolen"}),
        ("grant", {"offer": world["offer"].pk}),
    ]:
        response = owner_client.post(
            bulk_url(site, kind), {"contact_ids": [world["maya"].pk, theirs.pk], **data}
        )
        assert response.status_code == 404, kind
    with scope(site=other_site):
        assert Contact.objects.filter(pk=theirs.pk, tags__isnull=True).exists()
        assert not Access.objects.exists()
    with scope(site=site):
        assert Contact.objects.count() == 6
        assert not BulkAction.objects.exists()
        assert not GrantJob.objects.exists()


def test_another_sites_bulk_action_is_a_404(owner_client, site, other_site):
    with scope(site=other_site):
        theirs = BulkAction.objects.create(
            site=other_site, kind="delete", selection={"contact_ids": [1]}, description="1 selected contact"
        )
    assert owner_client.get(f"/app/{site.slug}/contacts/actions/{theirs.pk}/").status_code == 404


def test_the_tab_asks_for_login_first(client, site):
    response = client.get(f"/app/{site.slug}/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
