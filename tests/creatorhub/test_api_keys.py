"""Site API keys: shown once, stored hashed, scoped to one site, `Authorization: Bearer <key>`."""

import pytest
from django_scopes import scope, scopes_disabled

from creatorhub import services
from creatorhub.models import ApiKey
from creatorhub.roles import Role


def keys_url(slug):
    return f"/api/v1/sites/{slug}/api-keys/"


def bearer(api_client, secret):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api_client


@pytest.fixture
def key_and_secret(site, owner):
    with scope(site=site):
        return services.create_api_key(site, name="Zapier", role=Role.ADMIN, acting_user=owner)


def test_owner_creates_a_key_and_sees_its_secret_once(as_user, site, owner):
    client = as_user(owner)
    created = client.post(keys_url(site.slug), {"name": "Checkout", "role": "admin"}, format="json")
    assert created.status_code == 201
    secret = created.json()["key"]
    assert secret.startswith(f"chk_{created.json()['prefix']}_")

    listed = client.get(keys_url(site.slug)).json()["results"]
    assert [k["name"] for k in listed] == ["Checkout"]
    assert "key" not in listed[0]
    assert "key" not in client.get(keys_url(site.slug) + f"{listed[0]['id']}/").json()


def test_the_secret_is_stored_only_as_a_hash(site, key_and_secret):
    api_key, secret = key_and_secret
    with scopes_disabled():
        stored = ApiKey.objects.values().get(pk=api_key.pk)
    assert secret not in [str(value) for value in stored.values()]
    assert len(stored["key_hash"]) == 64


def test_a_key_authenticates_requests_to_its_site(api_client, site, key_and_secret):
    api_key, secret = key_and_secret
    response = bearer(api_client, secret).get(f"/api/v1/sites/{site.slug}/")
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_a_revoked_key_is_refused(api_client, site, owner, key_and_secret):
    api_key, secret = key_and_secret
    with scope(site=site):
        services.revoke_api_key(site, api_key=api_key)
    response = bearer(api_client, secret).get(f"/api/v1/sites/{site.slug}/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("secret", ["chk_nope_nope", "garbage", "chk_a_b_c"])
def test_an_unknown_or_malformed_key_is_refused(api_client, site, secret):
    assert bearer(api_client, secret).get(f"/api/v1/sites/{site.slug}/").status_code == 401


def test_a_key_with_a_tampered_secret_is_refused(api_client, site, key_and_secret):
    _, secret = key_and_secret
    assert bearer(api_client, secret[:-2] + "xx").get(f"/api/v1/sites/{site.slug}/").status_code == 401


def test_another_sites_key_gets_404(api_client, site, other_site, other_owner):
    with scope(site=other_site):
        _, secret = services.create_api_key(
            other_site, name="Theirs", role=Role.OWNER, acting_user=other_owner
        )
    assert bearer(api_client, secret).get(f"/api/v1/sites/{site.slug}/").status_code == 404
    assert bearer(api_client, secret).get(keys_url(site.slug)).status_code == 404


def test_a_key_acts_with_the_scopes_of_its_role(api_client, site, owner):
    with scope(site=site):
        _, secret = services.create_api_key(site, name="Reader", role=Role.ASSISTANT, acting_user=owner)
    response = bearer(api_client, secret).get(keys_url(site.slug))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_owner_revokes_a_key_through_the_api(as_user, api_client, site, owner, key_and_secret):
    api_key, secret = key_and_secret
    assert as_user(owner).delete(keys_url(site.slug) + f"{api_key.pk}/").status_code == 204
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    api_client.logout()
    assert bearer(api_client, secret).get(f"/api/v1/sites/{site.slug}/").status_code == 401


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ASSISTANT])
def test_only_owners_manage_keys(as_user, site, role, request):
    client = as_user(request.getfixturevalue(role))
    assert client.get(keys_url(site.slug)).status_code == 403
    assert client.post(keys_url(site.slug), {"name": "x"}, format="json").status_code == 403


def test_creating_a_key_without_a_name_is_a_400_with_field_errors(as_user, site, owner):
    response = as_user(owner).post(keys_url(site.slug), {"name": "", "role": "boss"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "role"}
    with scopes_disabled():
        assert not ApiKey.objects.exists()


def test_another_sites_owner_cannot_see_or_revoke_this_sites_keys(
    as_user, site, other_site, other_owner, key_and_secret
):
    api_key, _ = key_and_secret
    client = as_user(other_owner)
    assert client.get(keys_url(site.slug)).status_code == 404
    assert client.delete(keys_url(site.slug) + f"{api_key.pk}/").status_code == 404
    # Their own site's URL with this site's key id: the id is looked up in their scope, so 404.
    assert client.delete(keys_url(other_site.slug) + f"{api_key.pk}/").status_code == 404
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
