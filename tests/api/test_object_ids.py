"""An object id given in a body is a whole number from 1 up to the largest id the database holds: a larger
one is a 400 naming the field, not a 500 (SQLite cannot take it as a query parameter; found by
tests/api/test_schemathesis.py in offers/<id>/revocations/)."""

import pytest

from creatorhub.api.serializers import MAX_ID

TOO_BIG = MAX_ID + 1


@pytest.fixture
def owner_client(as_user, owner):
    return as_user(owner)


@pytest.fixture
def offer_id(owner_client, site):
    response = owner_client.post(f"/api/v1/sites/{site.slug}/offers/", {"title": "Yoga"}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("offers/{offer}/revocations/", {"contact_ids": [TOO_BIG]}, "contact_ids"),
        ("offers/{offer}/grants/", {"contact_ids": [1, TOO_BIG]}, "contact_ids"),
        ("offers/", {"title": "Bundle", "products": [TOO_BIG]}, "products"),
        (
            "purchases/",
            {
                "offer": TOO_BIG,
                "email": "a@example.com",
                "amount": "1",
                "currency": "USD",
                "idempotency_key": "k",
            },
            "offer",
        ),
        ("exports/", {"contact_ids": [TOO_BIG]}, "contact_ids"),
        ("bulk-actions/", {"kind": "revoke_offer", "offer": TOO_BIG, "segment": "all"}, "offer"),
        ("email-templates/member_welcome/preview/", {"contact": TOO_BIG}, "contact"),
    ],
)
def test_an_id_too_big_for_the_database_is_a_400_naming_the_field(
    owner_client, site, offer_id, path, body, field
):
    response = owner_client.post(
        f"/api/v1/sites/{site.slug}/{path.format(offer=offer_id)}", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_an_event_for_a_contact_id_too_big_is_refused_by_its_index(owner_client, site):
    events = [{"contact": TOO_BIG, "kind": "login", "occurred_at": "2026-01-01T00:00:00Z"}]
    response = owner_client.post(f"/api/v1/sites/{site.slug}/events/", events, format="json")
    assert response.status_code == 400
    assert "contact" in response.json()["fields"]["events"]["0"]


def test_the_largest_id_is_still_an_id_that_names_nothing(owner_client, site, offer_id):
    response = owner_client.post(
        f"/api/v1/sites/{site.slug}/offers/{offer_id}/revocations/", {"contact_ids": [MAX_ID]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"revoked": 0}
