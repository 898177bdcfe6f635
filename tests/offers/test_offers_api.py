"""The offers API: offers, grants (the accesses created and skipped), revokes, purchases."""

import pytest
from django_scopes import scope, scopes_disabled

from contacts.models import Contact
from creatorhub import services as core_services
from creatorhub.roles import Role
from emails.models import OutboundEmail
from offers.models import Access, GrantJob, Offer, Purchase
from offers.services import access as access_services
from tests.factories import ContactFactory


def api(site, rest):
    return f"/api/v1/sites/{site.slug}/{rest}"


@pytest.fixture
def client(as_user, admin):
    return as_user(admin)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        yield


def test_admin_creates_edits_and_archives_an_offer(client, site, course):
    created = client.post(
        api(site, "offers/"),
        {"title": "Yoga", "price": "49.00", "currency": "eur", "products": [course.pk]},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["currency"], body["products"], body["archived_at"]) == ("EUR", [course.pk], None)
    edited = client.patch(api(site, f"offers/{body['id']}/"), {"price": "59.00"}, format="json")
    assert edited.json()["price"] == "59.00"
    assert client.delete(api(site, f"offers/{body['id']}/")).status_code == 204
    assert client.get(api(site, f"offers/{body['id']}/")).json()["archived_at"] is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "price": "-1"}, "price"),
        ({"title": "x", "currency": "US"}, "currency"),
        ({"title": "x", "products": [999999]}, "products"),
        ({"title": "x", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_offer_is_a_400_naming_the_field(client, site, in_site, payload, field):
    response = client.post(api(site, "offers/"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Offer.objects.exists()


def test_grant_to_listed_contacts_answers_with_the_accesses_created_and_skipped(client, site, offer, commit):
    holder, newcomer = ContactFactory(site=site), ContactFactory(site=site)
    with scope(site=site):
        access_services.grant_offer(site, offer=offer, contact=holder)
    response = client.post(
        api(site, f"offers/{offer.pk}/grants/"),
        {"contact_ids": [holder.pk, newcomer.pk, 999999]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["granted"], body["skipped"], body["failed"]) == ("done", 1, 1, 1)
    assert [a["contact"] for a in body["accesses"]] == [newcomer.pk]
    assert body["skips"] == [{"target": str(holder.pk), "reason": "Already holds the offer."}]
    assert body["errors"] == [{"target": "999999", "reason": "No contact with id 999999 on this site."}]
    assert client.get(body["url"]).json()["granted"] == 1


def test_grant_to_pasted_emails_creates_the_contacts(client, site, offer, commit):
    response = client.post(
        api(site, f"offers/{offer.pk}/grants/"),
        {"emails": ["new@example.com", "not-an-email"], "send_grant_email": False},
        format="json",
    )
    body = response.json()
    assert (body["granted"], body["failed"]) == (1, 1)
    with scope(site=site):
        access = Access.objects.select_related("contact").get()
        assert (access.contact.email, access.contact.origin) == ("new@example.com", "grant")
        assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["member_welcome"]


def test_grant_to_a_segment_runs_as_a_job(client, site, offer, django_capture_on_commit_callbacks):
    for _ in range(3):
        ContactFactory(site=site)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(api(site, f"offers/{offer.pk}/grants/"), {"segment": "all"}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    job = client.get(response.json()["url"]).json()  # the worker (eager here) ran it after commit
    assert (job["status"], job["total"], job["granted"]) == ("done", 3, 3)


@pytest.mark.parametrize(
    "payload",
    [{}, {"segment": "all", "emails": ["a@example.com"]}, {"segment": "vips"}, {"contact_ids": ["x"]}],
)
def test_a_grant_needs_exactly_one_valid_target(client, site, offer, payload):
    response = client.post(api(site, f"offers/{offer.pk}/grants/"), payload, format="json")
    assert response.status_code == 400
    with scope(site=site):
        assert not GrantJob.objects.exists()


def test_revocations_end_accesses_and_send_nothing(client, site, offer, commit):
    contacts = [ContactFactory(site=site) for _ in range(2)]
    with scope(site=site):
        for contact in contacts:
            access_services.grant_offer(site, offer=offer, contact=contact)
        OutboundEmail.objects.all().delete()
    response = client.post(
        api(site, f"offers/{offer.pk}/revocations/"), {"contact_ids": [c.pk for c in contacts]}, format="json"
    )
    assert response.json() == {"revoked": 2}
    listed = client.get(api(site, f"accesses/?offer={offer.pk}&live=false")).json()["results"]
    assert len(listed) == 2
    with scope(site=site):
        assert not OutboundEmail.objects.exists()


def test_a_purchase_through_the_api_is_idempotent(api_client, site, owner, offer, commit, mailoutbox):
    with scope(site=site):
        _, secret = core_services.create_api_key(site, name="Checkout", role=Role.ADMIN, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    payload = {
        "offer": offer.pk,
        "email": "buyer@example.com",
        "name": "Bea",
        "amount": "49.00",
        "currency": "USD",
        "idempotency_key": "order-1001",
    }
    first = api_client.post(api(site, "purchases/"), payload, format="json")
    again = api_client.post(api(site, "purchases/"), payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with scope(site=site):
        assert Purchase.objects.count() == 1
        assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["purchase_confirmation"]


def test_an_archived_offer_cannot_be_bought_and_a_replay_of_an_earlier_purchase_still_answers(
    client, site, offer, commit
):
    from offers.services import catalog

    payload = {"offer": offer.pk, "email": "early@example.com", "amount": "49.00", "currency": "USD"}
    assert (
        client.post(api(site, "purchases/"), {**payload, "idempotency_key": "k-1"}, format="json").status_code
        == 201
    )
    with scope(site=site):
        catalog.archive_offer(site, offer=offer)
    refused = client.post(
        api(site, "purchases/"),
        {**payload, "email": "late@example.com", "idempotency_key": "k-2"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["fields"]["offer"] == [
        f"The offer “{offer.title}” is archived: it can no longer be bought."
    ]
    replay = client.post(api(site, "purchases/"), {**payload, "idempotency_key": "k-1"}, format="json")
    assert replay.status_code == 200
    with scope(site=site):
        assert Purchase.objects.count() == 1
        assert not Contact.objects.filter(email="late@example.com").exists()


def test_a_purchase_of_an_unknown_offer_is_a_field_error(client, site, in_site):
    response = client.post(
        api(site, "purchases/"),
        {"offer": 424242, "email": "b@example.com", "amount": "1", "currency": "USD", "idempotency_key": "k"},
        format="json",
    )
    assert response.status_code == 400
    assert "offer" in response.json()["fields"]


@pytest.mark.parametrize(
    ("method", "rest", "payload"),
    [
        ("post", "offers/{offer}/grants/", {"segment": "all"}),
        ("post", "offers/{offer}/revocations/", {"contact_ids": [1]}),
        ("post", "offers/", {"title": "x"}),
        ("post", "purchases/", {}),
    ],
)
def test_assistants_read_offers_but_neither_grant_nor_sell(
    as_user, site, assistant, offer, method, rest, payload
):
    client = as_user(assistant)
    assert client.get(api(site, f"offers/{offer.pk}/")).status_code == 200
    response = getattr(client, method)(api(site, rest.format(offer=offer.pk)), payload, format="json")
    assert response.status_code == 403


def test_another_sites_owner_gets_404_for_this_sites_offers_and_accesses(
    as_user, site, other_site, other_owner, offer, commit
):
    contact = ContactFactory(site=site)
    with scope(site=site):
        access = access_services.grant_offer(site, offer=offer, contact=contact)
    client = as_user(other_owner)
    for slug_site in (site, other_site):
        assert client.get(api(slug_site, f"offers/{offer.pk}/")).status_code == 404
        assert (
            client.post(
                api(slug_site, f"offers/{offer.pk}/grants/"), {"segment": "all"}, format="json"
            ).status_code
            == 404
        )
        assert client.post(api(slug_site, f"accesses/{access.pk}/revoke/")).status_code == 404
    response = client.post(
        api(other_site, "purchases/"),
        {
            "offer": offer.pk,
            "email": "x@example.com",
            "amount": "1",
            "currency": "USD",
            "idempotency_key": "k",
        },
        format="json",
    )
    assert response.status_code == 400  # their site has no such offer
    with scopes_disabled():
        assert Access.objects.get(pk=access.pk).revoked_at is None
        assert not Purchase.objects.exists()


def test_a_contact_shows_the_offers_held_and_why_they_are_a_customer(
    client, site, offer, other_offer, commit
):
    contact = ContactFactory(site=site)
    with scope(site=site):
        access = access_services.grant_offer(site, offer=offer, contact=contact)
        access_services.revoke_access(
            site, access=access_services.grant_offer(site, offer=other_offer, contact=contact)
        )
    body = client.get(f"/api/v1/sites/{site.slug}/contacts/{contact.pk}/").json()
    assert body["offers"] == [offer.pk]
    assert body["explanation"]["customer"]["value"] is True
    assert body["explanation"]["customer"]["record"] == {"type": "access", "id": access.pk}
    assert "Holds “Yoga Basics Course” since" in body["explanation"]["customer"]["reason"]
    with scope(site=site):
        access_services.revoke_access(site, access=access)
    after = client.get(f"/api/v1/sites/{site.slug}/contacts/{contact.pk}/").json()
    assert (after["offers"], after["is_customer"]) == ([], False)
    assert "until it was revoked on" in after["explanation"]["customer"]["reason"]


def test_admin_creates_and_edits_a_course_and_adds_lessons(client, site, in_site):
    created = client.post(api(site, "products/"), {"title": "Yoga", "lessons": ["Breathing"]}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    edited = client.patch(api(site, f"products/{pk}/"), {"title": "Yoga Basics"}, format="json")
    assert edited.json()["title"] == "Yoga Basics"
    added = client.post(api(site, f"products/{pk}/lessons/"), {"title": "Sun salutation"}, format="json")
    assert [(lesson["position"], lesson["title"]) for lesson in added.json()["lessons"]] == [
        (1, "Breathing"),
        (2, "Sun salutation"),
    ]
    assert client.patch(api(site, f"products/{pk}/"), {"title": ""}, format="json").status_code == 400


def test_another_sites_owner_cannot_edit_this_sites_courses(as_user, site, other_site, other_owner, course):
    client = as_user(other_owner)
    for slug_site in (site, other_site):
        assert (
            client.patch(api(slug_site, f"products/{course.pk}/"), {"title": "x"}, format="json").status_code
            == 404
        )
        assert (
            client.post(
                api(slug_site, f"products/{course.pk}/lessons/"), {"title": "x"}, format="json"
            ).status_code
            == 404
        )
