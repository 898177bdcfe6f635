"""Seeds the activity benchmark's data set in SQL (PostgreSQL only), idempotently: sites `act-1…`, one
big site holding 60% of the contacts, the rest spread; ~30% customers with a live access, ~10% with a
revoked one; events over the last 90 days with `last_activity_at` set to each contact's latest event.

Sizes: BENCH_SITES (2,000), BENCH_CONTACTS (1,000,000), BENCH_EVENTS (10,000,000). A second run with
the same sizes does nothing; other sizes replace the data set.
"""

import os
import time

from django.db import connection

KINDS = "ARRAY['login','lesson_completed','course_completed','form_submitted','opted_in','purchased','other']"
ZONES = "ARRAY['UTC','America/Los_Angeles','Pacific/Auckland','Europe/Paris']"


def sizes() -> tuple[int, int, int]:
    read = lambda name, default: int(os.environ.get(name, default))  # noqa: E731
    return read("BENCH_SITES", 2_000), read("BENCH_CONTACTS", 1_000_000), read("BENCH_EVENTS", 10_000_000)


def _step(cursor, label: str, sql: str, params=None) -> None:
    """Runs one statement; `%%` is always the modulo sign, as params are always given."""
    started = time.perf_counter()
    cursor.execute(sql, params or [])
    print(f"  seed: {label} ({time.perf_counter() - started:.1f} s)", flush=True)


def _delete_previous(cursor) -> None:
    cursor.execute("CREATE TEMP TABLE act_old AS SELECT id FROM creatorhub_site WHERE slug LIKE 'act-%%'", [])
    for table in (
        "activity_overagecaseentry",
        "activity_overagecase",
        "activity_usagesnapshot",
        "activity_activityevent",
        "offers_access",
        "offers_offer",
        "emails_outboundemail",
        "creatorhub_apikey",
        "contacts_contact",
    ):
        _step(cursor, f"clear {table}", f"DELETE FROM {table} WHERE site_id IN (SELECT id FROM act_old)")
    cursor.execute("DELETE FROM creatorhub_site WHERE id IN (SELECT id FROM act_old)")
    cursor.execute("DROP TABLE act_old")


