"""PostgreSQL row-level security, the second wall behind django-scopes (creatorhub.rls, creatorhub.checks;
issues #7 and #14).

On PostgreSQL the whole suite runs as the application does, as DATABASE_APP_ROLE (tests/conftest.py).
The tests that change the policies, or show that `check --deploy` fails, switch their transaction to
the tables' owner or to another role (`SET LOCAL ROLE`), which the rollback ends.
"""

import inspect
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from contacts.models import Contact, Tag
from creatorhub import checks, rls, services, tenancy
from creatorhub.models import ApiKey, Membership, Site, SiteOwned
from creatorhub.roles import Role
from creatorhub.tasks import SiteTask
from creatorhub.tenancy import database_tenancy, platform_wide, site_scope
from tests.factories import ContactFactory, MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ["creatorhub", "contacts", "offers", "emails", "activity", "usage"]


# -- Without a database: which site the database is told ------------------------------------------------


def test_the_database_is_told_the_site_of_the_scope_and_nothing_else():
    site = Site(pk=7)
    assert database_tenancy() == ("", "")
    with site_scope(site):
        assert database_tenancy() == ("7", "")
        with scopes_disabled():
            assert database_tenancy() == ("", ""), "a bare scopes_disabled() is no platform-wide pass"
    with site_scope(None):
        assert database_tenancy() == ("", "")
    with platform_wide("test: nesting"):
        assert database_tenancy() == ("", "on")
        with site_scope(site):
            assert database_tenancy() == ("7", ""), "a site's scope inside narrows to that site"
            with scopes_disabled():
                assert database_tenancy() == ("", "on")
    assert database_tenancy() == ("", "")


def test_app_code_opens_no_bare_scopes_disabled():
    """platform_wide() is the one door: a bare scopes_disabled() would read nothing under the role."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in APP_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "scopes_disabled(" in line and path.name != "tenancy.py" and not line.lstrip().startswith("#")
    ]
    assert not offenders, f"use creatorhub.tenancy.platform_wide(reason) in {offenders}"


# -- With PostgreSQL -------------------------------------------------------------------------------------


def policy_gaps() -> list[str]:
    """Every site-owned table lacking row-level security or the current site_isolation policy."""
    gaps = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not issubclass(model, SiteOwned):
                continue
            table = model._meta.db_table
            cursor.execute(
                """
                SELECT c.relrowsecurity AND c.relforcerowsecurity, p.cmd,
                       p.qual IS NOT NULL AND p.with_check IS NOT NULL, obj_description(pp.oid, 'pg_policy')
                FROM pg_class c
                LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s
                LEFT JOIN pg_policy pp ON pp.polrelid = c.oid AND pp.polname = %s
                WHERE c.oid = to_regclass(%s)
                """,
                [rls.POLICY, rls.POLICY, table],
            )
            row = cursor.fetchone()
            if row != (True, "ALL", True, rls.POLICY_VERSION):
                gaps.append(f"{table}: {row}")
    return gaps


def raw_count(sql: str = "SELECT count(*) FROM contacts_contact", params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def set_local_role(role: str) -> None:
    """For the rest of the test's transaction; NONE is the login user, the tables' owner."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE " + ("NONE" if role == "NONE" else connection.ops.quote_name(role)))


def check_ids() -> list[str]:
    return [message.id for message in checks.row_level_security()]


@pytest.fixture
def app_role(db):
    """The role the suite runs as, the application's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    return settings.DATABASE_APP_ROLE


@pytest.fixture
def product_tenancy(monkeypatch):
    """The product's rule for a bare scopes_disabled() (no site, so no row), which the suite relaxes for
    its own setup and checks (tests/conftest.py)."""
    monkeypatch.setattr(tenancy, "database_tenancy", inspect.unwrap(tenancy.database_tenancy))


@pytest.fixture
def contacts(site, other_site):
    """Two contacts on the first site, one on the second, each written in its own site's scope."""
    with site_scope(site):
        mine = [ContactFactory(site=site, email=f"a{n}@example.com") for n in range(2)]
    with site_scope(other_site):
        theirs = ContactFactory(site=other_site, email="b@example.com")
    return SimpleNamespace(mine=mine, theirs=theirs)


@pytest.mark.postgres
def test_every_site_owned_table_has_row_level_security_and_the_policy(db):
    expected = {"contacts_contact", "creatorhub_membership", "offers_access", "emails_outboundemail"}
    assert expected <= set(rls.site_owned_tables())
    assert policy_gaps() == []
    # A many-to-many table made by Django has no site column: site-owned models link through their own.
    for model in apps.get_models():
        for field in model._meta.local_many_to_many:
            if issubclass(model, SiteOwned) or issubclass(field.related_model, SiteOwned):
                assert not field.remote_field.through._meta.auto_created, f"{model.__name__}.{field.name}"


