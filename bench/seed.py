"""Seeds the benchmarks' data sets in SQL (PostgreSQL only), idempotently, each on sites of its own:
a second run with the same sizes does nothing; other sizes replace that data set, and only its sites'
rows.

- `seed()`, the activity benchmark's: sites `act-1…`, one big site holding 60% of the contacts, the rest
  spread; ~30% customers with a live access, ~10% with a revoked one; events over the last 90 days with
  `last_activity_at` set to each contact's latest event. Sizes: BENCH_SITES (2,000), BENCH_CONTACTS
  (1,000,000), BENCH_EVENTS (10,000,000).
- `seed_tab()`, the Contacts tab benchmark's: one site `tab-1` (see its docstring). Sizes:
  BENCH_TAB_CONTACTS (1,000,000), BENCH_TAB_EVENTS (10,000,000).
"""

import os
import time
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection

from creatorhub.rls import as_owner

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


def _seeded(cursor, name: str, sizes: dict) -> bool:
    """Whether the data set `name` holds these sizes (kept in the table bench_<name>_seed)."""
    columns = ", ".join(f"{column} bigint" for column in sizes)
    cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_{name}_seed ({columns}, seeded_at timestamptz)")
    cursor.execute(f"SELECT {', '.join(sizes)} FROM bench_{name}_seed")
    return cursor.fetchall() == [tuple(sizes.values())]


def _mark_seeded(cursor, name: str, sizes: dict | None) -> None:
    """Records the sizes once the data set is complete; None (before starting) marks it incomplete."""
    cursor.execute(f"DELETE FROM bench_{name}_seed")
    if sizes is not None:
        cursor.execute(
            f"INSERT INTO bench_{name}_seed ({', '.join(sizes)}, seeded_at) "
            f"VALUES ({', '.join(['%s'] * len(sizes))}, now())",
            list(sizes.values()),
        )


@contextmanager
def as_loader():
    """A cursor of the tables' owner, a superuser on this machine (creatorhub.rls.as_owner), for what the
    application's role may not do: bulk loads, VACUUM, CHECKPOINT, the bench's own tables. The
    benchmarks time the application, and their floors, as the application's role."""
    with as_owner(DEFAULT_DB_ALIAS), connection.cursor() as cursor:
        yield cursor


@contextmanager
def _loading():
    """A loader's cursor with session settings for a bulk load: no wait on the WAL, memory for sorts and
    the GIN indexes' pending lists (merged by the VACUUM after), and no per-row foreign key triggers, as
    the rows are consistent by construction (superuser, bench only). Reset after."""
    settings = {
        "synchronous_commit": "off",
        "maintenance_work_mem": "'512MB'",
        "work_mem": "'64MB'",
        "gin_pending_list_limit": "'256MB'",
        "session_replication_role": "replica",
    }
    with as_loader() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET {name} = {value}")
        try:
            yield cursor
        finally:
            for name in settings:
                cursor.execute(f"RESET {name}")


def _count_contacts(cursor, slug_like: str) -> None:
    """The contacts' counters of the sites whose slug is LIKE `slug_like`, written from their contacts:
    a replica's load fires no trigger, so the seed's contacts are counted here, as migrate counted the
    contacts there were when the counters came."""
    cursor.execute(
        "DELETE FROM contacts_contactcount "
        "WHERE site_id IN (SELECT id FROM creatorhub_site WHERE slug LIKE %s)",
        [slug_like],
    )
    _step(
        cursor,
        "contacts' counters",
        "INSERT INTO contacts_contactcount (site_id, subscription_status, unsubscribe_reason, is_customer, "
        "contacts) SELECT c.site_id, c.subscription_status, c.unsubscribe_reason, c.is_customer, count(*) "
        "FROM contacts_contact c JOIN creatorhub_site s ON s.id = c.site_id WHERE s.slug LIKE %s "
        "GROUP BY 1, 2, 3, 4",
        [slug_like],
    )


