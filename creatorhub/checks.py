"""`manage.py check --deploy`: is row-level security in force for the role the application runs as?

On PostgreSQL the check connects as the application does (after its SET ROLE) and fails unless that
role is no superuser, has no BYPASSRLS, owns none of the site-owned tables (nor may become their
owner), and every site-owned table has row-level security enabled and forced, with the current
site_isolation policy. On SQLite there is no row-level security: the check warns. A deploy check only:
`migrate` runs the other checks first, before the role and the policies exist.
"""

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from creatorhub import rls

ROLE_HINT = (
    "Every process runs as DATABASE_APP_ROLE (default creatorhub_app), which `manage.py migrate` creates "
    "NOSUPERUSER NOBYPASSRLS and which owns no table; see README, Row-level security."
)
MIGRATE_HINT = "Run `manage.py migrate` (as the tables' owner): it installs the policies and forces them."


def row_level_security(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "sqlite":
        return [
            checks.Warning(
                "SQLite: no row-level security; django-scopes is the only wall between sites.",
                hint="Use PostgreSQL in production.",
                id="creatorhub.W001",
            )
        ]
    if connection.vendor != "postgresql":
        return []
    try:
        return _postgresql(connection)
    except DatabaseError as error:  # unreachable, or the role is missing: said, not raised
        return [
            checks.Error(
                f"Could not check row-level security: {str(error).strip()}",
                hint="Is the database up? " + MIGRATE_HINT,
                id="creatorhub.E001",
            )
        ]


def _postgresql(connection) -> list[checks.CheckMessage]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, superuser, bypasses = cursor.fetchone()
        cursor.execute(
            """
            SELECT t.name, c.oid IS NOT NULL, pg_has_role(current_user, c.relowner, 'MEMBER'),
                   c.relrowsecurity AND c.relforcerowsecurity
                   AND obj_description(p.oid, 'pg_policy') IS NOT DISTINCT FROM %s
            FROM unnest(%s::text[]) AS t(name)
            LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
            LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s
            ORDER BY t.name
            """,
            [rls.POLICY_VERSION, list(rls.site_owned_tables()), rls.POLICY],
        )
        tables = cursor.fetchall()
    missing = [name for name, exists, _, _ in tables if not exists]
    owned = [name for name, _, owner, _ in tables if owner]
    unguarded = [name for name, exists, _, guarded in tables if exists and not guarded]
    errors = []
    if superuser:
        message = f"The application runs as {role}, a superuser, whom row-level security does not bind."
        errors.append(checks.Error(message, hint=ROLE_HINT, id="creatorhub.E002"))
    if bypasses:
        message = f"The application runs as {role}, who has BYPASSRLS: row-level security does not bind it."
        errors.append(checks.Error(message, hint=ROLE_HINT, id="creatorhub.E003"))
    if owned:
        message = (
            f"The application runs as {role}, who owns or may become the owner of {_names(owned)}, and so "
            "may turn their row-level security off."
        )
        errors.append(checks.Error(message, hint=ROLE_HINT, id="creatorhub.E004"))
    if missing:
        message = f"Site-owned tables are missing: {_names(missing)}."
        errors.append(checks.Error(message, hint=MIGRATE_HINT, id="creatorhub.E005"))
    if unguarded:
        message = (
            f"Row-level security is not forced, or the {rls.POLICY} policy is missing or out of date, on "
            f"{_names(unguarded)}."
        )
        errors.append(checks.Error(message, hint=MIGRATE_HINT, id="creatorhub.E006"))
    return errors


def _names(tables: list[str], shown: int = 5) -> str:
    more = len(tables) - shown
    return ", ".join(tables[:shown]) + (f" and {more} more" if more > 0 else "")
