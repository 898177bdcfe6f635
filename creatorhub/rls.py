"""PostgreSQL row-level security: the second wall behind django-scopes (README "Row-level
security"). Nothing here runs on another database.

- **Policies.** Every site-owned table (the table of each concrete SiteOwned model, found through the
  app registry) has row-level security enabled and forced, and one policy, `site_isolation`: a row is
  visible and writable when its site is the session's `app.site_id`, or when `app.platform` is on.
  `post_migrate` keeps them in step with the models, so a new site-owned table is covered by the migrate
  that makes it.
- **The app role.** Every session of the application runs as DATABASE_APP_ROLE (Django's `assume_role`,
  always set on PostgreSQL): it owns no table and cannot bypass row-level security. `manage.py migrate`
  (and `flush`) run as the login user, the tables' owner (as_owner); migrate creates the role and gives it
  its rights on the project's tables. `check --deploy` verifies all this (creatorhub.checks).
- **The site of each query.** An execute wrapper sets `app.site_id` and `app.platform` from django-scopes'
  state (creatorhub.tenancy.database_tenancy) before a query, when they differ from what the session
  has: every request, task and service gets its site without remembering to ask.
"""

import hashlib
import logging
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.migrations.recorder import MigrationRecorder

logger = logging.getLogger(__name__)

POLICY = "site_isolation"
CONDITION = (
    "{column} = (SELECT NULLIF(current_setting('app.site_id', true), '')::bigint)"
    " OR (SELECT current_setting('app.platform', true) = 'on')"
)  # each setting is read once per query (an InitPlan), not once per row
INSTALL = (
    "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE {table} FORCE ROW LEVEL SECURITY",  # the owner too, unless superuser or BYPASSRLS
    f"DROP POLICY IF EXISTS {POLICY} ON {{table}}",
    f"CREATE POLICY {POLICY} ON {{table}} USING ({{condition}}) WITH CHECK ({{condition}})",
)
# Stored as the policy's comment: an unchanged policy is left alone (recreating one locks its table), and
# a database made by an older version is brought up to date by the next migrate.
POLICY_VERSION = "creatorhub:" + hashlib.sha256("\n".join([CONDITION, *INSTALL]).encode()).hexdigest()[:16]
SET_TENANCY = "SELECT set_config('app.site_id', %s, false), set_config('app.platform', %s, false)"
SAVEPOINT_SQL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def site_owned_tables() -> dict[str, str]:
    """{table: its site column} of every concrete SiteOwned model."""
    from creatorhub.models import SiteOwned

    return {
        model._meta.db_table: model._meta.get_field("site").column
        for model in apps.get_models()
        if issubclass(model, SiteOwned) and model._meta.managed and not model._meta.proxy
    }


# -- The site of each query ------------------------------------------------------------------------------


def keep_tenancy_in_step(execute, sql, params, many, context):
    """The execute wrapper of every PostgreSQL connection (installed on connection_created).

    Settings are session-wide (`set_config(..., false)`), but one set inside a transaction is undone
    when the transaction or a savepoint rolls back: such a setting is `tentative`, and is set again
    once its transaction has ended or after a rollback to a savepoint. Savepoint statements pass as
    they are (one may run in a failed transaction, where nothing else can).
    """
    db = context["connection"]
    control = isinstance(sql, str) and sql.startswith(SAVEPOINT_SQL)
    if not control:
        _sync(db)
    result = execute(sql, params, many, context)
    if control and sql.startswith("ROLLBACK") and db.rls_tentative:
        db.rls_applied = None
    return result


def _sync(db) -> None:
    from psycopg.pq import TransactionStatus

    from creatorhub.tenancy import database_tenancy

    status = db.connection.info.transaction_status
    if status == TransactionStatus.INERROR:
        return  # the query fails anyway, with its own error
    if db.rls_tentative and status == TransactionStatus.IDLE:
        db.rls_applied = None  # the transaction that set it has ended: committed or rolled back
    wanted = database_tenancy()
    if wanted == db.rls_applied:
        return
    with db.wrap_database_errors, db.connection.cursor() as cursor:  # Django's errors: a lost server is seen
        cursor.execute(SET_TENANCY, wanted)
    db.rls_applied = wanted
    db.rls_tentative = db.connection.info.transaction_status != TransactionStatus.IDLE


def install_wrapper(sender, connection, **kwargs) -> None:
    """Connection_created: a new session has no settings we know of (a pooled one may have some), so
    the first query sets them. First in the list: a test's `execute_wrapper()` pops the last one."""
    if connection.vendor != "postgresql":
        return
    connection.rls_applied, connection.rls_tentative = None, False
    if keep_tenancy_in_step not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, keep_tenancy_in_step)


# -- Migrations: the owner, the policies and the app role's rights ----------------------------------------


@contextmanager
def as_owner(alias: str):
    """`manage.py migrate` changes the schema (and `flush` empties it): it runs as the login user, who owns
    the tables, not as DATABASE_APP_ROLE; the app role comes back afterwards."""
    connection = connections[alias]
    options = connection.settings_dict.setdefault("OPTIONS", {})
    role = options.pop("assume_role", None)
    if role is None:
        yield
        return
    try:
        _renew_session(connection, "RESET ROLE")
        yield
    finally:
        options["assume_role"] = role
        _renew_session(connection, connection.ops.compose_sql("SET ROLE %s", [role]))


def _renew_session(connection, sql: str) -> None:
    """Outside a transaction, a new session takes the options as they are now; inside one, `sql`."""
    if connection.connection is None:
        return
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    else:
        connection.close()


