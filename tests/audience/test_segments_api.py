"""The segments API: default and saved segments with their counts, a segment's
contacts through `contacts/?segment=`, filters validated with clear errors, and tenant isolation."""

import json

import pytest
from django_scopes import scope

from audience.services import saved_segments
from contacts import services
from contacts.models import Contact, Segment, SubscriptionStatus, Tag
from tests.factories import ContactFactory

SUBSCRIBED = {"all": [{"field": "status", "op": "is", "value": "subscribed"}]}


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/segments/{rest}"


@pytest.fixture
def admin_client(as_user, admin):
    return as_user(admin)


@pytest.fixture
def people(site):
    ContactFactory(site=site, email="sub@example.net", subscription_status=SubscriptionStatus.SUBSCRIBED)
    ContactFactory(site=site, email="customer@example.net", is_customer=True)
    ContactFactory(site=site, email="plain@example.net")


def test_the_default_segments_come_first_with_their_counts(admin_client, site, people):
    body = admin_client.get(url(site)).json()
    assert [(s["id"], s["name"], s["count"], s["is_default"]) for s in body["results"]] == [
        ("all", "All", 3, True),
        ("customers", "Customers", 1, True),
        ("subscribed", "Subscribed", 1, True),
    ]
    assert body["next"] is None


def test_a_saved_segment_is_created_listed_and_counted(admin_client, site, people):
    response = admin_client.post(url(site), {"name": "Newsletter", "filters": SUBSCRIBED}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Newsletter"
    assert body["count"] == 1
    assert body["is_default"] is False
    assert body["description"] == ["Subscription status is subscribed"]
    assert admin_client.get(url(site, f"{body['id']}/")).json()["count"] == 1
    assert [s["name"] for s in admin_client.get(url(site)).json()["results"]][-1] == "Newsletter"


def test_a_segments_contacts_are_listed_through_the_contacts_endpoint(admin_client, site, people):
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Newsletter", filters=SUBSCRIBED)
    response = admin_client.get(f"/api/v1/sites/{site.slug}/contacts/?segment={saved.pk}")
    assert [c["email"] for c in response.json()["results"]] == ["sub@example.net"]
    customers = admin_client.get(f"/api/v1/sites/{site.slug}/contacts/?segment=customers").json()
    assert [c["email"] for c in customers["results"]] == ["customer@example.net"]


def test_filters_in_the_query_narrow_a_segment(admin_client, site, people):
    filters = json.dumps({"all": [{"field": "search", "op": "contains", "value": "PLAIN"}]})
    response = admin_client.get(
        f"/api/v1/sites/{site.slug}/contacts/", {"segment": "all", "filters": filters}
    )
    assert [c["email"] for c in response.json()["results"]] == ["plain@example.net"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("not json", "Give the filters as JSON."),
        (
            json.dumps({"all": [{"field": "colour", "op": "is", "value": 1}]}),
            "Filter 1: unknown field 'colour'",
        ),
        (json.dumps({"all": [{"field": "tag", "op": "is", "value": 1}]}), "Filter 1: tag takes the operator"),
    ],
)
def test_bad_filters_in_the_query_are_a_400_naming_the_filter(admin_client, site, filters, message):
    response = admin_client.get(f"/api/v1/sites/{site.slug}/contacts/", {"filters": filters})
    assert response.status_code == 400
    assert response.json()["fields"]["filters"][0].startswith(message)


def test_saving_bad_filters_is_a_400_and_saves_nothing(admin_client, site):
    bad = {"all": [{"field": "added", "op": "after", "value": "last tuesday"}]}
    response = admin_client.post(url(site), {"name": "Broken", "filters": bad}, format="json")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["fields"]["filters"][0]
    with scope(site=site):
        assert not Segment.objects.exists()