@pytest.mark.postgres
def test_a_table_without_its_policy_or_force_is_found_and_migrate_puts_it_back(app_role):
    set_local_role("NONE")  # as `migrate` runs
    with connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY {rls.POLICY} ON contacts_tag")
        cursor.execute("ALTER TABLE offers_offer DISABLE ROW LEVEL SECURITY")
        cursor.execute("ALTER TABLE emails_outboundemail NO FORCE ROW LEVEL SECURITY")
    assert len(policy_gaps()) == 3
    remade = sorted(rls.install_policies(connection))
    assert remade == ["contacts_tag", "emails_outboundemail", "offers_offer"]
    assert policy_gaps() == []
    assert rls.install_policies(connection) == [], "in step: nothing is remade (no table is locked)"


@pytest.mark.postgres
def test_a_policy_of_an_older_version_is_remade_by_the_next_migrate(app_role):
    set_local_role("NONE")
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON POLICY {rls.POLICY} ON contacts_tag IS 'creatorhub:older'")
    assert rls.install_policies(connection) == ["contacts_tag"]
    assert policy_gaps() == []


@pytest.mark.postgres
def test_the_app_role_owns_no_table_and_cannot_bypass_row_level_security(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role])
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT tablename FROM pg_tables WHERE tableowner = %s", [app_role])
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename = ANY(%s) "
            "AND pg_has_role(%s, tableowner, 'MEMBER')",
            [list(rls.site_owned_tables()), app_role],
        )
        assert cursor.fetchall() == [], "the role may not become the tables' owner"


# -- `check --deploy`: the policies bind the running role ------------------------------------------------


@pytest.mark.postgres
def test_the_deploy_check_passes_for_the_app_role_on_a_migrated_database(app_role):
    assert check_ids() == []


@pytest.mark.postgres
def test_the_deploy_check_fails_for_the_tables_owner(app_role):
    set_local_role("NONE")  # the login user, here a superuser (with BYPASSRLS) who owns every table
    errors = checks.row_level_security()
    assert [error.id for error in errors] == ["creatorhub.E002", "creatorhub.E003", "creatorhub.E004"]
    assert "activity_activityevent" in errors[2].msg
    assert "DATABASE_APP_ROLE" in errors[0].hint


@pytest.mark.postgres
def test_the_deploy_check_fails_where_row_level_security_is_not_forced_or_the_policy_is_old(app_role):
    set_local_role("NONE")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE contacts_tag NO FORCE ROW LEVEL SECURITY")
        cursor.execute(f"COMMENT ON POLICY {rls.POLICY} ON offers_offer IS 'creatorhub:older'")
    set_local_role(app_role)
    (error,) = checks.row_level_security()
    assert error.id == "creatorhub.E006"
    assert "contacts_tag, offers_offer." in error.msg
    assert "migrate" in error.hint


@pytest.mark.postgres
def test_the_deploy_check_fails_for_a_role_that_bypasses_row_level_security(app_role):
    bypassing = f"{connection.settings_dict['NAME']}_bypass"  # roles are the cluster's: one per database
    set_local_role("NONE")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {bypassing} NOLOGIN BYPASSRLS")  # undone with the test's transaction
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {bypassing}")
    set_local_role(bypassing)
    assert check_ids() == ["creatorhub.E003"]


def test_the_deploy_check_reports_an_unreachable_database_instead_of_crashing():
    from tests.support.live_worker import ROOT, free_port

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/nowhere",
            "DEBUG": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "(creatorhub.E001) Could not check row-level security" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_with_no_site_set_no_row_is_read_or_written(site, other_site, contacts, app_role, product_tenancy):
    assert raw_count() == 0
    assert Contact._base_manager.count() == 0  # the ORM without django-scopes' filter
    with scopes_disabled():
        assert Contact.objects.count() == 0, "a bare scopes_disabled() reads nothing"
    with site_scope(None):
        assert raw_count() == 0
    assert Contact._base_manager.filter(pk=contacts.mine[0].pk).update(name="Changed") == 0
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Contact._base_manager.create(site=site, email="nobody@example.com")


