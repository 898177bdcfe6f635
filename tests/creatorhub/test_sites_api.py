"""The site endpoints: who may see a site, and the API's error format."""

import pytest

from creatorhub.roles import Role
from tests.factories import MembershipFactory, UserFactory


def test_a_member_reads_their_site_with_their_role_and_plan(as_user, site, admin):
    response = as_user(admin).get(f"/api/v1/sites/{site.slug}/")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "ana-yoga"
    assert body["role"] == "admin"
    assert body["plan"]["name"] == "Basic"
    assert body["plan"]["active_customer_limit"] == 1000


def test_the_sites_list_shows_each_site_of_the_user_with_their_role_there(as_user, site, other_site):
    user = UserFactory()
    MembershipFactory(site=site, user=user, role=Role.ASSISTANT)
    MembershipFactory(site=other_site, user=user, role=Role.OWNER)
    body = as_user(user).get("/api/v1/sites/").json()
    assert sorted((s["slug"], s["role"]) for s in body["results"]) == [
        ("ana-yoga", "assistant"),
        ("ben-codes", "owner"),
    ]
    assert body["next"] is None
    assert body["previous"] is None


def test_another_sites_user_gets_404_not_403(as_user, site, other_owner):
    response = as_user(other_owner).get(f"/api/v1/sites/{site.slug}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such site."}


def test_an_unknown_site_is_a_json_404(as_user, owner):
    response = as_user(owner).get("/api/v1/sites/no-such-site/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_request_without_credentials_is_a_401_that_names_no_site(api_client, site):
    for url in (f"/api/v1/sites/{site.slug}/", "/api/v1/sites/no-such-site/", "/api/v1/sites/"):
        response = api_client.get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_a_platform_staff_user_without_membership_gets_404(as_user, site):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert as_user(staff).get(f"/api/v1/sites/{site.slug}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_site_accepts_only_reads(as_user, site, owner, method):
    response = getattr(as_user(owner), method)(f"/api/v1/sites/{site.slug}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_session_write_without_csrf_token_is_refused(site, owner):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/api/v1/sites/{site.slug}/api-keys/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