def seed() -> dict:
    """Returns the sizes and the big site's slug."""
    assert connection.vendor == "postgresql", "the activity benchmark seeds with PostgreSQL SQL"
    n_sites, n_contacts, n_events = sizes()
    wanted = {"sites": n_sites, "contacts": n_contacts, "events": n_events, "big_site": "act-1"}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_activity_seed (sites int, contacts int, events bigint, "
            "seeded_at timestamptz)"
        )
        cursor.execute("SELECT sites, contacts, events FROM bench_activity_seed")
        if cursor.fetchall() == [(n_sites, n_contacts, n_events)]:
            print(f"  seed: kept ({n_sites:,} sites, {n_contacts:,} contacts, {n_events:,} events)")
            return wanted
        started = time.perf_counter()
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SET work_mem = '64MB'")
        # Rows consistent by construction: skip the per-row foreign key triggers (superuser, bench only).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM bench_activity_seed")
        _delete_previous(cursor)
        big = int(n_contacts * 0.6)
        _step(
            cursor,
            f"{n_sites:,} sites",
            f"INSERT INTO creatorhub_site (slug, name, time_zone, created_at, plan_id) "
            f"SELECT 'act-' || g, 'Activity bench ' || g, ({ZONES})[1 + g %% 4], "
            "now() - interval '400 days', "
            f"(SELECT id FROM creatorhub_plan ORDER BY active_customer_limit LIMIT 1) "
            f"FROM generate_series(1, %s) g",
            [n_sites],
        )
        cursor.execute(
            "CREATE TEMP TABLE act_sites AS SELECT (substr(slug, 5))::int AS rn, id FROM creatorhub_site "
            "WHERE slug LIKE 'act-%%'",
            [],
        )
        cursor.execute("CREATE UNIQUE INDEX ON act_sites (rn)")
        # Each event's contact number and time, generated first, so that each contact is inserted with its
        # last_activity_at already right (no second pass over a million indexed rows).
        _step(
            cursor,
            f"{n_events:,} events staged",
            "CREATE UNLOGGED TABLE act_events_stage AS SELECT "
            "((g::bigint * 2654435761) %% %s) AS n, "
            "now() - random() * interval '90 days' AS at, "
            f"({KINDS})[1 + (g %% 7)] AS kind "
            "FROM generate_series(1, %s) g",
            [n_contacts, n_events],
        )
        _step(
            cursor,
            "latest event per contact",
            "CREATE UNLOGGED TABLE act_latest AS SELECT n, max(at) AS at FROM act_events_stage GROUP BY n",
        )
        cursor.execute("CREATE UNIQUE INDEX ON act_latest (n)")
        # Contact n: the big site below `big`, else spread over the others. Customers: n % 10 < 3.
        _step(
            cursor,
            f"{n_contacts:,} contacts",
            "INSERT INTO contacts_contact (email, name, fields, subscription_status, unsubscribe_reason, "
            "status_changed_at, is_customer, last_activity_at, origin, created_at, updated_at, "
            "member_password, site_id) "
            "SELECT 'p' || g || '@act.example', 'Person ' || g, '{}', 'subscribed', NULL, "
            "now() - interval '300 days', g %% 10 < 3, l.at, 'manual', now() - interval '300 days', now(), "
            "'', "
            "s.id "
            "FROM generate_series(0, %s - 1) g "
            "LEFT JOIN act_latest l ON l.n = g "
            "JOIN act_sites s ON s.rn = CASE WHEN g < %s THEN 1 ELSE 2 + (g - %s) %% greatest(%s - 1, 1) END "
            "ORDER BY g",
            [n_contacts, big, big, n_sites],
        )
        cursor.execute(
            "CREATE UNLOGGED TABLE act_contacts AS SELECT (substr(split_part(email, '@', 1), 2))::int AS n, "
            "id, site_id FROM contacts_contact WHERE site_id IN (SELECT id FROM act_sites)"
        )
        cursor.execute("CREATE UNIQUE INDEX ON act_contacts (n)")
        _step(
            cursor,
            "offers",
            "INSERT INTO offers_offer (title, description, price, currency, created_at, site_id) "
            "SELECT 'Course', '', 10, 'USD', now() - interval '300 days', id FROM act_sites",
        )
        _step(
            cursor,
            "accesses",
            "INSERT INTO offers_access (source, created_at, revoked_at, contact_id, site_id, offer_id) "
            "SELECT 'grant', now() - interval '200 days', "
            "CASE WHEN c.n %% 10 = 3 THEN now() - interval '60 days' END, c.id, c.site_id, o.id "
            "FROM act_contacts c JOIN offers_offer o ON o.site_id = c.site_id WHERE c.n %% 10 < 4",
        )
        _step(
            cursor,
            f"{n_events:,} events",
            "INSERT INTO activity_activityevent (site_id, contact_id, kind, occurred_at, recorded_at, "
            "details, external_id) "
            "SELECT c.site_id, c.id, e.kind, e.at, e.at, '{}', '' "
            "FROM act_events_stage e JOIN act_contacts c ON c.n = e.n ORDER BY c.site_id, c.id, e.at",
        )
        cursor.execute("DROP TABLE act_events_stage, act_latest, act_contacts, act_sites")
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(
            "INSERT INTO bench_activity_seed VALUES (%s, %s, %s, now())", [n_sites, n_contacts, n_events]
        )
    with connection.cursor() as cursor:  # outside any transaction
        for table in ("contacts_contact", "offers_access", "activity_activityevent", "creatorhub_site"):
            _step(cursor, f"VACUUM ANALYZE {table}", f"VACUUM ANALYZE {table}")
    print(f"  seed: done in {time.perf_counter() - started:.0f} s", flush=True)
    return wanted