def test_a_segment_name_is_unique_whatever_its_case(admin_client, site):
    admin_client.post(url(site), {"name": "VIP", "filters": SUBSCRIBED}, format="json")
    response = admin_client.post(url(site), {"name": "vip", "filters": SUBSCRIBED}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["name"] == ["A segment is already named “vip”."]


def test_preview_counts_filters_before_saving(admin_client, site, people):
    response = admin_client.post(url(site, "preview/"), {"filters": SUBSCRIBED}, format="json")
    assert response.json() == {"count": 1}


def test_a_saved_segment_is_renamed_refiltered_and_deleted(admin_client, site, people):
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Newsletter", filters=SUBSCRIBED)
    customers = {"all": [{"field": "customer", "op": "is", "value": True}]}
    response = admin_client.patch(
        url(site, f"{saved.pk}/"), {"name": "Buyers", "filters": customers}, format="json"
    )
    assert response.json()["name"] == "Buyers"
    assert response.json()["count"] == 1
    assert admin_client.delete(url(site, f"{saved.pk}/")).status_code == 204
    with scope(site=site):
        assert not Segment.objects.exists()


def test_the_default_segments_cannot_be_changed(admin_client, site):
    response = admin_client.delete(url(site, "customers/"))
    assert response.status_code == 400
    assert response.json()["fields"]["segment"] == ["The default segments cannot be changed."]


def test_an_assistant_reads_segments_but_cannot_save_one(as_user, assistant, site):
    client = as_user(assistant)
    assert client.get(url(site)).status_code == 200
    assert client.post(url(site), {"name": "X", "filters": SUBSCRIBED}, format="json").status_code == 403


def test_a_saved_segment_whose_tag_is_gone_matches_nobody_as_on_the_tab(admin_client, site, people):
    """A saved segment's filters were checked when saved: using it reads no table to check them again,
    and a tag deleted since (there is no such page; the Django admin could) simply matches nobody."""
    with scope(site=site):
        tag = services.tags_named(site, ["webinar"])[0]
        services.add_tags(site, contact=Contact.objects.get(email="sub@example.net"), names=["webinar"])
        saved = saved_segments.create_segment(
            site, name="Webinar", filters={"all": [{"field": "tag", "op": "has", "value": tag.pk}]}
        )
    listed = admin_client.get(f"/api/v1/sites/{site.slug}/contacts/?segment={saved.pk}")
    assert [c["email"] for c in listed.json()["results"]] == ["sub@example.net"]
    with scope(site=site):
        Tag.objects.filter(pk=tag.pk).delete()
    listed = admin_client.get(f"/api/v1/sites/{site.slug}/contacts/?segment={saved.pk}")
    assert listed.status_code == 200
    assert listed.json()["results"] == []
    page = admin_client.get(f"/app/{site.slug}/contacts/?segment={saved.pk}")
    assert page.status_code == 200


def test_another_sites_segment_is_a_404_and_its_tags_are_refused(as_user, admin, site, other_site):
    with scope(site=other_site):
        theirs = saved_segments.create_segment(other_site, name="Theirs", filters=SUBSCRIBED)
        their_tag = services.tags_named(other_site, ["secret"])[0]
    client = as_user(admin)
    assert client.get(url(site, f"{theirs.pk}/")).status_code == 404
    assert client.delete(url(site, f"{theirs.pk}/")).status_code == 404
    listed = client.get(f"/api/v1/sites/{site.slug}/contacts/?segment={theirs.pk}")
    assert listed.status_code == 400
    uses_their_tag = {"all": [{"field": "tag", "op": "has", "value": their_tag.pk}]}
    response = client.post(url(site), {"name": "Sneaky", "filters": uses_their_tag}, format="json")
    assert response.status_code == 400
    assert f"no tag with id {their_tag.pk} on this site" in response.json()["fields"]["filters"][0]


def test_another_sites_user_cannot_see_this_sites_segments(as_user, other_owner, site):
    assert as_user(other_owner).get(url(site)).status_code == 404