def _delete_sites(cursor, slug_like: str) -> None:
    """Deletes the sites whose slug is LIKE `slug_like` and their rows in every table that refers to a
    site (read from the catalog, so that a new site-owned table is not forgotten). Run inside _loading:
    no foreign key trigger fires, so the order does not matter."""
    started = time.perf_counter()
    cursor.execute("SELECT id FROM creatorhub_site WHERE slug LIKE %s", [slug_like])
    site_ids = [row[0] for row in cursor.fetchall()]
    if not site_ids:
        return
    cursor.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = 'creatorhub_site'::regclass"
    )
    deleted = 0
    for table, column in cursor.fetchall():
        cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [site_ids])
        deleted += cursor.rowcount
    cursor.execute("DELETE FROM creatorhub_site WHERE id = ANY(%s)", [site_ids])
    print(
        f"  seed: cleared {deleted:,} rows of {len(site_ids):,} sites ({time.perf_counter() - started:.1f} s)"
    )


def delete_bench_sites(*slugs: str) -> None:
    """Deletes a benchmark's own sites with every row they own, audit entries too: the application
    never deletes those (they are append-only and keep their site), but these are the bench's."""
    if connection.vendor == "postgresql":
        with _loading() as cursor:
            for slug in slugs:
                _delete_sites(cursor, slug)
        return
    from creatorhub.models import Site
    from creatorhub.tenancy import platform_wide

    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(slugs))
        cursor.execute(
            "DELETE FROM creatorhub_auditentry WHERE site_id IN "
            f"(SELECT id FROM creatorhub_site WHERE slug IN ({marks}))",
            list(slugs),
        )
    with platform_wide("bench: deleting its sites"):
        Site.objects.filter(slug__in=slugs).delete()


def vacuum(tables: list[str]) -> None:
    """VACUUM ANALYZE, outside any transaction: fresh statistics and visibility maps for the planner.
    (This machine's PostgreSQL runs without autovacuum.)"""
    with as_loader() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for table in tables:
            started = time.perf_counter()
            cursor.execute(f"VACUUM ANALYZE {table}")
            print(f"  VACUUM ANALYZE {table} ({time.perf_counter() - started:.1f} s)", flush=True)
        cursor.execute("RESET maintenance_work_mem")


def seed() -> dict:
    """Returns the sizes and the big site's slug."""
    assert connection.vendor == "postgresql", "the activity benchmark seeds with PostgreSQL SQL"
    n_sites, n_contacts, n_events = sizes()
    wanted = {"sites": n_sites, "contacts": n_contacts, "events": n_events, "big_site": "act-1"}
    marker = {"sites": n_sites, "contacts": n_contacts, "events": n_events}
    with _loading() as cursor:
        if _seeded(cursor, "activity", marker):
            print(f"  seed: kept ({n_sites:,} sites, {n_contacts:,} contacts, {n_events:,} events)")
            _count_contacts(cursor, "act-%")
            return wanted
        started = time.perf_counter()
        _mark_seeded(cursor, "activity", None)
        _delete_sites(cursor, "act-%")
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
            "details, external_id, anonymous_id) "
            "SELECT c.site_id, c.id, e.kind, e.at, e.at, '{}', '', '' "
            "FROM act_events_stage e JOIN act_contacts c ON c.n = e.n ORDER BY c.site_id, c.id, e.at",
        )
        cursor.execute("DROP TABLE act_events_stage, act_latest, act_contacts, act_sites")
        _count_contacts(cursor, "act-%")
        _mark_seeded(cursor, "activity", marker)
    vacuum(["contacts_contact", "offers_access", "activity_activityevent", "creatorhub_site"])
    print(f"  seed: done in {time.perf_counter() - started:.0f} s", flush=True)
    return wanted