@pytest.mark.postgres
def test_a_site_scope_shows_and_changes_its_own_rows_only_even_to_raw_sql(
    site, other_site, contacts, app_role
):
    with site_scope(site):
        assert raw_count() == 2
        assert raw_count("SELECT count(*) FROM contacts_contact WHERE site_id = %s", [other_site.pk]) == 0
        assert Contact._base_manager.count() == 2
        assert Contact._base_manager.filter(pk=contacts.theirs.pk).update(name="Changed") == 0
        assert Contact._base_manager.filter(pk=contacts.theirs.pk).delete()[0] == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Contact._base_manager.create(site=other_site, email="forged@example.com")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Contact._base_manager.filter(pk=contacts.mine[0].pk).update(site=other_site)
    with site_scope(other_site):
        assert raw_count() == 1
        assert Contact._base_manager.get().name == contacts.theirs.name


@shared_task(base=SiteTask)
def peek(site, contact_id: int, other_site_id: int) -> tuple[bool, int, int]:
    """A task given one site's id and another site's object: what can it read?"""
    return (
        Contact._base_manager.filter(pk=contact_id).exists(),
        raw_count("SELECT count(*) FROM contacts_contact WHERE site_id = %s", [other_site_id]),
        raw_count(),
    )


@pytest.mark.postgres
def test_a_forged_site_id_in_a_task_reads_nothing_of_another_site(site, other_site, contacts, app_role):
    assert peek.delay(site.pk, contacts.theirs.pk, other_site.pk).get() == (False, 0, 2)
    assert peek.delay(other_site.pk, contacts.theirs.pk, other_site.pk).get() == (True, 1, 1)


@pytest.mark.postgres
def test_the_setting_follows_rollbacks_and_savepoints(site, other_site, contacts, app_role):
    """A setting made in a transaction is undone by its rollback: it is made again, not trusted."""
    with site_scope(site):
        assert raw_count() == 2

    def fail_in_the_other_site():
        with transaction.atomic(), site_scope(other_site):
            assert raw_count() == 1
            raise RuntimeError("rolled back")  # to the savepoint, with the setting it had: the first site

    with pytest.raises(RuntimeError, match="rolled back"):
        fail_in_the_other_site()
    with site_scope(other_site):
        assert raw_count() == 1
    assert raw_count() == 0


@pytest.mark.postgres
def test_copy_after_a_query_in_the_scope_sees_the_same_site(site, other_site, contacts, app_role):
    """Imports COPY through psycopg on the session that the ORM's queries set."""
    with site_scope(site), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        with cursor.copy("COPY (SELECT email FROM contacts_contact ORDER BY email) TO STDOUT") as copy:
            rows = [bytes(row).decode() for row in copy]
    assert rows == ["a0@example.com\n", "a1@example.com\n"]


@pytest.mark.postgres
def test_platform_wide_reads_every_site_and_says_why(site, other_site, contacts, app_role, caplog):
    caplog.set_level(logging.INFO, logger="creatorhub.platform")
    with platform_wide("test: counting every site's contacts"):
        assert raw_count() == 3
        assert Contact.objects.count() == 3
        assert Tag.objects.create(site=other_site, name="Written platform-wide").pk
    assert raw_count() == 0
    assert [r.getMessage() for r in caplog.records if r.name == "creatorhub.platform"] == [
        "Platform-wide: test: counting every site's contacts"
    ]


@pytest.mark.postgres
def test_pages_and_the_api_as_the_app_role_show_their_own_site(
    site, other_site, contacts, app_role, client, api_client
):
    owner, stranger = UserFactory(email="owner@ana.example"), UserFactory(email="owner@ben.example")
    with site_scope(site):
        MembershipFactory(site=site, user=owner, role=Role.OWNER)
        api_key, secret = services.create_api_key(site, name="Zapier", role=Role.ADMIN, acting_user=owner)
    with site_scope(other_site):
        MembershipFactory(site=other_site, user=stranger, role=Role.OWNER)
        MembershipFactory(site=other_site, user=owner, role=Role.ASSISTANT)

    client.force_login(owner)
    page = client.get(reverse("team", args=[site.slug]))
    assert page.status_code == 200
    assert "owner@ana.example" in page.text
    assert "owner@ben.example" not in page.text
    chooser = client.get(reverse("app-home"))  # the user's own memberships, across sites
    assert chooser.status_code == 200
    assert [(s.slug, s.role) for s in chooser.context["sites"]] == sorted(
        [(site.slug, Role.OWNER), (other_site.slug, Role.ASSISTANT)],
        key=lambda pair: {site.slug: site.name, other_site.slug: other_site.name}[pair[0]],
    )

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api_client.get(f"/api/v1/sites/{site.slug}/contacts/")
    assert response.status_code == 200, response.content
    assert sorted(row["email"] for row in response.json()["results"]) == ["a0@example.com", "a1@example.com"]
    assert api_client.get(f"/api/v1/sites/{other_site.slug}/contacts/").status_code == 404
    with site_scope(site):
        assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None
        assert Membership.objects.count() == 1
