"""The Contacts tab at a million contacts, on the site `tab-1` of bench/seed.py's
seed_tab() (PostgreSQL only; `BENCH_SEED_ONLY=1` seeds and stops).

Each figure is the median server time of a request through Django's test client, with its
authentication (an API key for the API, a logged-in owner's session for the page), tenancy, the
segment's compiling, counts, serializing and rendering; beside it, its floor: the same rows fetched by
hand-written SQL through Django's cursor, with what the answer shows of them (the API: tags, offers held
and the active-customer flag; the page: tags). Pages are 50 rows, newest first:

- Subscribed in the API and All on the tab (with the counts of its tabs), first page;
- the same 10,000 rows deep (the API's by following its `next` links), and in the middle of the site,
  among the 100,000 contacts of one import that share one `created_at`;
- a saved segment of three filters: subscribed, tagged “Webinar 2025”, active in the last 30 days;
- a search for a surname (about 1% of the site);
- counts: the tab's first view after a contact changed (All, Customers and Subscribed from the
  counters, exact at once), against the page and the counters read by hand; the first view after the
  team changed contacts, when the saved segments are counted again, against their COUNT(*)s by hand;
  and the view after it, which must count nothing;
- the Overview page (usage.views) as the owner sees it, with 90 days of usage behind its chart, against
  its figures read by hand; it must count no contacts.
"""

import os
import statistics
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity.models import NOT_ACTIVITY
from activity.selectors import LAST_ACTIVITY_STEP
from audience import segments
from audience.services import saved_segments
from bench.run import median_ms
from bench.seed import seed_tab, vacuum
from contacts.counts import contacts_changed
from contacts.models import Contact, Segment, Tag
from creatorhub import compiled
from creatorhub.models import ApiKey, Membership, Site, User
from creatorhub.paging import encode_cursor
from creatorhub.roles import Role
from creatorhub.services import create_api_key
from creatorhub.tenancy import site_scope
from usage.models import UsageSnapshot
from usage.selectors.active_customers import window_of
from usage.selectors.overview import Windows
from usage.selectors.plan import HISTORY_DAYS

SLUG = "tab-1"
SURNAME = "okafor"
DEEP = 10_000
COLD_REPEAT = 5  # each counts the saved segments again: half a second apiece
CHANGED_REPEAT = 30
COLUMNS = (
    "c.id, c.email, c.name, c.fields, c.subscription_status, c.unsubscribe_reason, c.status_changed_at, "
    "c.is_customer, c.origin, c.created_at, c.last_activity_at"
)
TAGGED = (
    "EXISTS (SELECT 1 FROM contacts_contacttag ct "
    "WHERE ct.site_id = c.site_id AND ct.contact_id = c.id AND ct.tag_id = %s)"
)
TABLES = ["contacts_contact", "contacts_contacttag", "offers_access", "activity_activityevent"]
SUBSCRIBED = ("c.subscription_status = 'subscribed'", [])
CONTACTS = '"contacts_contact"'  # the table, as the ORM quotes it (not contacts_contactcount)
EVERYONE = ("true", [])


def run(Result, repeat: int) -> list:
    if connection.vendor != "postgresql":
        print("  (Contacts tab benchmarks skipped: they need PostgreSQL)")
        return []
    seed_tab(SLUG)
    if os.environ.get("BENCH_SEED_ONLY"):
        return []
    # Other benchmarks delete rows in these tables and this machine's PostgreSQL has no autovacuum: dead
    # index entries at the end of an index make the planner probe thousands of pages per query.
    vacuum(TABLES)
    bench = TabBench(Result, repeat)
    return bench.api() + bench.page() + bench.counts() + bench.overview()


