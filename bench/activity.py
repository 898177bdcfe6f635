"""Active customers at scale, on the data set of bench/seed.py (PostgreSQL only):

- the nightly run, `compute_all_usage(day=…)` over every site through the ORM (active customers,
  customers and contacts counted in grouped queries per window, snapshots written in batches, overage
  cases followed), against two hand-written counts of the active customers alone, per site, in the
  window (30 calendar days in the site's time zone, as usage.selectors.active_customers.window_of),
  kinds of NOT_ACTIVITY left out: the plain aggregate over the events (count(DISTINCT contact) of live
  customers with an activity event), and the same rule written as the application runs it, contacts
  first, those whose `last_activity_at` is older than the window left out before their events are
  looked at. All three must agree site by site;
- the events API: batches of 1,000 events POSTed with an API key through Django's test client, in
  events/s, against the INSERT of the same rows in raw SQL.
"""

import json
import time
from datetime import timedelta

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from activity.models import NOT_ACTIVITY
from activity.selectors import LAST_ACTIVITY_STEP
from bench.seed import seed
from creatorhub import services
from creatorhub.models import Site, User
from creatorhub.roles import Role
from creatorhub.tenancy import platform_wide, site_scope
from usage.models import UsageSnapshot
from usage.services import compute_all_usage

BATCH = 1_000
BATCHES = 20

# Each site's window: 30 calendar days in its time zone, ending when %(day)s ends.
WINDOWS = """
WITH w AS (
    SELECT id AS site_id,
           ((%(day)s::date + 1)::timestamp AT TIME ZONE time_zone) AS window_end,
           ((%(day)s::date - 29)::timestamp AT TIME ZONE time_zone) AS window_start
    FROM creatorhub_site
)
"""

FLOOR_SQL = (
    WINDOWS
    + """SELECT w.site_id, count(DISTINCT e.contact_id)
FROM w
JOIN activity_activityevent e ON e.site_id = w.site_id
     AND e.occurred_at > w.window_start AND e.occurred_at <= w.window_end
     AND e.kind <> ALL(%(not_activity)s)
WHERE EXISTS (
    SELECT 1 FROM offers_access a
    WHERE a.site_id = e.site_id AND a.contact_id = e.contact_id AND a.created_at <= w.window_end
      AND (a.revoked_at IS NULL OR a.revoked_at > w.window_end)
)
GROUP BY w.site_id
"""
)

# The rule as the application runs it, by hand: contacts first, pre-filtered on last_activity_at.
FLOOR_BY_CONTACT_SQL = (
    WINDOWS
    + """SELECT c.site_id, count(*)
FROM w
JOIN contacts_contact c ON c.site_id = w.site_id AND c.last_activity_at > w.window_start - %(step)s
WHERE EXISTS (
    SELECT 1 FROM offers_access a
    WHERE a.site_id = c.site_id AND a.contact_id = c.id AND a.created_at <= w.window_end
      AND (a.revoked_at IS NULL OR a.revoked_at > w.window_end)
) AND EXISTS (
    SELECT 1 FROM activity_activityevent e
    WHERE e.site_id = c.site_id AND e.contact_id = c.id
      AND e.occurred_at > w.window_start AND e.occurred_at <= w.window_end
      AND e.kind <> ALL(%(not_activity)s)
)
GROUP BY c.site_id
"""
)


def run(Result) -> list:
    if connection.vendor != "postgresql":
        print("  (activity benchmarks skipped: they need PostgreSQL)")
        return []
    seed()
    return _nightly(Result) + _events_api(Result)