# The Contacts tab's site: who its people are. Names and domains repeat, as real ones do: a surname is
# carried by about 1% of the site.
FIRST_NAMES = (
    "Ana Ben Chloe David Emma Farid Grace Hugo Ines Jonas Kemi Liam Maria Noah Olga Pablo Quinn Rosa Sam "
    "Tara Umar Vera Wen Xavier Yara Zoe Amir Bella Carlos Dana Elif Finn Gita Hana Ivan Jade Kai Lena Mateo "
    "Nina Omar Priya Rui Sofia Tomas Uma Victor Willa Yusuf Zara"
)
LAST_NAMES = (
    "Adams Baker Costa Diaz Evans Fischer Garcia Haddad Ito Jensen Kowalski Lopez Moreau Nakamura Okafor "
    "Petrov Quispe Rossi Silva Tanaka Usman Varga Wagner Xu Yilmaz Zhang Andersen Bianchi Cohen Dubois "
    "Eriksen Ferreira Gomez Hansen Ivanova Jovanovic Kim Larsen Mendes Novak Olsen Park Reyes Santos "
    "Schmidt Torres Ueda Vogel Weber Young Abbott Brennan Castillo Doyle Eklund Fontaine Gallo Holm Ibarra "
    "Jung Keller Lindqvist Marino Nilsen Oduya Pereira Quinlan Richter Sato Toivonen Ulloa Vidal Walsh "
    "Yamada Zeller Alvarez Bauer Conti Dietrich Esposito Fuchs Greco Hoffmann Iqbal Jimenez Kaur Lehmann "
    "Mancini Neumann Ortiz Pham Ramos Sanchez Thomsen Valdez Wolf Zimmermann"
)
DOMAINS = "gmail.com yahoo.com outlook.com icloud.com proton.me hey.com fastmail.com studio.example"
TAB_OFFERS = ["Yoga foundations", "Strength course", "Membership", "Workshop replay"]
TAB_FORMS = ["Newsletter sign-up", "Free guide", "Waitlist"]
# Each tag and how many contacts in a thousand carry it.
TAB_TAGS = {
    "Newsletter": 400,
    "Webinar 2025": 200,
    "Podcast listener": 100,
    "Cold lead": 50,
    "VIP": 20,
    "Beta tester": 5,
}
TAB_STAGES = "tab_people, tab_active, tab_events, tab_latest, tab_contacts"
# A person's draws (_draw): one number in [0, 1000) per purpose.
STATUS, CUSTOMER, OFFERS, FIRST_OFFER, ORIGIN, NAMELESS, FORMS, DOMAIN, FIELDS, ACTIVE, CHANGED = range(11)
JITTER, FIRST, LAST, COMPANY, PLAN, TAGGED = range(11, 17)


def _draw(j: int) -> str:
    """SQL for a number in [0, 1000) that depends only on the person `n` and on `j`: the same person
    draws the same every time, and draws for different purposes are independent."""
    return f"((hashint8(n * 64 + {j}) & 2147483647) %% 1000)"


def _pick(words: str, j: int) -> str:
    """SQL for one of the space-separated `words` (a parameter name), by the person's draw `j`."""
    array = f"string_to_array(%({words})s, ' ')"
    return f"({array})[1 + {_draw(j)} %% cardinality({array})]"


def tab_sizes() -> dict:
    read = lambda name, default: int(os.environ.get(name, default))  # noqa: E731
    return {"contacts": read("BENCH_TAB_CONTACTS", 1_000_000), "events": read("BENCH_TAB_EVENTS", 10_000_000)}


