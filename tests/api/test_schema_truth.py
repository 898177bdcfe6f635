"""The schema says what the API answers (found by tests/api/test_schemathesis.py): fields that can be
null are nullable, a list that answers one object is documented as that object, a segment is
addressed by its key."""

import pytest
from django_scopes import scope

from creatorhub import services
from creatorhub.roles import Role


@pytest.fixture
def schema(api_client, db) -> dict:
    response = api_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("ApiKey", "created_by"),  # a key made by another key
        ("CreatedApiKey", "created_by"),
        ("Invitation", "invited_by"),
        ("Access", "granted_by"),  # a purchase's access, or a grant by an API key
        ("BulkAction", "created_by"),
        ("Export", "created_by"),
        ("ConsentEvent", "form"),  # consent not given on a form
        ("ActivityEvent", "contact_email"),  # the contact was deleted, the event stays
    ],
)
def test_fields_that_can_be_empty_are_nullable_in_the_schema(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field]["nullable"] is True


def test_an_api_key_made_by_an_api_key_shows_no_creator(api_client, site, owner):
    with scope(site=site):
        _key, secret = services.create_api_key(site, name="ci", role=Role.OWNER, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    created = api_client.post(f"/api/v1/sites/{site.slug}/api-keys/", {"name": "zapier", "role": "admin"})
    assert created.status_code == 201
    assert created.json()["created_by"] is None


def test_the_email_templates_list_is_documented_as_the_one_object_it_answers(schema, as_user, owner, site):
    listing = schema["paths"]["/api/v1/sites/{site}/email-templates/"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EmailTemplateList"
    }
    answer = as_user(owner).get(f"/api/v1/sites/{site.slug}/email-templates/").json()
    assert set(answer) == {"results", "next", "previous"}


def test_a_segment_is_addressed_by_its_key_in_the_schema(schema, as_user, owner, site):
    retrieve = schema["paths"]["/api/v1/sites/{site}/segments/{id}/"]["get"]
    [key] = [p for p in retrieve["parameters"] if p["name"] == "id"]
    assert key["schema"]["type"] == "string"
    assert as_user(owner).get(f"/api/v1/sites/{site.slug}/segments/customers/").status_code == 200