def _nightly(Result) -> list:
    """Over every site of the database: the Contacts tab benchmark's site too, when it was seeded here."""
    day = timezone.now().date() - timedelta(days=1)
    with platform_wide("bench: sizes"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM creatorhub_site), (SELECT count(*) FROM contacts_contact), "
            "(SELECT count(*) FROM activity_activityevent)"
        )
        sites, contacts, events = cursor.fetchone()
    started = time.perf_counter()
    result = compute_all_usage(day=day)
    app = time.perf_counter() - started
    assert result["failed"] == 0, result

    params = {
        "day": day,
        "not_activity": sorted(kind.value for kind in NOT_ACTIVITY),
        "step": LAST_ACTIVITY_STEP,
    }
    with platform_wide("bench: setup and checks"):
        app_counts = dict(UsageSnapshot.objects.filter(day=day).values_list("site_id", "active_customers"))
    name = f"nightly usage, {sites:,} sites / {contacts:,} contacts / {events:,} events"
    results = []
    for label, sql in (("events aggregate", FLOOR_SQL), ("by contact", FLOOR_BY_CONTACT_SQL)):
        floor, floor_counts = _timed_counts(sql, params)
        differ = {
            site_id: (count, floor_counts.get(site_id, 0))
            for site_id, count in app_counts.items()
            if count != floor_counts.get(site_id, 0)
        }
        assert not differ, f"app and {label} disagree on {len(differ)} sites, e.g. {list(differ.items())[:5]}"
        results.append(Result(f"{name}; floor: {label}", app, floor, "s"))
    print(f"  nightly: {sites:,} sites, {sum(app_counts.values()):,} active customers on {day}")
    return results


def _timed_counts(sql: str, params: dict) -> tuple[float, dict]:
    """The seconds a warm run of `sql` takes, and its {site id: count}: platform-wide, as the nightly run."""
    with platform_wide("bench: the nightly floor"), connection.cursor() as cursor:
        cursor.execute(sql, params)  # warm
        started = time.perf_counter()
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
    return time.perf_counter() - started, counts


def _events_api(Result) -> list:
    with platform_wide("bench: setup and checks"):
        site = Site.objects.get(slug="act-2")
        user, _ = User.objects.get_or_create(email="bench-owner@example.com")
    with site_scope(site), connection.cursor() as cursor:
        _, secret = services.create_api_key(site, name="bench events", role=Role.OWNER, acting_user=user)
        cursor.execute("SELECT id FROM contacts_contact WHERE site_id = %s ORDER BY id LIMIT 200", [site.pk])
        contact_ids = [row[0] for row in cursor.fetchall()]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/v1/sites/{site.slug}/events/"
    now = timezone.now()
    run_id = int(time.time())

    def batch(b: int) -> list[dict]:
        return [
            {
                "contact": contact_ids[i % len(contact_ids)],
                "kind": "lesson_completed",
                "occurred_at": (now - timedelta(seconds=b * BATCH + i)).isoformat(),
                "id": f"bench-{run_id}-{b}-{i}",
            }
            for i in range(BATCH)
        ]

    payloads = [json.dumps({"events": batch(b)}) for b in range(BATCHES + 1)]
    response = client.post(url, payloads[-1], content_type="application/json")  # warm
    if response.status_code not in (200, 201):
        print(f"  (events API skipped: {url} answered {response.status_code} {response.content[:200]!r})")
        return []
    started = time.perf_counter()
    for payload in payloads[:BATCHES]:
        response = client.post(url, payload, content_type="application/json")
        assert response.status_code in (200, 201), response.content[:300]
    app_rate = BATCHES * BATCH / (time.perf_counter() - started)

    rows = [
        (site.pk, e["contact"], e["kind"], e["occurred_at"], e["id"] + "-floor")
        for b in range(BATCHES)
        for e in batch(b)
    ]
    values = ", ".join(["(%s, %s, %s, %s, now(), '{}', %s, '')"] * BATCH)
    with site_scope(site), transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        for b in range(BATCHES):
            params = [value for row in rows[b * BATCH : (b + 1) * BATCH] for value in row]
            cursor.execute(
                "INSERT INTO activity_activityevent (site_id, contact_id, kind, occurred_at, recorded_at, "
                f"details, external_id, anonymous_id) VALUES {values} ON CONFLICT DO NOTHING",
                params,
            )
        floor_rate = BATCHES * BATCH / (time.perf_counter() - started)
        transaction.set_rollback(True)
    with site_scope(site), connection.cursor() as cursor:  # leave the data set as seeded
        cursor.execute(
            "DELETE FROM activity_activityevent WHERE site_id = %s AND external_id LIKE %s",
            [site.pk, f"bench-{run_id}-%"],
        )
    return [
        Result(f"events API, {BATCHES} batches of {BATCH:,} (Bearer key)", app_rate, floor_rate, "events/s")
    ]
