"""Under /api/, every error is the API's JSON format, also where Django answers before any view
runs or a parser gives up (found by tests/api/test_schemathesis.py and tests/contacts/test_fuzz_*)."""

import pytest


@pytest.fixture
def owner_client(as_user, owner):
    return as_user(owner)


@pytest.mark.parametrize("path", ["/api/v1/sites/ana-yoga/contacts/0.5/", "/api/v1/no-such-endpoint/"])
def test_an_api_url_that_names_no_endpoint_is_a_json_404(owner_client, path):
    response = owner_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_page_url_that_names_nothing_is_still_an_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_form_body_with_too_many_fields_is_a_json_400(owner_client, site):
    """Django refuses more than 1,000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS): a 400, not its HTML page."""
    body = "&".join(f"contact_ids={i}" for i in range(1001))
    response = owner_client.post(
        f"/api/v1/sites/{site.slug}/exports/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_nested_too_deeply_is_a_400(owner_client, site):
    response = owner_client.post(
        f"/api/v1/sites/{site.slug}/segments/preview/", "[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_filters_nested_too_deeply_in_the_query_are_a_400(owner_client, site):
    response = owner_client.get(f"/api/v1/sites/{site.slug}/contacts/", {"filters": "[" * 100_000})
    assert response.status_code == 400
    assert "filters" in response.json()["fields"]


def raising(error):
    def view(*args, **kwargs):
        raise error

    return view


@pytest.mark.parametrize("driver", [False, True], ids=["django", "driver"])
def test_a_database_that_does_not_answer_is_a_503_with_retry_after(owner_client, site, monkeypatch, driver):
    """A restart or failover (tests/faults/test_postgres_restart.py has the real one): JSON under /api/,
    a short page elsewhere; also for the driver's own error, which an execute wrapper raises unwrapped."""
    from django.db import OperationalError, connection

    error = (connection.Database.OperationalError if driver else OperationalError)(
        "server closed the connection"
    )
    monkeypatch.setattr("audience.api.ContactViewSet.list", raising(error))
    monkeypatch.setattr("offers.member_views.LoginView.get", raising(error))

    response = owner_client.get(f"/api/v1/sites/{site.slug}/contacts/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["code"] == "unavailable"

    page = owner_client.get(f"/s/{site.slug}/login/")
    assert (page.status_code, page["Retry-After"]) == (503, "5")
    assert "Back in a moment" in page.content.decode()
