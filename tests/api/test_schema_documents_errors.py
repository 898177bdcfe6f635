"""The schema documents every status an operation can answer (found by tests/api/test_schemathesis.py):
each operation's errors in the API's one error format, so that a client (and the schema tests) can
rely on the schema for a 400, 401, 403, 404, 413, 415 and, where API keys are throttled, a 429."""

import pytest
from django_scopes import scope
from rest_framework.settings import api_settings

ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def schema(api_client, db) -> dict:
    response = api_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def error_schema(operation: dict, code: str) -> dict:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_each_operation_documents_the_errors_it_can_answer(schema):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message"}
    remove_member = schema["paths"]["/api/v1/sites/{site}/members/{id}/"]["delete"]
    assert {"204", "400", "401", "403", "404"} <= set(remove_member["responses"])  # 400: the last owner
    assert ("429" in remove_member["responses"]) == bool(api_settings.DEFAULT_THROTTLE_CLASSES)
    assert error_schema(remove_member, "404") == ERROR
    create_contact = schema["paths"]["/api/v1/sites/{site}/contacts/"]["post"]
    assert {"400", "401", "403", "404", "413", "415"} <= set(create_contact["responses"])
    assert "404" not in schema["paths"]["/api/v1/sites/"]["get"]["responses"]  # no site or id in its path


def test_health_documents_its_503_and_no_error_of_credentials(schema):
    assert set(schema["paths"]["/api/v1/health/"]["get"]["responses"]) == {"200", "503"}


def test_an_error_the_operation_documents_itself_keeps_its_words_and_gets_the_body(schema):
    record_events = schema["paths"]["/api/v1/sites/{site}/events/"]["post"]
    assert record_events["responses"]["400"]["description"].startswith("Nothing was recorded")
    assert error_schema(record_events, "400") == ERROR


def test_removing_the_last_owner_answers_the_documented_400(as_user, site, owner):
    with scope(site=site):
        membership = owner.memberships.get(site=site)
    response = as_user(owner).delete(f"/api/v1/sites/{site.slug}/members/{membership.pk}/")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
