"""Contact import at scale, on PostgreSQL: 1,000,000 new contacts (BENCH_IMPORT_ROWS) from a generated
CSV into a site of the benchmark's own, with every index of the contacts table in place (the trigram
search indexes included), whatever else the database holds. The file is a migration: it has a status
column (subscribed, unsubscribed, cleaned, complained), mapped. It is imported twice: as it is (the
unsubscribed fifth get their consent events), and with "Subscribe to marketing emails" ticked (every
new contact gets one).

- app: the whole job, as a worker runs it — upload (encoding, delimiter, header, mapping), reading and
  checking every row, COPY into the staging table, the merge with the status rule, the consent events,
  the row errors, the figures;
- floor: the same file through raw SQL only — COPY into a staging table, one INSERT … ON CONFLICT merge
  in the same order (that of the unique index), and one INSERT of the same consent events;
- the check step: what the page computes before anything is written (every row read and checked, the
  site's contacts looked up by email), timed on the draft; it has no floor of its own.

Each run commits (the foreign keys are checked then) and starts on a vacuumed table after a checkpoint,
the rows of the run before deleted, so both meet the same table. The sites are removed at the end.
"""

import csv
import os
import resource
import tempfile
import time
import unicodedata
from pathlib import Path

from django.core.files import File
from django.db import connection, transaction

from bench.seed import as_loader, delete_bench_sites
from contacts.imports import merge, selectors
from contacts.imports.services import run_import, start_import, upload_import
from contacts.models import ConsentEvent
from creatorhub.models import Plan, Site
from creatorhub.tenancy import platform_wide, site_scope

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))
FIRST = (
    "Ana Ben Chloé Dmitri Emma Farah Gus Hana Ivan Jo Kofi Lena Mateo Nia Omar Priya Quinn Rosa Sven Tariq"
)
LAST = "Silva Okafor Dubois Ivanov Schulz Haddad Brown Sato Petrov Kim Mensah Novak García Patel Rossi Walsh"
FLOOR_MERGE = """
INSERT INTO contacts_contact AS c (site_id, email, name, fields, subscription_status, unsubscribe_reason,
    status_changed_at, is_customer, origin, created_at, updated_at, member_password)
SELECT %(site)s, email, first || ' ' || last, jsonb_build_object('city', city),
    CASE WHEN status <> 'subscribed' THEN 'unsubscribed' WHEN %(subscribe)s THEN 'subscribed'
        ELSE 'never_subscribed' END,
    CASE status WHEN 'unsubscribed' THEN 'opted_out' WHEN 'cleaned' THEN 'bounced'
        WHEN 'complained' THEN 'complained' END,
    now(), false, 'import', now(), now(), ''
FROM floor_rows ORDER BY lower(email)
ON CONFLICT (site_id, lower(email)) DO UPDATE SET
    name = EXCLUDED.name, fields = c.fields || EXCLUDED.fields, updated_at = now()
"""
FLOOR_EVENTS = """
INSERT INTO contacts_consentevent (site_id, contact_id, occurred_at, from_status, to_status, to_reason,
    source, note, user_agent)
SELECT site_id, id, now(), 'never_subscribed', subscription_status, unsubscribe_reason, 'import', '', ''
FROM contacts_contact WHERE site_id = %(site)s AND subscription_status <> 'never_subscribed'
"""
STATUSES = ["subscribed"] * 16 + ["unsubscribed"] * 2 + ["cleaned", "complained"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "studio.example"]


