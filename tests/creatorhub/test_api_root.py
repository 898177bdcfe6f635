"""The API's shared parts: health, the OpenAPI schema and docs, keyset paging and errors."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from creatorhub import services
from creatorhub.roles import Role


def test_health_answers_ok_when_the_database_answers(api_client, db):
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_health_is_503_when_redis_is_configured_but_down(api_client, db):
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("failing")


def test_health_checks_redis_when_configured(api_client, db):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis server answers on 127.0.0.1:6379")
    with override_settings(REDIS_URL="redis://127.0.0.1:6379/0"):
        assert api_client.get("/api/v1/health/").json()["redis"] == "ok"


def test_the_schema_types_path_ids_and_documents_key_auth(api_client, db):
    response = api_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    revoke = schema["paths"]["/api/v1/sites/{site}/api-keys/{id}/"]["delete"]
    id_param = next(p for p in revoke["parameters"] if p["name"] == "id")
    assert id_param["schema"]["type"] == "integer"
    listing = schema["paths"]["/api/v1/sites/{site}/api-keys/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"cursor", "page_size"}


def test_the_docs_page_is_served(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.fixture
def many_keys(site, owner):
    from django_scopes import scope

    with scope(site=site):
        return [
            services.create_api_key(site, name=f"key {i}", role=Role.ADMIN, acting_user=owner)[0]
            for i in range(7)
        ]


def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(as_user, site, owner, many_keys):
    client = as_user(owner)
    url = f"/api/v1/sites/{site.slug}/api-keys/?page_size=3"
    pages = [client.get(url).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    names = [k["name"] for page in pages for k in page["results"]]
    assert names == [f"key {i}" for i in reversed(range(7))]  # newest first
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None
    assert client.get(pages[2]["previous"]).json()["results"] == pages[1]["results"]
    assert client.get(pages[1]["previous"]).json()["results"] == pages[0]["results"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=%%%", "cursor"),
        ("cursor=bm9wZQ==", "cursor"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=201", "page_size"),
    ],
)
def test_a_bad_cursor_or_page_size_is_a_400_naming_the_field(as_user, site, owner, query, field):
    response = as_user(owner).get(f"/api/v1/sites/{site.slug}/api-keys/?{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_the_schema_is_valid_and_generates_without_warnings(db, tmp_path):
    """Every endpoint is typed: a warning (an untyped field, two enums under one name) fails."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_the_served_schema_is_built_once_per_process_not_per_request(api_client, db, monkeypatch):
    from creatorhub.api import schema as served

    monkeypatch.setattr(served.ServedSchemaGenerator, "built", {})
    builds = []
    real = served.PlatformSchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        builds.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(served.PlatformSchemaGenerator, "get_schema", counted)
    first = api_client.get("/api/v1/schema/?format=json")
    again = api_client.get("/api/v1/schema/?format=json")
    yaml = api_client.get("/api/v1/schema/")
    assert (first.status_code, again.status_code, yaml.status_code) == (200, 200, 200)
    assert first.json() == again.json()
    assert b"openapi:" in yaml.content
    assert len(builds) == 1
