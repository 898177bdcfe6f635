"""Granting an offer to everyone a segment matches — a saved segment, or the filter
builder's filters and search — through `POST offers/<id>/grants/`, run as a job. Exactly the matched
contacts hold the offer afterwards; new customers get the Offer Grant Confirmation and the Member
Welcome, existing customers only the confirmation, holders nothing."""

from unittest import mock

import pytest
from django_scopes import scope
from kombu.exceptions import OperationalError

from audience.services import saved_segments
from contacts import services
from creatorhub.tasks import NOT_STARTED
from emails.models import OutboundEmail
from offers.models import Access, GrantJob
from offers.services.access import grant_offer
from tests.factories import ContactFactory

CONFIRMATION = "Ana's Yoga Studio gave you Yoga Basics Course"
WELCOME = "Welcome to Ana's Yoga Studio: set your password"


def grants_url(site, offer):
    return f"/api/v1/sites/{site.slug}/offers/{offer.pk}/grants/"


@pytest.fixture
def client(as_user, admin):
    return as_user(admin)


@pytest.fixture
def people(in_site, offer, other_offer):
    """Ana: VIP, not a customer; cleo: VIP, a customer of the retreat; dev: VIP, holds the course
    already; eve: no tag, not a customer."""
    found = {name: ContactFactory(site=in_site, email=f"{name}@example.com", name=name.title()) for name in
             ("ana", "cleo", "dev", "eve")}  # fmt: skip
    for name in ("ana", "cleo", "dev"):
        services.add_tags(in_site, contact=found[name], names=["VIP"])
    grant_offer(in_site, offer=other_offer, contact=found["cleo"], send_grant_email=False)
    grant_offer(in_site, offer=offer, contact=found["dev"], send_grant_email=False)
    OutboundEmail.objects.all().delete()
    return found


@pytest.fixture
def vip(in_site, people):
    return in_site.tags.get(name="VIP")


@pytest.fixture
def vips(in_site, vip):
    return saved_segments.create_segment(in_site, name="VIPs", filters={"all": [tag_has(vip)]})


def tag_has(tag) -> dict:
    return {"field": "tag", "op": "has", "value": tag.pk}


@pytest.fixture
def post(client, site, offer, django_capture_on_commit_callbacks):
    """Posts a grant and runs what waits for commit: the job (a Celery task, eager in tests) and the
    emails it queues. Returns the answer and the job as it is afterwards."""

    def grant(payload):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(grants_url(site, offer), payload, format="json")
        job = client.get(response.json()["url"]).json() if response.status_code == 202 else None
        return response, job

    return grant


def holders(offer) -> list[str]:
    return sorted(
        Access.objects.filter(offer=offer, revoked_at=None).values_list("contact__email", flat=True)
    )


def mails(mailoutbox) -> list[tuple[str, str]]:
    return sorted((message.to[0], message.subject) for message in mailoutbox)


def test_a_grant_to_a_saved_segment_gives_the_offer_to_exactly_its_contacts(
    post, offer, people, vips, mailoutbox
):
    response, job = post({"segment": vips.pk})

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["total"]) == ("queued", 3)
    assert response.json()["target"]["description"] == "the segment “VIPs”"
    assert (job["status"], job["granted"], job["skipped"], job["failed"]) == ("done", 2, 1, 0)
    assert job["skips"] == [{"target": "dev@example.com", "reason": "Already holds the offer."}]
    assert sorted(a["email"] for a in job["accesses"]) == ["ana@example.com", "cleo@example.com"]
    assert holders(offer) == ["ana@example.com", "cleo@example.com", "dev@example.com"]
    assert mails(mailoutbox) == [
        ("ana@example.com", CONFIRMATION),  # a new customer: the confirmation and the welcome
        ("ana@example.com", WELCOME),
        ("cleo@example.com", CONFIRMATION),  # already a customer: the confirmation only
    ]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    ("payload", "granted", "skipped", "sent"),
    [
        (
            {"filters": "vip", "search": "CLEO"},
            ["cleo@example.com"],
            0,
            [("cleo@example.com", CONFIRMATION)],
        ),
        (
            {"segment": "customers", "filters": "vip"},
            ["cleo@example.com"],
            1,
            [("cleo@example.com", CONFIRMATION)],
        ),
        (
            {"filters": {"all": [{"field": "customer", "op": "is", "value": False}]}},
            ["ana@example.com", "eve@example.com"],
            0,
            [
                ("ana@example.com", CONFIRMATION),
                ("ana@example.com", WELCOME),
                ("eve@example.com", CONFIRMATION),
                ("eve@example.com", WELCOME),
            ],
        ),
    ],
)
def test_a_grant_to_filters_and_a_search_gives_the_offer_to_the_contacts_they_match(
    post, offer, vip, mailoutbox, payload, granted, skipped, sent
):
    if payload.get("filters") == "vip":
        payload = {**payload, "filters": {"all": [tag_has(vip)]}}

    response, job = post(payload)

    assert response.status_code == 202
    assert (job["status"], job["granted"], job["skipped"]) == ("done", len(granted), skipped)
    assert sorted(a["email"] for a in job["accesses"]) == granted
    assert mails(mailoutbox) == sent


