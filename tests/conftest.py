import functools
import importlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from creatorhub.celery import app as celery_app
from creatorhub.roles import Role
from tests.factories import MembershipFactory, SiteFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; elsewhere they skip and say why."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL (`make test` does when a server answers)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The login user, the owner, makes and drops the test database: the app role (DATABASE_APP_ROLE)
    may not. django_db_setup below puts the role back for the tests."""
    connection.settings_dict["OPTIONS"].pop("assume_role", None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite runs as the product does: on PostgreSQL, as the app role, under row-level security (the
    test database's `migrate` made the role ready)."""
    from django.conf import settings

    if connection.vendor != "postgresql":
        yield
        return
    options = connection.settings_dict["OPTIONS"]
    options["assume_role"] = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock():
        connection.close()
    yield
    del options["assume_role"]
    with django_db_blocker.unblock():
        connection.close()


@pytest.fixture(autouse=True, scope="session")
def _tests_read_every_site_in_a_bare_scopes_disabled():
    """A test's own setup and checks reach every site's rows in a bare `scopes_disabled()`; under
    row-level security that reads nothing (creatorhub.tenancy.database_tenancy), so in tests it is
    platform-wide for the database too. App code never opens one (it uses platform_wide(reason), as
    test_app_code_opens_no_bare_scopes_disabled checks), so it stays under the product's rules."""
    from django_scopes.state import get_scope

    from creatorhub import tenancy

    @functools.wraps(tenancy.database_tenancy)
    def database_tenancy():
        if not get_scope().get("_enabled", True):
            return ("", "on")
        return database_tenancy.__wrapped__()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tenancy, "database_tenancy", database_tenancy)
        yield


# The data migrations' seed functions (idempotent).
SEEDS = [("creatorhub.migrations.0002_seed_plans", "seed_plans")]


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """Transactional tests (real commits: threads, live server, workers) empty every table after each
    test, the rows that data migrations seed too: seed them again before such a test."""
    marker = request.node.get_closest_marker("django_db")
    if (
        "live_server" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        from django.apps import apps

        request.getfixturevalue("transactional_db")
        for module, function in SEEDS:
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _real_broker_for_worker_tests(request):
    """A test marked `worker` publishes to the real worker's Redis instead of running tasks eagerly;
    it skips, saying why, where this machine has no Redis or the suite runs without PostgreSQL."""
    if request.node.get_closest_marker("worker") is None:
        yield
        return
    from tests.support.live_worker import publishing_to_test_broker, redis_answers

    if not redis_answers():
        pytest.skip("needs a Redis server on 127.0.0.1:6379 for the worker's broker")
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database: needs PostgreSQL")
    with publishing_to_test_broker(celery_app):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache_and_files(settings, tmp_path):
    """Each test starts with an empty cache of its own (segment counts are cached) and writes its
    uploads and exports under its own temporary folder."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """Tasks run in the test's process, after commit as in production, even when REDIS_URL names a
    broker (set for the whole session, so module-wide fixtures get it too); `worker` tests start a real
    worker and restore this after them."""
    celery_app.conf.task_always_eager = True


@pytest.fixture
def site(db):
    return SiteFactory(slug="ana-yoga", name="Ana's Yoga Studio")


@pytest.fixture
def other_site(db):
    return SiteFactory(slug="ben-codes", name="Ben Codes")


def _member(site, role):
    return MembershipFactory(site=site, role=role, user=UserFactory(email=f"{role}@{site.slug}.example")).user


@pytest.fixture
def owner(site):
    return _member(site, Role.OWNER)


@pytest.fixture
def admin(site):
    return _member(site, Role.ADMIN)


@pytest.fixture
def assistant(site):
    return _member(site, Role.ASSISTANT)


@pytest.fixture
def other_owner(other_site):
    """The owner of another site: every page and endpoint must refuse them this site's objects."""
    return _member(other_site, Role.OWNER)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def as_user(api_client):
    def login(user):
        api_client.force_authenticate(user=None)
        api_client.force_login(user)
        return api_client

    return login


@pytest.fixture
def redis_server():
    """A redis-server of the test's own (tests/support/servers.py), which it may stop and start."""
    from tests.support.servers import RedisServer, redis_binary

    if redis_binary() is None:
        pytest.skip("needs the redis-server program (Debian: redis-server) for a Redis of the test's own")
    server = RedisServer().start()
    yield server
    server.stop()
