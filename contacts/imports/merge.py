"""Writing an import's rows into the site's contacts, under SPEC §2's rules, in the caller's transaction.

The rules, once: an import adds contacts (origin "import") and updates the names, custom fields and
tags of those it finds by email (in any case; a new contact's email is stored as given); it raises a
contact's status from never subscribed or pending to subscribed, with a consent event, only when
"Subscribe to marketing emails" is ticked; it never resubscribes an unsubscribed contact and never
lowers a subscribed one.

On PostgreSQL the rows are copied (COPY) into a temporary table and merged by one set-based statement,
`INSERT … ON CONFLICT (site_id, lower(email)) DO UPDATE`, with the rules in SQL; consent events and
tags follow set-based. Elsewhere (SQLite, in development and tests) the ORM writes them in batches
with the same rules, in Python. The tests check that both give the same rows.
"""

import csv
import tempfile
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from contacts.imports.mapping import field_keys
from contacts.imports.rows import ContactRow, RowError
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    ContactTag,
    Import,
    ImportRowError,
    SubscriptionStatus,
)
from contacts.services import tags_named
from creatorhub.models import Site

SUBSCRIBED, NEVER = SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.NEVER_SUBSCRIBED
RAISED_BY_IMPORT = (NEVER, SubscriptionStatus.PENDING)  # the only statuses an import changes
BATCH = 500
CHUNK = 1 << 20
TAGS_PER_CALL = 100  # contacts.services.tags_named takes at most this many names at once


def status_after(current: str, *, subscribe: bool) -> str:
    return SUBSCRIBED if subscribe and current in RAISED_BY_IMPORT else current


def name_after(current: str, given: str) -> str:
    return given or current


def fields_after(current: dict, given: dict) -> dict:
    return {**current, **given}


class Spool:
    """Rows on their way to the merge, in a temporary CSV file: a million rows do not fit in memory as
    objects, and PostgreSQL's COPY reads the file as it is."""

    def __init__(self):
        self.file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed by __exit__
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, values) -> None:
        self.writer.writerow(values)
        self.count += 1

    def lines(self) -> Iterator[list[str]]:
        self.file.seek(0)
        return csv.reader(self.file)

    def chunks(self) -> Iterator[str]:
        self.file.seek(0)
        while chunk := self.file.read(CHUNK):
            yield chunk


def spool_row(spool: Spool, row: ContactRow, field_keys: list[str]) -> None:
    """In the column order of the staging table (`import_rows`): the tags joined by commas (a tag has
    none), then one column per custom field, empty when the row leaves it alone. (JSON would be
    simpler, and would cost more than reading the row.)"""
    fields = row.fields
    spool.write(
        (row.row, row.email, row.name, ",".join(row.tags), *(fields.get(key, "") for key in field_keys))
    )


def spool_error(spool: Spool, error: RowError) -> None:
    spool.write((error.row, error.column[:200], error.message[:300]))


def merge(site: Site, *, imp: Import, rows: Spool, errors: Spool, tag_names: set[str]) -> tuple[int, int]:
    """Writes the rows and the row errors; returns how many contacts were created and updated. Call it
    inside a transaction: if anything fails, nothing of the import is written."""
    tags = {}
    names = sorted({*tag_names, *imp.tags}, key=str.lower)
    for start in range(0, len(names), TAGS_PER_CALL):
        tags.update((tag.name.lower(), tag) for tag in tags_named(site, names[start : start + TAGS_PER_CALL]))
    merge_rows = merge_with_copy if connection.vendor == "postgresql" else merge_in_batches
    return merge_rows(site, imp=imp, rows=rows, errors=errors, tags=tags, now=timezone.now())


# -- PostgreSQL: COPY, then one merge ------------------------------------------------------------------