def test_a_grant_without_the_grant_email_still_welcomes_new_customers(post, offer, vips, mailoutbox):
    _, job = post({"segment": vips.pk, "send_grant_email": False})
    assert job["granted"] == 2
    assert mails(mailoutbox) == [("ana@example.com", WELCOME)]


def test_the_segment_is_matched_when_the_job_runs(
    client, site, offer, people, vips, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(grants_url(site, offer), {"segment": vips.pk}, format="json")
    services.add_tags(site, contact=people["eve"], names=["vip"])  # before the worker gets to the job
    for callback in callbacks:
        callback()
    job = client.get(response.json()["url"]).json()
    assert (job["total"], job["granted"], job["skipped"]) == (3, 3, 1)
    assert holders(offer) == ["ana@example.com", "cleo@example.com", "dev@example.com", "eve@example.com"]


def test_another_sites_contacts_are_never_granted(post, offer, other_site, people, vip):
    with scope(site=other_site):
        theirs = ContactFactory(site=other_site, email="ana@example.com")
        services.add_tags(other_site, contact=theirs, names=["VIP"])
    _, job = post({"segment": "all"})
    assert (job["total"], job["granted"]) == (4, 3)
    with scope(site=other_site):
        assert not Access.objects.exists()


def test_another_sites_segment_is_a_field_error(client, site, offer, other_site):
    with scope(site=other_site):
        theirs = saved_segments.create_segment(other_site, name="Everyone", filters={"all": []})
    response = client.post(grants_url(site, offer), {"segment": theirs.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"segment": [f"No segment '{theirs.pk}' on this site."]}
    assert not GrantJob.objects.exists()


def test_invalid_filters_are_a_400_with_the_message(client, site, offer):
    filters = {"all": [{"field": "colour", "op": "is", "value": "red"}]}
    response = client.post(grants_url(site, offer), {"filters": filters}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "filters": [
            "Filter 1: unknown field 'colour'; use one of status, customer, active_customer, offer, tag, "
            "form, added, last_activity, search."
        ]
    }
    assert not GrantJob.objects.exists()


def test_another_sites_tag_in_the_filters_is_a_400(client, site, offer, other_site):
    with scope(site=other_site):
        (their_tag,) = services.tags_named(other_site, ["VIP"])
    payload = {"segment": "all", "filters": {"all": [tag_has(their_tag)]}}
    response = client.post(grants_url(site, offer), payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "filters": [f"Filter 1: no tag with id {their_tag.pk} on this site."]
    }
    assert not GrantJob.objects.exists()


def test_a_grant_job_started_with_the_broker_down_fails_saying_so_and_grants_nothing(post, vips, offer):
    down = mock.patch("audience.tasks.run_grant_job_task.delay", side_effect=OperationalError("refused"))
    with down:
        response, job = post({"segment": vips.pk})
    assert response.status_code == 202
    assert job["status"] == "failed"
    assert job["errors"] == [{"target": "", "reason": NOT_STARTED}]
    assert holders(offer) == ["dev@example.com"]
