"""The contacts' counters (ContactCount): the table, the triggers that keep it, and its first rows.

The triggers are the one place the counters change, so that every way of changing contacts (the ORM, an
import's set-based merge, a bulk UPDATE, a cascade) keeps them exact in its own transaction. PostgreSQL
writes one row per group a statement changed (statement triggers with transition tables); SQLite, a row
per changed contact. Either way writers only insert, and contacts.services.fold_contact_counts sums
them."""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "site_id, subscription_status, unsubscribe_reason, is_customer"

POSTGRESQL = (
    f"""
    CREATE FUNCTION contacts_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO contacts_contactcount ({COLUMNS}, contacts)
            SELECT {COLUMNS}, count(*) FROM new_rows GROUP BY {COLUMNS};
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO contacts_contactcount ({COLUMNS}, contacts)
            SELECT {COLUMNS}, -count(*) FROM old_rows GROUP BY {COLUMNS};
        ELSE
            INSERT INTO contacts_contactcount ({COLUMNS}, contacts)
            SELECT {COLUMNS}, sum(change) FROM (
                SELECT {COLUMNS}, 1 AS change FROM new_rows
                UNION ALL
                SELECT {COLUMNS}, -1 AS change FROM old_rows
            ) AS changes
            GROUP BY {COLUMNS} HAVING sum(change) <> 0;
        END IF;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 (constant SQL)
    """CREATE TRIGGER contacts_counted_insert AFTER INSERT ON contacts_contact
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_changes()""",
    """CREATE TRIGGER contacts_counted_update AFTER UPDATE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_changes()""",
    """CREATE TRIGGER contacts_counted_delete AFTER DELETE ON contacts_contact
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_count_changes()""",
)
POSTGRESQL_REVERSE = (
    "DROP TRIGGER contacts_counted_insert ON contacts_contact",
    "DROP TRIGGER contacts_counted_update ON contacts_contact",
    "DROP TRIGGER contacts_counted_delete ON contacts_contact",
    "DROP FUNCTION contacts_count_changes()",
)


def _sqlite_row(sign: str, row: str) -> str:
    return (
        f"INSERT INTO contacts_contactcount ({COLUMNS}, contacts) VALUES ({row}.site_id, "  # noqa: S608
        f"{row}.subscription_status, {row}.unsubscribe_reason, {row}.is_customer, {sign}1);"
    )


SQLITE = (
    f"""CREATE TRIGGER contacts_counted_insert AFTER INSERT ON contacts_contact
    BEGIN {_sqlite_row("", "NEW")} END""",
    f"""CREATE TRIGGER contacts_counted_update
    AFTER UPDATE OF {COLUMNS} ON contacts_contact
    WHEN OLD.site_id IS NOT NEW.site_id OR OLD.subscription_status IS NOT NEW.subscription_status
        OR OLD.unsubscribe_reason IS NOT NEW.unsubscribe_reason OR OLD.is_customer IS NOT NEW.is_customer
    BEGIN {_sqlite_row("-", "OLD")} {_sqlite_row("", "NEW")} END""",
    f"""CREATE TRIGGER contacts_counted_delete AFTER DELETE ON contacts_contact
    BEGIN {_sqlite_row("-", "OLD")} END""",
)
SQLITE_REVERSE = (
    "DROP TRIGGER contacts_counted_insert",
    "DROP TRIGGER contacts_counted_update",
    "DROP TRIGGER contacts_counted_delete",
)

# The contacts there are before the triggers: counted as platform, which row-level security lets read
# every site's rows (the migrating user is subject to it too).
FIRST_ROWS = (
    f"INSERT INTO contacts_contactcount ({COLUMNS}, contacts) "  # noqa: S608
    f"SELECT {COLUMNS}, count(*) FROM contacts_contact GROUP BY {COLUMNS}"
)


def install(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('app.platform', 'on', true)")
        cursor.execute(FIRST_ROWS)
        for statement in POSTGRESQL if connection.vendor == "postgresql" else SQLITE:
            cursor.execute(statement)


def uninstall(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in POSTGRESQL_REVERSE if connection.vendor == "postgresql" else SQLITE_REVERSE:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_export_file_expiry"),
        ("creatorhub", "0005_user_session_epoch"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "subscription_status",
                    models.CharField(
                        choices=[
                            ("subscribed", "Subscribed"),
                            ("pending", "Pending confirmation"),
                            ("never_subscribed", "Never subscribed"),
                            ("unsubscribed", "Unsubscribed"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "unsubscribe_reason",
                    models.CharField(
                        choices=[
                            ("manual", "By the site's team"),
                            ("opted_out", "Opted out"),
                            ("bounced", "Hard bounce"),
                            ("complained", "Marked as spam"),
                        ],
                        max_length=20,
                        null=True,
                    ),
                ),
                ("is_customer", models.BooleanField()),
                (
                    "contacts",
                    models.BigIntegerField(
                        help_text="How many contacts came into (+) or left (-) the group."
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="creatorhub.site",
                    ),
                ),
            ],
            options={
                "default_related_name": "contact_counts",
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