STAGING = "CREATE TEMP TABLE import_rows (row_no integer, email text, name text, tags text{fields})"
RAISABLE = """
CREATE TEMP TABLE import_raised AS
SELECT c.id, c.subscription_status
FROM contacts_contact c JOIN import_rows r ON lower(c.email) = lower(r.email)
WHERE c.site_id = %(site)s AND c.subscription_status = ANY(%(raised)s)
FOR UPDATE OF c
"""
MERGE = """
INSERT INTO contacts_contact AS c (site_id, email, name, fields, subscription_status, unsubscribe_reason,
    status_changed_at, is_customer, origin, created_at, updated_at, member_password)
SELECT %(site)s, r.email, r.name, {fields}, %(new_status)s, NULL, %(now)s, false, %(origin)s, %(now)s,
    %(now)s, ''
FROM import_rows r ORDER BY lower(r.email)  -- the unique index's order: a tenth faster at a million rows
ON CONFLICT (site_id, lower(email)) DO UPDATE SET
    name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
    fields = c.fields || EXCLUDED.fields,
    subscription_status = {status},
    status_changed_at = {status_changed_at},
    updated_at = %(now)s
RETURNING c.id, lower(c.email) AS email_key, c.xmax = 0 AS created
"""
RAISE = "CASE WHEN c.subscription_status = ANY(%(raised)s) THEN {then} ELSE {otherwise} END"
CONSENT_EVENTS = """
INSERT INTO contacts_consentevent (site_id, contact_id, occurred_at, from_status, from_reason, to_status,
    to_reason, source, note, actor_user_id, actor_api_key_id, form_id, ip, user_agent)
SELECT %(site)s, m.id, %(now)s, COALESCE(b.subscription_status, %(never)s), NULL, %(subscribed)s, NULL,
    %(source)s, %(note)s, %(user)s, %(api_key)s, NULL, NULL, ''
FROM import_merged m LEFT JOIN import_raised b ON b.id = m.id
WHERE m.created OR b.id IS NOT NULL
"""
CONTACT_TAGS = """
INSERT INTO contacts_contacttag (site_id, contact_id, tag_id, created_at)
SELECT %(site)s, m.id, t.id, %(now)s
FROM import_merged m JOIN import_rows r ON lower(r.email) = m.email_key
CROSS JOIN LATERAL unnest(string_to_array(r.tags, ',') || %(import_tags)s::text[]) AS given(name)
JOIN contacts_tag t ON t.site_id = %(site)s AND lower(t.name) = lower(given.name)
ON CONFLICT DO NOTHING
"""
ROW_ERRORS = """
INSERT INTO contacts_importrowerror (site_id, contact_import_id, "row", "column", message)
SELECT %(site)s, %(import)s, row_no, column_name, message FROM import_errors
"""


def merge_sql(*, subscribe: bool, keep: bool, fields: int) -> str:
    """The merge, with the status rule when "Subscribe" is ticked; its rows kept in `import_merged`
    (`keep`), or only counted. A row's custom fields are the staging columns f0… that it fills."""
    status, status_changed_at = "c.subscription_status", "c.status_changed_at"
    if subscribe:
        status = RAISE.format(then="%(subscribed)s", otherwise=status)
        status_changed_at = RAISE.format(then="%(now)s", otherwise=status_changed_at)
    given = ", ".join(f"r.f{n}" for n in range(fields))
    fields_sql = (
        f"jsonb_strip_nulls(jsonb_object(%(field_keys)s::text[], ARRAY[{given}]))" if fields else "'{}'"
    )
    merge = MERGE.format(status=status, status_changed_at=status_changed_at, fields=fields_sql)
    then = (
        "INSERT INTO import_merged SELECT * FROM merged"
        if keep
        else "SELECT count(*) FILTER (WHERE created), count(*) FROM merged"
    )
    return f"WITH merged AS ({merge}) {then}"


def merge_with_copy(site, *, imp, rows, errors, tags, now) -> tuple[int, int]:
    subscribe = imp.subscribe
    params = {
        "site": site.pk,
        "now": now,
        "origin": ContactOrigin.IMPORT,
        "new_status": status_after(NEVER, subscribe=subscribe),
        "raised": list(RAISED_BY_IMPORT),
        "never": NEVER,
        "subscribed": SUBSCRIBED,
        "source": ConsentSource.IMPORT,
        "note": imp.consent,
        "user": imp.created_by_id,
        "api_key": imp.created_by_api_key_id,
        "import_tags": [tags[name.lower()].name for name in imp.tags],
        "field_keys": field_keys(imp.mapping),
        "import": imp.pk,
    }
    keep = bool(subscribe or tags)  # the merged ids, for consent events and tags
    temporary = ["import_rows"]
    with connection.cursor() as cursor:
        cursor.execute(
            STAGING.format(fields="".join(f", f{n} text" for n in range(len(params["field_keys"]))))
        )
        copy_spool(cursor, "COPY import_rows FROM STDIN (FORMAT csv, FORCE_NOT_NULL (name))", rows)
        if subscribe:
            cursor.execute(RAISABLE, params)
            temporary.append("import_raised")
        if keep:
            cursor.execute("CREATE TEMP TABLE import_merged (id bigint, email_key text, created boolean)")
            temporary.append("import_merged")
        cursor.execute(merge_sql(subscribe=subscribe, keep=keep, fields=len(params["field_keys"])), params)
        if subscribe:
            cursor.execute(CONSENT_EVENTS, params)
        if tags:
            cursor.execute(CONTACT_TAGS, params)
        if keep:
            cursor.execute("SELECT count(*) FILTER (WHERE created), count(*) FROM import_merged")
        created, merged = cursor.fetchone()
        if errors.count:  # through a temporary table: row-level security refuses COPY into its tables
            cursor.execute("CREATE TEMP TABLE import_errors (row_no integer, column_name text, message text)")
            temporary.append("import_errors")
            copy_spool(
                cursor, "COPY import_errors FROM STDIN (FORMAT csv, FORCE_NOT_NULL (column_name))", errors
            )
            cursor.execute(ROW_ERRORS, params)
        cursor.execute(f"DROP TABLE {', '.join(temporary)}")  # the caller's transaction may go on
    return created, merged - created