def run(Result) -> list:
    if connection.vendor != "postgresql":
        print("  (imports benchmark skipped: it needs PostgreSQL)")
        return []
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        _generate(path, ROWS)
        size_mb = path.stat().st_size / 1_000_000
        floor_site, app_site = _site("bench-imports-floor"), _site("bench-imports-app")
        try:
            for subscribe in (False, True):
                _settle()
                floor = _floor(floor_site, path, subscribe=subscribe)
                _empty(floor_site)
                app, check = _app(app_site, path, subscribe=subscribe)
                _empty(app_site)
                ticked = ', "Subscribe" ticked' if subscribe else ""
                print(
                    f"  ({ROWS:,} rows with a status column{ticked}, {size_mb:.1f} MB of CSV: "
                    f"app {app:.1f} s, floor {floor:.1f} s; the check step before it "
                    f"{ROWS / check:,.0f} rows/s in {check:.1f} s)"
                )
                results.append(
                    Result(
                        f"import of {ROWS:,} new contacts, status column mapped{ticked}",
                        ROWS / app,
                        ROWS / floor,
                        "rows/s",
                    )
                )
        finally:
            delete_bench_sites(floor_site.slug, app_site.slug)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (peak memory of the benchmark's process {peak:,.0f} MB)")
    return results


def _generate(path: Path, rows: int) -> None:
    first, last = FIRST.split(), LAST.split()
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Email", "First Name", "Last Name", "City", "Status"])
        for n in range(rows):
            a, b = first[n % len(first)], last[n // len(first) % len(last)]
            email = unicodedata.normalize("NFKD", f"{a}.{b}.{n}").encode("ascii", "ignore").decode()
            city, status = "Lisbon" if n % 3 else "Porto", STATUSES[n % len(STATUSES)]
            writer.writerow([f"{email}@{DOMAINS[n % len(DOMAINS)]}", a, b, city, status])


def _site(slug: str) -> Site:
    delete_bench_sites(slug)
    with platform_wide("bench: the imports' sites"):
        return Site.objects.create(slug=slug, name=slug, plan=Plan.objects.order_by("-price").first())


def _app(site: Site, path: Path, *, subscribe: bool) -> tuple[float, float]:
    """The job's time (from the upload), and the check step's."""
    with path.open("rb") as file, site_scope(site):
        started = time.perf_counter()
        imp = upload_import(
            site,
            file=File(file, name=path.name),
            subscribe=subscribe,
            consent="Bench list" if subscribe else "",
        )
        uploaded = time.perf_counter() - started
        assert imp.mapping[-1] == "status", imp.mapping
        started = time.perf_counter()
        forecast = selectors.forecast(imp, targets=imp.mapping)
        check = time.perf_counter() - started
        started = time.perf_counter()
        start_import(site, contact_import=imp, queue=False)
        imp = run_import(site, contact_import=imp)
        elapsed = uploaded + time.perf_counter() - started
    assert (imp.status, imp.created_count, imp.skipped_count) == ("done", ROWS, 0), (
        imp.failure,
        imp.total,
        imp.created_count,
        imp.updated_count,
        imp.skipped_count,
    )
    assert forecast.tally.figures() == imp.outcome
    with site_scope(site):
        assert ConsentEvent.objects.count() == (ROWS if subscribe else ROWS // 5)
    return elapsed, check


def _floor(site: Site, path: Path, *, subscribe: bool) -> float:
    started = time.perf_counter()
    with (
        site_scope(site),
        transaction.atomic(),
        connection.cursor() as cursor,
        path.open(encoding="utf-8") as file,
    ):
        cursor.execute(
            "CREATE TEMP TABLE floor_rows (email text, first text, last text, city text, status text)"
            " ON COMMIT DROP"
        )
        with cursor.copy("COPY floor_rows FROM STDIN (FORMAT csv, HEADER)") as copy:
            while chunk := file.read(merge.CHUNK):
                copy.write(chunk)
        cursor.execute(FLOOR_MERGE, {"site": site.pk, "subscribe": subscribe})
        cursor.execute(FLOOR_EVENTS, {"site": site.pk})
    return time.perf_counter() - started


def _empty(site: Site) -> None:
    """Deletes the site's imported rows, then settles the table."""
    with site_scope(site), connection.cursor() as cursor:
        for table in (
            "contacts_consentevent",
            "contacts_importrowerror",
            "contacts_import",
            "contacts_contact",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE site_id = %s", [site.pk])
    _settle()


def _settle() -> None:
    """Vacuums and checkpoints, so that the next run meets the table as it was and writes no page left
    dirty by the one before."""
    with as_loader() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("CHECKPOINT")