def after_migrate(sender, using, **kwargs) -> None:
    """Post_migrate (also sent by `flush`): policies on every site-owned table, then the app role's rights.
    Cheap when nothing changed: a few catalog reads."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    changed = install_policies(connection)
    if changed:
        logger.info("Row-level security: policy %s (re)made on %s", POLICY, ", ".join(changed))
    prepare_app_role(connection, settings.DATABASE_APP_ROLE)


def install_policies(connection) -> list[str]:
    """Enables row-level security and (re)makes the policy where it is missing or out of date; returns
    the tables changed. Tables not made yet (a partial migrate) are left for the migrate that makes them."""
    tables = site_owned_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.name, c.relrowsecurity AND c.relforcerowsecurity, obj_description(p.oid, 'pg_policy')
            FROM unnest(%s::text[]) AS t(name)
            JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
            LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s
            """,
            [list(tables), POLICY],
        )
        existing = cursor.fetchall()
    quote = connection.ops.quote_name
    changed = []
    for table, forced, version in existing:
        if forced and version == POLICY_VERSION:
            continue
        condition = CONDITION.format(column=quote(tables[table]))
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for statement in INSTALL:
                cursor.execute(statement.format(table=quote(table), condition=condition))
            cursor.execute(f"COMMENT ON POLICY {POLICY} ON {quote(table)} IS %s", [POLICY_VERSION])
        changed.append(table)
    return changed


def prepare_app_role(connection, role: str) -> bool:
    """Creates the role if it is missing (when the migrating user may), refuses one that would bypass
    row-level security, and grants it what the application needs on the project's tables and their
    sequences. Returns False, with a log line saying what to do, when the role is missing and may not be
    created here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        may_create = cursor.fetchone()[0]
    if found and found[0]:
        raise ImproperlyConfigured(
            f"The app role {role} is a superuser or has BYPASSRLS: row-level security would not apply to it."
        )
    if not found and not may_create:
        logger.warning(
            "Row-level security: the role %s is missing and the migrating user may not create roles. "
            "As a superuser: CREATE ROLE %s NOLOGIN NOSUPERUSER NOBYPASSRLS; GRANT %s TO <the migrating "
            "user>; then migrate again.",
            role, role, role,
        )  # fmt: skip
        return False
    quote = connection.ops.quote_name
    if not found:
        with connection.cursor() as cursor:  # another migrate may be creating it at the same moment
            cursor.execute(
                f"DO $$ BEGIN CREATE ROLE {quote(role)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB "
                "NOCREATEROLE; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        logger.info("Row-level security: created the role %s", role)
    tables = sorted(set(connection.introspection.django_table_names(only_existing=True, include_views=False)))
    tables.append(MigrationRecorder.Migration._meta.db_table)
    _refuse_an_owner(connection, role, tables)
    _let_the_owner_set_role(connection, role)
    tables_granted, sequences_granted = _grant(connection, role, tables)
    if tables_granted or sequences_granted:
        logger.info(
            "Row-level security: granted %s its rights on %s tables and %s sequences",
            role, len(tables_granted), len(sequences_granted),
        )  # fmt: skip
    return True


def _refuse_an_owner(connection, role: str, tables: list[str]) -> None:
    """A table's owner, or anyone who may become it, is not subject to row-level security."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
            WHERE c.oid = ANY(SELECT to_regclass(quote_ident(name)) FROM unnest(%s::text[]) AS t(name))
            AND pg_has_role(%s, c.relowner, 'MEMBER') LIMIT 1
            """,
            [tables, role],
        )
        owner = cursor.fetchone()
    if owner:
        raise ImproperlyConfigured(
            f"The app role {role} is, or may become, {owner[0]}, who owns the tables: "
            "row-level security does not apply to a table's owner."
        )


def _let_the_owner_set_role(connection, role: str) -> None:
    """The application logs in as the owner and then SET ROLE: the owner must be a member of the role."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(session_user, %s, 'MEMBER')", [role])
        if cursor.fetchone()[0]:
            return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"GRANT {connection.ops.quote_name(role)} TO SESSION_USER")
    except DatabaseError as error:
        logger.warning(
            "Row-level security: could not make the migrating user a member of %s (%s). As a superuser: "
            "GRANT %s TO <the login user of the application>.",
            role, error, role,
        )  # fmt: skip


def _grant(connection, role: str, tables: list[str]) -> tuple[list[str], list[str]]:
    """SELECT, INSERT, UPDATE and DELETE on the tables, USAGE and SELECT on their sequences, where the
    role lacks them; returns the tables and the sequences granted."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT quote_ident(name) FROM unnest(%(tables)s::text[]) AS t(name)
            WHERE to_regclass(quote_ident(name)) IS NOT NULL AND NOT (
                has_table_privilege(%(role)s, quote_ident(name), 'SELECT')
                AND has_table_privilege(%(role)s, quote_ident(name), 'INSERT')
                AND has_table_privilege(%(role)s, quote_ident(name), 'UPDATE')
                AND has_table_privilege(%(role)s, quote_ident(name), 'DELETE'))
            """,
            {"tables": tables, "role": role},
        )
        missing = [row[0] for row in cursor.fetchall()]
        if missing:
            cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(missing)} TO {quote(role)}")
        cursor.execute(
            """
            SELECT DISTINCT s.oid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
            AND s.relkind = 'S'
            AND d.refobjid = ANY(
                SELECT to_regclass(quote_ident(name)) FROM unnest(%(tables)s::text[]) AS t(name))
            AND NOT (has_sequence_privilege(%(role)s, s.oid, 'USAGE')
                AND has_sequence_privilege(%(role)s, s.oid, 'SELECT'))
            """,
            {"tables": tables, "role": role},
        )
        sequences = [row[0] for row in cursor.fetchall()]
        if sequences:
            cursor.execute(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(sequences)} TO {quote(role)}")
    return missing, sequences