def copy_spool(cursor, sql: str, spool: Spool) -> None:
    with cursor.copy(sql) as copy:
        for chunk in spool.chunks():
            copy.write(chunk)


# -- Elsewhere: the ORM, in batches ---------------------------------------------------------------------


def merge_in_batches(site, *, imp, rows, errors, tags, now) -> tuple[int, int]:
    import_tags = [tags[name.lower()] for name in imp.tags]
    created = updated = 0
    batch = []
    keys = field_keys(imp.mapping)
    for number, email, name, row_tags, *values in rows.lines():
        fields = {key: value for key, value in zip(keys, values, strict=True) if value}
        batch.append(ContactRow(int(number), email, name, fields, row_tags.split(",") if row_tags else []))
        if len(batch) == BATCH:
            created, updated = _merge_batch(site, imp, batch, tags, import_tags, now, created, updated)
            batch = []
    if batch:
        created, updated = _merge_batch(site, imp, batch, tags, import_tags, now, created, updated)
    ImportRowError.objects.bulk_create(
        (
            ImportRowError(site=site, contact_import=imp, row=int(row), column=column, message=message)
            for row, column, message in errors.lines()
        ),
        batch_size=BATCH,
    )
    return created, updated


def _merge_batch(site, imp, batch, tags, import_tags, now, created, updated) -> tuple[int, int]:
    found = {
        contact.email.lower(): contact
        for contact in Contact.objects.select_for_update().filter(
            email__lower__in=[r.email.lower() for r in batch]
        )
    }
    new, events, changed, pairs = [], [], [], []
    for row in batch:
        contact = found.get(row.email.lower())
        if contact is None:
            contact = Contact(
                site=site,
                email=row.email,
                name=row.name,
                fields=row.fields,
                subscription_status=status_after(NEVER, subscribe=imp.subscribe),
                status_changed_at=now,
                origin=ContactOrigin.IMPORT,
                created_at=now,
            )
            new.append(contact)
            before = NEVER
        else:
            before = contact.subscription_status
            contact.name = name_after(contact.name, row.name)
            contact.fields = fields_after(contact.fields, row.fields)
            contact.subscription_status = status_after(before, subscribe=imp.subscribe)
            if contact.subscription_status != before:
                contact.status_changed_at = now
            contact.updated_at = now
            changed.append(contact)
        if contact.subscription_status != before:
            events.append((contact, before))
        pairs.append((row, contact))
    Contact.objects.bulk_create(new)
    Contact.objects.bulk_update(
        changed, ["name", "fields", "subscription_status", "status_changed_at", "updated_at"]
    )
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            site=site,
            contact=contact,
            occurred_at=now,
            from_status=before,
            to_status=contact.subscription_status,
            source=ConsentSource.IMPORT,
            note=imp.consent,
            actor_user_id=imp.created_by_id,
            actor_api_key_id=imp.created_by_api_key_id,
        )
        for contact, before in events
    )
    ContactTag.objects.bulk_create(
        (
            ContactTag(site=site, contact=contact, tag=tag, created_at=now)
            for row, contact in pairs
            for tag in {*(tags[name.lower()] for name in row.tags), *import_tags}
        ),
        ignore_conflicts=True,
    )
    return created + len(new), updated + len(changed)