def _tab_catalog(cursor, site_id: int) -> dict:
    """The site's offers, forms and tags: {"offers": [ids], "forms": [ids], "tags": [ids]}."""
    rows = {
        "offers": (
            "INSERT INTO offers_offer (title, description, price, currency, created_at, site_id) "
            "SELECT name, '', 49, 'EUR', %(at)s, %(site)s "
            "FROM unnest(%(names)s::text[]) WITH ORDINALITY f(name, k) ORDER BY k RETURNING id",
            TAB_OFFERS,
        ),
        "forms": (
            "INSERT INTO contacts_form (name, slug, double_opt_in, ask_name, tag_names, redirect_url, "
            "success_message, created_at, site_id) "
            "SELECT name, 'form-' || k, true, true, '[]', '', '', %(at)s, %(site)s "
            "FROM unnest(%(names)s::text[]) WITH ORDINALITY f(name, k) ORDER BY k RETURNING id",
            TAB_FORMS,
        ),
        "tags": (
            "INSERT INTO contacts_tag (name, created_at, site_id) "
            "SELECT name, %(at)s, %(site)s FROM unnest(%(names)s::text[]) WITH ORDINALITY f(name, k) "
            "ORDER BY k RETURNING id",
            list(TAB_TAGS),
        ),
    }
    ids = {}
    for key, (sql, names) in rows.items():
        cursor.execute(sql, {"site": site_id, "names": names, "at": "2020-01-01T00:00:00Z"})
        ids[key] = sorted(row[0] for row in cursor.fetchall())
    return ids