class TabBench:
    """The site, its two callers (an API key, an owner's session), its saved segments, and the floors."""

    def __init__(self, Result, repeat: int):
        self.Result, self.repeat = Result, repeat
        self.site = Site.objects.get(slug=SLUG)
        self.user, _ = User.objects.get_or_create(email="bench-owner@example.com")
        with site_scope(self.site):
            Membership.objects.get_or_create(site=self.site, user=self.user, defaults={"role": Role.OWNER})
            ApiKey.objects.filter(name="bench contacts").delete()
            self.webinar, vip = (Tag.objects.get(name=name).pk for name in ("Webinar 2025", "VIP"))
            self.segment = self.saved(
                "Engaged webinar subscribers",
                [
                    {"field": "status", "op": "is", "value": "subscribed"},
                    {"field": "tag", "op": "has", "value": self.webinar},
                    {"field": "last_activity", "op": "after", "value": 30},
                ],
            )
            self.saved(
                "VIP customers",
                [
                    {"field": "customer", "op": "is", "value": True},
                    {"field": "tag", "op": "has", "value": vip},
                ],
            )
            self.tab_filters = [segment.filters for segment in segments.DEFAULT_SEGMENTS.values()]
            self.tab_filters += [segment.filters for segment in Segment.objects.all()]
        # The same tabs by hand, in the tab's order: All, Customers, Subscribed, then the saved by name.
        self.tabs = [
            EVERYONE,
            ("c.is_customer", []),
            SUBSCRIBED,
            self.three_filters(),
            (f"c.is_customer AND {TAGGED}", [vip]),
        ]
        self.page_client = Client()
        self.page_client.force_login(self.user)

    def api_client(self) -> Client:
        """A client with an API key of its own: a measurement makes hundreds of requests, and each key
        has its rate (API_RATE_PER_KEY); a 429 would be timed as a page."""
        with site_scope(self.site):
            _, secret = create_api_key(
                self.site, name="bench contacts", role=Role.OWNER, acting_user=self.user
            )
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def saved(self, name: str, filters: list) -> Segment:
        found = Segment.objects.filter(name=name).first()
        return found or saved_segments.create_segment(self.site, name=name, filters={"all": filters})

    # -- The figures

    def api(self) -> list:
        base = f"/api/v1/sites/{SLUG}/contacts/"
        url = f"{base}?segment=subscribed"
        followed, client = url, self.api_client()
        for _ in range(DEEP // 50):
            followed = client.get(followed).json()["next"]
        deep = self.position(*SUBSCRIBED, DEEP - 1)
        middle = self.position(*SUBSCRIBED, self.middle(SUBSCRIBED[0]))
        return [
            self.measure("API Subscribed, first page", url, self.api_client(), self.api_floor(*SUBSCRIBED)),
            self.measure(
                f"API Subscribed, {DEEP:,} rows deep (next links)",
                followed,
                self.api_client(),
                self.api_floor(*SUBSCRIBED, after=deep),
            ),
            self.measure(
                "API Subscribed, middle of a tie",
                f"{url}&cursor={encode_cursor(middle)}",
                self.api_client(),
                self.api_floor(*SUBSCRIBED, after=middle),
            ),
            self.measure(
                "API 3-filter segment, first page",
                f"{base}?segment={self.segment.pk}",
                self.api_client(),
                self.api_floor(*self.three_filters()),
            ),
            self.measure(
                f"API search “{SURNAME}”, first page",
                f"{base}?q={SURNAME}",
                self.api_client(),
                self.api_floor(*self.search()),
            ),
            self.measure(
                f"API search “{SURNAME}”, its queries built anew",
                f"{base}?q={SURNAME}",
                self.api_client(),
                self.api_floor(*self.search()),
                built_anew=True,
            ),
        ]

    def page(self) -> list:
        base = f"/app/{SLUG}/contacts/"
        deep = self.position(*EVERYONE, DEEP - 1)
        middle = self.position(*EVERYONE, self.middle(EVERYONE[0]))
        return [
            self.measure(
                f"Tab All, first page, {len(self.tabs)} tab counts",
                base,
                self.page_client,
                self.page_floor(*EVERYONE),
            ),
            self.measure(
                f"Tab All, {DEEP:,} rows deep",
                f"{base}?before={encode_cursor(deep)}",
                self.page_client,
                self.page_floor(*EVERYONE, after=deep),
            ),
            self.measure(
                "Tab All, middle of a tie",
                f"{base}?before={encode_cursor(middle)}",
                self.page_client,
                self.page_floor(*EVERYONE, after=middle),
            ),
            self.measure(
                "Tab 3-filter segment, first page",
                f"{base}?segment={self.segment.pk}",
                self.page_client,
                self.page_floor(*self.three_filters()),
            ),
            self.measure(
                f"Tab search “{SURNAME}”, first page",
                f"{base}?q={SURNAME}",
                self.page_client,
                self.page_floor(*self.search()),
            ),
        ]

    def counts(self) -> list:
        """The tab's first view after a contact changed (a new subscriber, as a purchase or a form adds
        one): All, Customers and Subscribed read from the counters, exact at once, the saved segments
        from their cache; against the same page and counters read by hand. Then the first view after the
        team changed contacts, when the saved segments are counted again, against their COUNT(*)s by hand;
        and the view after it, which must count nothing."""
        url = f"/app/{SLUG}/contacts/"
        with site_scope(self.site):
            everyone = self.raw_counts()
            found = [segments.count(self.site, filters=filters) for filters in self.tab_filters]
        assert found == everyone, (found, everyone)

        def view_after_a_change() -> float:
            with site_scope(self.site):
                contact = Contact.objects.create(
                    site=self.site, email="bench-new-subscriber@example.com", subscription_status="subscribed"
                )
            try:
                started = time.perf_counter()
                response = self.page_client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200
                assert f"{everyone[0] + 1:,}" in response.content.decode()  # All, with the new one
            finally:
                with site_scope(self.site):
                    contact.delete()
            return elapsed

        def view_after_the_teams_change() -> float:
            contacts_changed(self.site, at_once=True)  # outside a transaction: at once
            started = time.perf_counter()
            assert self.page_client.get(url).status_code == 200
            return (time.perf_counter() - started) * 1000

        def page_and_counters_by_hand() -> None:
            self.page_floor(*EVERYONE)()
            self.counters_by_hand()

        def counted_by_hand() -> float:
            started = time.perf_counter()
            with site_scope(self.site):
                self.raw_counts()
            return (time.perf_counter() - started) * 1000

        self.page_client.get(url)  # the saved segments' counts cached, as on a tab in use
        changed = statistics.median(view_after_a_change() for _ in range(CHANGED_REPEAT))
        with site_scope(self.site):
            changed_floor = median_ms(page_and_counters_by_hand, self.repeat)
        saved = len(self.tabs) - len(segments.DEFAULT_SEGMENTS)
        teams = statistics.median(view_after_the_teams_change() for _ in range(COLD_REPEAT))
        teams_floor = statistics.median(counted_by_hand() for _ in range(COLD_REPEAT))
        with CaptureQueriesContext(connection) as queries:
            self.page_client.get(url)
        counting = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
        print(f"  the view after it: {len(counting)} count queries among its {len(queries)}", flush=True)
        assert not counting, counting
        return [
            self.Result("Tab first view after a change", changed, changed_floor, "ms"),
            self.Result(
                f"Tab first view after the team's change, {saved} saved counted", teams, teams_floor, "ms"
            ),
        ]

    def overview(self) -> list:
        """The site's home page with every figure the owner sees, against the same figures read by hand;
        none of its queries may count the contacts table."""
        self.usage_history()
        url = f"/app/{SLUG}/"
        with CaptureQueriesContext(connection) as queries:
            assert self.page_client.get(url).status_code == 200
        counting = [sql for sql in (q["sql"] for q in queries) if "COUNT(" in sql.upper() and CONTACTS in sql]
        assert not counting, counting
        return [self.measure("Overview page", url, self.page_client, self.overview_floor())]

    def usage_history(self) -> None:
        """The 90 nightly snapshots behind the Overview's chart, its new contacts and its sales, as the
        nightly task would have stored them (the seed has none): each day's contacts, purchases and grants
        from their `created_at`, and a steady share of the customers active."""
        today = self.site.today()
        first = today - timedelta(days=HISTORY_DAYS)
        with site_scope(self.site):
            stored = UsageSnapshot.objects.filter(day__gte=first)
            if stored.exists() and not stored.filter(grants=None).exists():
                return
            stored.delete()
            since = datetime.combine(first, datetime.min.time(), ZoneInfo(self.site.time_zone))
            added = self.by_day("contacts_contact", since)
            purchases = self.by_day("offers_purchase", since)
            grants = self.by_day("offers_access", since, where="AND source = 'grant'")
            contacts, customers = segments.counts(
                self.site, [(segments.DEFAULT_SEGMENTS[key].filters, "") for key in ("all", "customers")]
            )
            plan = self.site.plan
            snapshots = []
            for back in range(1, HISTORY_DAYS + 1):
                day = today - timedelta(days=back)
                contacts -= added.get(day + timedelta(days=1), 0)  # those added after `day`
                snapshots.append(
                    UsageSnapshot(
                        site=self.site,
                        day=day,
                        active_customers=customers * (55 + back % 7) // 100,
                        customers=customers,
                        contacts=contacts,
                        purchases=purchases.get(day, 0),
                        grants=grants.get(day, 0),
                        active_customer_limit=plan.active_customer_limit,
                        contact_limit=plan.contact_limit,
                    )
                )
            UsageSnapshot.objects.bulk_create(snapshots)

    def by_day(self, table: str, since: datetime, *, where: str = "") -> dict:
        """{day in the site's zone: rows of `table` created that day} since `since`."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (created_at AT TIME ZONE %s)::date, count(*) FROM {table} "
                f"WHERE site_id = %s AND created_at >= %s {where} GROUP BY 1",
                [self.site.time_zone, self.site.pk, since],
            )
            return dict(cursor.fetchall())

    # -- Measuring

    def measure(self, name: str, url: str, client: Client, floor, *, built_anew: bool = False):
        """The median of GET `url` (each answered 200) beside the median of `floor()`; prints the queries
        the request runs. `built_anew`: each request builds its queries with the ORM, as the first view
        of a search does (creatorhub.compiled keeps them for the views and pages after it)."""
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        print(f"  {name}: {len(queries)} queries", flush=True)

        def get():
            if built_anew:
                compiled.forget()
            assert client.get(url).status_code == 200

        app = median_ms(get, self.repeat)
        with site_scope(self.site):
            return self.Result(name, app, median_ms(floor, self.repeat), "ms")

    # -- The floors: hand-written SQL, run in the site's scope (row-level security binds them as it binds
    # the application)

    def rows(self, where: str, params: list, *, after: Contact | None = None) -> list[tuple]:
        """51 rows of `where` (one more tells whether there is a next page), newest first, after the
        position of the contact `after`."""
        if after is not None:
            where, params = (
                f"{where} AND (c.created_at, c.id) < (%s, %s)",
                [*params, after.created_at, after.pk],
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {COLUMNS} FROM contacts_contact c WHERE c.site_id = %s AND {where} "
                "ORDER BY c.created_at DESC, c.id DESC LIMIT 51",
                [self.site.pk, *params],
            )
            return cursor.fetchall()

    def tags_of(self, ids: list[int]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ct.contact_id, t.name FROM contacts_contacttag ct "
                "JOIN contacts_tag t ON t.id = ct.tag_id WHERE ct.site_id = %s AND ct.contact_id = ANY(%s)",
                [self.site.pk, ids],
            )
            return cursor.fetchall()

    def api_floor(self, where: str, params: list, *, after: Contact | None = None):
        """What an API page shows: the rows, their tags, the offers they hold, and which of them are
        active customers today (usage.selectors.active_customers' rule, for these ids)."""
        start, end = window_of(self.site, self.site.today())
        not_activity = sorted(kind.value for kind in NOT_ACTIVITY)

        def floor():
            ids = [row[0] for row in self.rows(where, params, after=after)]
            self.tags_of(ids)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT contact_id, offer_id FROM offers_access "
                    "WHERE site_id = %s AND contact_id = ANY(%s) AND revoked_at IS NULL",
                    [self.site.pk, ids],
                )
                cursor.fetchall()
                cursor.execute(
                    "SELECT c.id FROM contacts_contact c WHERE c.site_id = %s AND c.id = ANY(%s) "
                    "AND c.last_activity_at > %s AND EXISTS (SELECT 1 FROM offers_access a "
                    "  WHERE a.site_id = c.site_id AND a.contact_id = c.id AND a.created_at <= %s "
                    "  AND (a.revoked_at IS NULL OR a.revoked_at > %s)) "
                    "AND EXISTS (SELECT 1 FROM activity_activityevent e WHERE e.site_id = c.site_id "
                    "  AND e.contact_id = c.id AND e.occurred_at > %s AND e.occurred_at <= %s "
                    "  AND e.kind <> ALL(%s))",
                    [self.site.pk, ids, start - LAST_ACTIVITY_STEP, end, end, start, end, not_activity],
                )
                cursor.fetchall()

        return floor

    def page_floor(self, where: str, params: list, *, after: Contact | None = None):
        """What a page of the tab shows: the rows and their tags."""
        return lambda: self.tags_of([row[0] for row in self.rows(where, params, after=after)])

    def counters_by_hand(self) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT subscription_status, is_customer, sum(contacts) FROM contacts_contactcount "
                "WHERE site_id = %s GROUP BY 1, 2",
                [self.site.pk],
            )
            return cursor.fetchall()

    def raw_counts(self) -> list[int]:
        found = []
        with connection.cursor() as cursor:
            for where, params in self.tabs:
                cursor.execute(
                    f"SELECT count(*) FROM contacts_contact c WHERE c.site_id = %s AND {where}",
                    [self.site.pk, *params],
                )
                found.append(cursor.fetchone()[0])
        return found

    def overview_floor(self):
        """The Overview's figures by hand: the contacts' counters, the snapshots (with the days' sales), the
        team, today's sales, the emails of the last 30 days, support's open case and the jobs running now."""
        windows = Windows.of(self.site)
        site, since, today = self.site.pk, windows.start, windows.today_start
        live = "status IN ('queued', 'running') ORDER BY created_at DESC, id DESC LIMIT 5"
        statements = [
            (
                "SELECT sum(contacts), sum(contacts) FILTER (WHERE subscription_status = 'subscribed'), "
                "sum(contacts) FILTER (WHERE is_customer) FROM contacts_contactcount WHERE site_id = %s",
                [site],
            ),
            (
                "SELECT day, active_customers, contacts, purchases, grants FROM activity_usagesnapshot "
                "WHERE site_id = %s AND day >= %s AND day < %s ORDER BY day",
                [site, windows.today - timedelta(days=HISTORY_DAYS), windows.today],
            ),
            ("SELECT count(*) FROM creatorhub_membership WHERE site_id = %s", [site]),
            ("SELECT count(*) FROM offers_purchase WHERE site_id = %s AND created_at >= %s", [site, today]),
            (
                "SELECT count(*) FROM offers_access "
                "WHERE site_id = %s AND source = 'grant' AND created_at >= %s",
                [site, today],
            ),
            (
                "SELECT status, count(*) FROM emails_outboundemail WHERE site_id = %s "
                "AND status IN ('sent', 'failed', 'suppressed') AND created_at >= %s GROUP BY status",
                [site, since],
            ),
            (
                "SELECT id, status, opened_on FROM activity_overagecase "
                "WHERE site_id = %s AND status <> 'resolved' LIMIT 1",
                [site],
            ),
            (f"SELECT id, filename, progress FROM contacts_import WHERE site_id = %s AND {live}", [site]),
            (f"SELECT id, kind, done, total FROM contacts_bulkaction WHERE site_id = %s AND {live}", [site]),
            (
                "SELECT j.id, o.title, j.total FROM offers_grantjob j "
                "JOIN offers_offer o ON o.id = j.offer_id "
                "WHERE j.site_id = %s AND j.status IN ('queued', 'running') "
                "ORDER BY j.created_at DESC, j.id DESC LIMIT 5",
                [site],
            ),
        ]

        def floor():
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        return floor

    def three_filters(self) -> tuple[str, list]:
        """The saved segment's filters: `after` the day 30 days ago is from the start of the day after
        it, in the site's time zone."""
        zone = ZoneInfo(self.site.time_zone)
        day = timezone.now().astimezone(zone).date() - timedelta(days=29)
        since = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        return (
            f"c.subscription_status = 'subscribed' AND c.last_activity_at >= %s AND {TAGGED}",
            [since, self.webinar],
        )

    def search(self) -> tuple[str, list]:
        """Django's icontains on PostgreSQL, which the trigram indexes serve."""
        pattern = f"%{SURNAME.upper()}%"
        return "(upper(c.email::text) LIKE %s OR upper(c.name::text) LIKE %s)", [pattern, pattern]

    # -- Positions

    def position(self, where: str, params: list, depth: int) -> Contact:
        """The contact `depth` rows deep in `where`, newest first (found by OFFSET, once, for a cursor)."""
        with site_scope(self.site), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id FROM contacts_contact c WHERE c.site_id = %s AND {where} "
                "ORDER BY c.created_at DESC, c.id DESC OFFSET %s LIMIT 1",
                [self.site.pk, *params, depth],
            )
            return Contact.objects.get(pk=cursor.fetchone()[0])

    def middle(self, where: str) -> int:
        """How deep in `where` the middle of the import is: its contacts share one created_at."""
        with site_scope(self.site), connection.cursor() as cursor:
            cursor.execute(
                "SELECT created_at FROM contacts_contact WHERE site_id = %s AND origin = 'import' LIMIT 1",
                [self.site.pk],
            )
            moment = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FILTER (WHERE c.created_at > %s), count(*) FILTER (WHERE c.created_at = %s) "
                f"FROM contacts_contact c WHERE c.site_id = %s AND {where}",
                [moment, moment, self.site.pk],
            )
            newer, same = cursor.fetchone()
        return newer + same // 2