def seed_tab(slug: str = "tab-1") -> dict:
    """The Contacts tab's site `slug`: contacts added over three years (a tenth of them in one import, all
    at the same moment), 55% subscribed, 5% pending, 20% never subscribed, 20% unsubscribed for each
    reason; 30% customers holding 1 to 3 of 4 offers, some with a revoked access, and 5% former
    customers; six tags, from 40% of the contacts down to 0.5%; form submissions for those who came by a
    form; custom fields for half; events from each contact's creation to now (none for 10% of them) and
    `last_activity_at` their latest. Returns the sizes."""
    assert connection.vendor == "postgresql", "the Contacts tab benchmark seeds with PostgreSQL SQL"
    wanted = tab_sizes()
    n, n_events = wanted["contacts"], wanted["events"]
    with _loading() as cursor:
        if _seeded(cursor, "tab", wanted):
            print(f"  seed: kept {slug} ({n:,} contacts, {n_events:,} events)")
            _count_contacts(cursor, slug)
            return wanted
        started = time.perf_counter()
        _mark_seeded(cursor, "tab", None)
        cursor.execute(f"DROP TABLE IF EXISTS {TAB_STAGES}")  # left by a run that was stopped
        _delete_sites(cursor, slug)
        cursor.execute(
            "INSERT INTO creatorhub_site (slug, name, time_zone, created_at, plan_id) "
            "SELECT %s, 'Contacts tab bench', 'Europe/Paris', now() - interval '1100 days', id "
            "FROM creatorhub_plan ORDER BY contact_limit DESC LIMIT 1 RETURNING id",
            [slug],
        )
        site_id = cursor.fetchone()[0]
        params = {
            **_tab_catalog(cursor, site_id),
            "site": site_id,
            "n": n,
            "events": n_events,
            "first": FIRST_NAMES,
            "last": LAST_NAMES,
            "domains": DOMAINS,
            "permilles": list(TAB_TAGS.values()),
        }
        # Everything about each person first (n = 0, 1, …), drawn once, so that the contact, its accesses,
        # tags, submissions and events agree. People from 30% to 40% of n came in one import, at one moment.
        _step(
            cursor,
            f"{n:,} people staged",
            "CREATE UNLOGGED TABLE tab_people AS SELECT *, "
            "lower(first_name || '.' || last_name) || n || '@' || domain AS email, "
            "CASE WHEN nameless THEN '' ELSE first_name || ' ' || last_name END AS name "
            "FROM (SELECT n, "
            "CASE WHEN n >= %(n)s * 3 / 10 AND n < %(n)s * 4 / 10 "
            "  THEN date_trunc('second', now() - interval '1095 days' * 0.65) "
            f"  ELSE now() - interval '1095 days' * (1 - (n + {_draw(JITTER)} / 100.0) / (%(n)s + 10)) "
            "END AS created_at, "
            f"{_draw(STATUS)} AS status_draw, {_draw(CHANGED)} AS changed_draw, {_draw(FORMS)} AS form_draw, "
            f"{_draw(CUSTOMER)} < 300 AS is_customer, "
            f"{_draw(CUSTOMER)} BETWEEN 300 AND 349 "
            f"  OR ({_draw(CUSTOMER)} < 300 AND {_draw(OFFERS)} < 200) AS revoked, "
            f"CASE WHEN {_draw(CUSTOMER)} < 300 THEN 1 + {_draw(OFFERS)} %% 3 ELSE 0 END AS live_offers, "
            f"{_draw(FIRST_OFFER)} %% 4 AS first_offer, "
            "CASE WHEN n >= %(n)s * 3 / 10 AND n < %(n)s * 4 / 10 THEN 'import' "
            f"  WHEN {_draw(CUSTOMER)} < 300 AND {_draw(ORIGIN)} < 500 THEN 'purchase' "
            f"  WHEN {_draw(ORIGIN)} < 300 THEN 'form' WHEN {_draw(ORIGIN)} < 400 THEN 'api' "
            "  ELSE 'manual' END AS origin, "
            f"{_draw(ACTIVE)} >= 100 AS active, "
            f"{_pick('first', FIRST)} AS first_name, {_pick('last', LAST)} AS last_name, "
            f"{_draw(NAMELESS)} < 80 AS nameless, {_pick('domains', DOMAIN)} AS domain, "
            f"CASE WHEN {_draw(FIELDS)} < 500 THEN jsonb_build_object("
            f"  'company', 'Company ' || {_draw(COMPANY)} %% 200, "
            f"  'plan', (ARRAY['free', 'pro', 'team'])[1 + {_draw(PLAN)} %% 3]"
            ") ELSE '{}'::jsonb END AS fields "
            "FROM generate_series(0, %(n)s - 1) n) p",
            params,
        )
        cursor.execute("CREATE UNIQUE INDEX ON tab_people (n)")
        cursor.execute(
            "CREATE UNLOGGED TABLE tab_active AS "
            "SELECT row_number() OVER (ORDER BY n) - 1 AS a, n, created_at FROM tab_people WHERE active"
        )
        cursor.execute("CREATE UNIQUE INDEX ON tab_active (a)")
        # Each event's person and time, generated before the contacts, so that each contact is inserted
        # with its last_activity_at already right.
        _step(
            cursor,
            f"{n_events:,} events staged",
            "CREATE UNLOGGED TABLE tab_events AS SELECT p.n, "
            "p.created_at + random() * (now() - p.created_at) AS at, "
            f"({KINDS})[1 + g %% 7] AS kind "
            "FROM generate_series(0, %(events)s - 1) g "
            "JOIN tab_active p ON p.a = (hashint8(g) & 2147483647) %% (SELECT count(*) FROM tab_active)",
            params,
        )
        cursor.execute(
            "CREATE UNLOGGED TABLE tab_latest AS SELECT n, max(at) AS at FROM tab_events GROUP BY n"
        )
        _step(
            cursor,
            f"{n:,} contacts",
            "INSERT INTO contacts_contact (email, name, fields, subscription_status, unsubscribe_reason, "
            "status_changed_at, is_customer, last_activity_at, origin, created_at, updated_at, "
            "member_password, site_id) "
            "SELECT p.email, p.name, p.fields, "
            "CASE WHEN p.status_draw < 550 THEN 'subscribed' WHEN p.status_draw < 600 THEN 'pending' "
            "  WHEN p.status_draw < 800 THEN 'never_subscribed' ELSE 'unsubscribed' END, "
            "CASE WHEN p.status_draw >= 970 THEN 'complained' WHEN p.status_draw >= 930 THEN 'bounced' "
            "  WHEN p.status_draw >= 850 THEN 'opted_out' WHEN p.status_draw >= 800 THEN 'manual' END, "
            "p.created_at + (now() - p.created_at) * p.changed_draw / 1000.0, p.is_customer, l.at, p.origin, "
            "p.created_at, now(), '', %(site)s "
            "FROM tab_people p LEFT JOIN tab_latest l USING (n) ORDER BY p.n",
            params,
        )
        cursor.execute(
            "CREATE UNLOGGED TABLE tab_contacts AS SELECT p.n, c.id FROM contacts_contact c "
            "JOIN tab_people p USING (email) WHERE c.site_id = %(site)s",
            params,
        )
        cursor.execute("CREATE UNIQUE INDEX ON tab_contacts (n)")
        _step(
            cursor,
            "accesses",
            "INSERT INTO offers_access (source, created_at, revoked_at, contact_id, site_id, offer_id) "
            "SELECT CASE WHEN p.origin = 'purchase' AND i = 0 THEN 'purchase' ELSE 'grant' END, "
            "p.created_at + (now() - p.created_at) * (i + 1) / 8, NULL, c.id, %(site)s, "
            "(%(offers)s::bigint[])[1 + (p.first_offer + i) %% 4] "
            "FROM tab_people p JOIN tab_contacts c USING (n), generate_series(0, p.live_offers - 1) i "
            "UNION ALL "
            "SELECT 'grant', p.created_at + (now() - p.created_at) / 10, "
            "p.created_at + (now() - p.created_at) / 2, c.id, %(site)s, "
            "(%(offers)s::bigint[])[1 + (p.first_offer + 3) %% 4] "
            "FROM tab_people p JOIN tab_contacts c USING (n) WHERE p.revoked",
            params,
        )
        _step(
            cursor,
            "tags",
            "INSERT INTO contacts_contacttag (created_at, contact_id, site_id, tag_id) "
            "SELECT p.created_at, c.id, %(site)s, t.id "
            "FROM tab_people p JOIN tab_contacts c USING (n) "
            "JOIN unnest(%(tags)s::bigint[], %(permilles)s::int[]) WITH ORDINALITY t(id, permille, k) "
            f"ON ((hashint8(p.n * 64 + {TAGGED} + t.k) & 2147483647) %% 1000) < t.permille",
            params,
        )
        _step(
            cursor,
            "form submissions",
            "INSERT INTO contacts_formsubmission "
            "(submitted_at, ip, user_agent, contact_id, form_id, site_id) "
            "SELECT p.created_at + (now() - p.created_at) * i / 4, NULL, '', c.id, "
            "(%(forms)s::bigint[])[1 + (p.form_draw + i) %% 3], %(site)s "
            "FROM tab_people p JOIN tab_contacts c USING (n), generate_series(0, 1) i "
            "WHERE p.origin = 'form' AND (i = 0 OR p.form_draw < 100)",
            params,
        )
        _step(
            cursor,
            f"{n_events:,} events",
            "INSERT INTO activity_activityevent (site_id, contact_id, kind, occurred_at, recorded_at, "
            "details, external_id, anonymous_id) "
            "SELECT %(site)s, c.id, e.kind, e.at, e.at, '{}', '', '' "
            "FROM tab_events e JOIN tab_contacts c USING (n) ORDER BY c.id, e.at",
            params,
        )
        cursor.execute(f"DROP TABLE {TAB_STAGES}")
        _count_contacts(cursor, slug)
        _mark_seeded(cursor, "tab", wanted)
    vacuum(
        [
            "contacts_contact",
            "contacts_contacttag",
            "contacts_formsubmission",
            "offers_access",
            "activity_activityevent",
        ]
    )
    print(f"  seed: {slug} done in {time.perf_counter() - started:.0f} s", flush=True)
    return wanted
