"""Writing an import's rows into the site's contacts, under the status rules, in the caller's transaction.

The rules, once: an import adds contacts (origin "import") and updates the names, custom fields and
tags of those it finds by email (in any case; a new contact's email is stored as given). Each row asks
for a status (contacts.imports.statuses.target: what the file says of the person and whether
"Subscribe to marketing emails" is ticked), and `statuses.status_after` decides what an existing
contact becomes: a row saying the person left lowers them, "Subscribe" raises never subscribed and
pending ones, nothing else changes a status. Every change writes a consent event with the file's own
date, IP address and words where it has them.

On PostgreSQL the rows are copied (COPY) into a temporary table and merged by one set-based statement,
`INSERT … ON CONFLICT (site_id, lower(email)) DO UPDATE`, with the rule in SQL; consent events and
tags follow set-based. Elsewhere (SQLite, in development and tests) the ORM writes them in batches
with the rule in Python. The tests check that both give the same rows.
"""

import csv
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.utils import timezone

from contacts.imports import statuses
from contacts.imports.mapping import field_keys, reads_consent
from contacts.imports.rows import ContactRow, RowError
from contacts.imports.statuses import LADDER, LEFT, NEVER, Status
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    ContactTag,
    Import,
    ImportRowError,
)
from contacts.services import REASON_WEIGHT, tags_named
from creatorhub.models import Site

BATCH = 500
CHUNK = 1 << 20
TAGS_PER_CALL = 100  # contacts.services.tags_named takes at most this many names at once
# The statuses a contact may end an import with, in the order the figures list them.
OUTCOMES = (
    Status(statuses.SUBSCRIBED),
    Status(statuses.PENDING),
    Status(NEVER),
    *(Status(LEFT, reason) for reason in sorted(REASON_WEIGHT, key=REASON_WEIGHT.get)),
)


def name_after(current: str, given: str) -> str:
    return given or current


def fields_after(current: dict, given: dict) -> dict:
    return {**current, **given}


class Tally:
    """How many contacts an import creates and updates, per status they end with, and how many of the
    existing ones change status; with `samples`, the first few rows of each (for the check step)."""

    def __init__(self, samples: int = 0):
        self.created, self.updated, self.changed = Counter(), Counter(), Counter()
        self.samples, self.examples = samples, {}

    def count(self, after: Status, *, before: Status | None, row: ContactRow | None = None) -> None:
        """One contact: new (`before` is None), or existing with its status before."""
        created = before is None
        self.add(
            after,
            created=int(created),
            updated=int(not created),
            changed=int(not created and after != before),
        )
        if row is not None and len(examples := self.examples.setdefault(after, [])) < self.samples:
            examples.append(row)

    def add(self, after: Status, *, created: int, updated: int, changed: int) -> None:
        self.created[after] += created
        self.updated[after] += updated
        self.changed[after] += changed

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_updated(self) -> int:
        return sum(self.updated.values())

    def figures(self) -> list[dict]:
        """One entry per status (Import.outcome, the API's `outcome`)."""
        return [
            {
                "status": status.status,
                "reason": status.reason,
                "label": statuses.label(*status),
                "created": self.created[status],
                "updated": self.updated[status],
                "status_changed": self.changed[status],
            }
            for status in OUTCOMES
        ]


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
    none), the status asked for and its evidence, then one column per custom field, empty when the row
    leaves it alone. (JSON would be simpler, and would cost more than reading the row.)"""
    fields, consent = row.fields, row.consent
    spool.write(
        (
            row.row,
            row.email,
            row.name,
            ",".join(row.tags),
            consent.status,
            consent.reason or "",
            row.stated_at.isoformat() if row.stated_at else "",
            row.ip or "",
            row.note,
            *(fields.get(key, "") for key in field_keys),
        )
    )


def spool_error(spool: Spool, error: RowError) -> None:
    spool.write((error.row, error.column[:200], error.message[:300]))


def merge(site: Site, *, imp: Import, rows: Spool, errors: Spool, tag_names: set[str]) -> Tally:
    """Writes the rows and the row errors; returns what became of the contacts. Call it inside a
    transaction: if anything fails, nothing of the import is written."""
    tags = {}
    names = sorted({*tag_names, *imp.tags}, key=str.lower)
    for start in range(0, len(names), TAGS_PER_CALL):
        tags.update((tag.name.lower(), tag) for tag in tags_named(site, names[start : start + TAGS_PER_CALL]))
    merge_rows = merge_with_copy if connection.vendor == "postgresql" else merge_in_batches
    return merge_rows(site, imp=imp, rows=rows, errors=errors, tags=tags, now=timezone.now())


def changes_status(imp: Import) -> bool:
    """Whether the import may change anyone's status: "Subscribe" is ticked, or the file says something
    of the people's consent."""
    return imp.subscribe or bool(imp.everyone) or reads_consent(imp.mapping)


# -- PostgreSQL: COPY, then one merge ------------------------------------------------------------------

STAGING = """
CREATE TEMP TABLE import_rows (row_no integer, email text, name text, tags text, status text, reason text,
    stated_at timestamptz, ip inet, note text{fields})
"""
# The contacts whose status a row may change, locked, with their status before (`status_after` in SQL:
# a row asking for unsubscribed may lower anyone; one asking for pending or subscribed, those below).
BEFORE = """
CREATE TEMP TABLE import_before AS
SELECT c.id, c.subscription_status, c.unsubscribe_reason
FROM contacts_contact c JOIN import_rows r ON lower(c.email) = lower(r.email)
WHERE c.site_id = %(site)s AND (
    r.status = %(left)s
    OR array_position(%(ladder)s::text[], r.status)
        > array_position(%(ladder)s::text[], c.subscription_status)
)
ORDER BY c.id  -- two imports lock in the same order
FOR UPDATE OF c
"""
MERGE = """
INSERT INTO contacts_contact AS c (site_id, email, name, fields, subscription_status, unsubscribe_reason,
    status_changed_at, is_customer, origin, created_at, updated_at, member_password)
SELECT %(site)s, r.email, r.name, {fields}, r.status, r.reason, %(now)s, false, %(origin)s, %(now)s,
    %(now)s, ''
FROM import_rows r ORDER BY lower(r.email)  -- the unique index's order: a tenth faster at a million rows
ON CONFLICT (site_id, lower(email)) DO UPDATE SET
    name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
    fields = c.fields || EXCLUDED.fields,
    subscription_status = {status},
    unsubscribe_reason = {reason},
    status_changed_at = {status_changed_at},
    updated_at = %(now)s
RETURNING c.id, lower(c.email) AS email_key, c.xmax = 0 AS created, c.subscription_status AS status,
    c.unsubscribe_reason AS reason
"""
# `statuses.status_after`, with EXCLUDED (the row's new-contact values) as what the row asks for, for the
# contacts locked in `import_before` (one created meanwhile, by a form, keeps its status: it would have
# no consent event).
STATUS_AFTER = """CASE
    WHEN c.id NOT IN (SELECT id FROM import_before) THEN c.subscription_status
    WHEN EXCLUDED.subscription_status = %(left)s THEN EXCLUDED.subscription_status
    WHEN array_position(%(ladder)s::text[], EXCLUDED.subscription_status)
        > array_position(%(ladder)s::text[], c.subscription_status) THEN EXCLUDED.subscription_status
    ELSE c.subscription_status END"""
REASON_AFTER = """CASE
    WHEN c.id NOT IN (SELECT id FROM import_before) THEN c.unsubscribe_reason
    WHEN EXCLUDED.subscription_status <> %(left)s THEN c.unsubscribe_reason
    WHEN c.subscription_status = %(left)s AND array_position(%(weights)s::text[], c.unsubscribe_reason)
        >= array_position(%(weights)s::text[], EXCLUDED.unsubscribe_reason) THEN c.unsubscribe_reason
    ELSE EXCLUDED.unsubscribe_reason END"""
CHANGED = f"({STATUS_AFTER}, {REASON_AFTER}) IS DISTINCT FROM (c.subscription_status, c.unsubscribe_reason)"
# An existing contact whose status changed; with a new contact that is not "never subscribed", a
# consent event.
STATUS_CHANGED = """b.id IS NOT NULL
    AND (b.subscription_status, b.unsubscribe_reason) IS DISTINCT FROM (m.status, m.reason)"""
NEW_STATUS = f"(m.created AND m.status <> %(never)s) OR ({STATUS_CHANGED})"
CONSENT_EVENTS = """
INSERT INTO contacts_consentevent (site_id, contact_id, occurred_at, original_at, from_status, from_reason,
    to_status, to_reason, source, note, actor_user_id, actor_api_key_id, form_id, ip, user_agent)
SELECT %(site)s, m.id, %(now)s, r.stated_at, COALESCE(b.subscription_status, %(never)s),
    b.unsubscribe_reason, m.status, m.reason, %(source)s, COALESCE(NULLIF(r.note, ''), %(note)s),
    %(user)s, %(api_key)s, NULL, r.ip, ''
FROM import_merged m JOIN import_rows r ON lower(r.email) = m.email_key
LEFT JOIN import_before b ON b.id = m.id
WHERE {changed}
"""
OUTCOME = """
SELECT m.status, m.reason, count(*) FILTER (WHERE m.created), count(*) FILTER (WHERE NOT m.created),
    count(*) FILTER (WHERE {changed})
FROM {merged} m {before}
GROUP BY m.status, m.reason
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


def merge_sql(*, consents: bool, keep: bool, fields: int) -> str:
    """The merge, with the status rule when the import may change statuses (`consents`); its rows kept
    in `import_merged` (`keep`), or only counted. A row's custom fields are the staging columns f0… that
    it fills."""
    status, reason, status_changed_at = "c.subscription_status", "c.unsubscribe_reason", "c.status_changed_at"
    if consents:
        status, reason = STATUS_AFTER, REASON_AFTER
        status_changed_at = f"CASE WHEN {CHANGED} THEN %(now)s ELSE c.status_changed_at END"
    given = ", ".join(f"r.f{n}" for n in range(fields))
    fields_sql = (
        f"jsonb_strip_nulls(jsonb_object(%(field_keys)s::text[], ARRAY[{given}]))" if fields else "'{}'"
    )
    merge = MERGE.format(status=status, reason=reason, status_changed_at=status_changed_at, fields=fields_sql)
    then = (
        "INSERT INTO import_merged SELECT * FROM merged"
        if keep
        else OUTCOME.format(changed="false", merged="merged", before="")
    )
    return f"WITH merged AS ({merge}) {then}"


def merge_with_copy(site, *, imp, rows, errors, tags, now) -> Tally:
    params = {
        "site": site.pk,
        "now": now,
        "origin": ContactOrigin.IMPORT,
        "left": LEFT,
        "never": NEVER,
        "ladder": list(LADDER),
        "weights": sorted(REASON_WEIGHT, key=REASON_WEIGHT.get),
        "source": ConsentSource.IMPORT,
        "note": imp.consent,
        "user": imp.created_by_id,
        "api_key": imp.created_by_api_key_id,
        "import_tags": [tags[name.lower()].name for name in imp.tags],
        "field_keys": field_keys(imp.mapping),
        "import": imp.pk,
    }
    consents = changes_status(imp)
    keep = bool(consents or tags)  # the merged ids, for consent events and tags
    temporary = ["import_rows"]
    tally = Tally()
    with connection.cursor() as cursor:
        cursor.execute(
            STAGING.format(fields="".join(f", f{n} text" for n in range(len(params["field_keys"]))))
        )
        copy_spool(cursor, "COPY import_rows FROM STDIN (FORMAT csv, FORCE_NOT_NULL (name))", rows)
        if consents:
            cursor.execute(BEFORE, params)
            temporary.append("import_before")
        if keep:
            cursor.execute(
                "CREATE TEMP TABLE import_merged (id bigint, email_key text, created boolean, status text,"
                " reason text)"
            )
            temporary.append("import_merged")
        cursor.execute(merge_sql(consents=consents, keep=keep, fields=len(params["field_keys"])), params)
        if consents:
            cursor.execute(CONSENT_EVENTS.format(changed=NEW_STATUS), params)
        if tags:
            cursor.execute(CONTACT_TAGS, params)
        if keep:
            before = "LEFT JOIN import_before b ON b.id = m.id" if consents else ""
            changed = STATUS_CHANGED if consents else "false"
            cursor.execute(OUTCOME.format(changed=changed, merged="import_merged", before=before), params)
        for status, reason, created, updated, changed in cursor.fetchall():
            tally.add(Status(status, reason), created=created, updated=updated, changed=changed)
        if errors.count:  # through a temporary table: row-level security refuses COPY into its tables
            cursor.execute("CREATE TEMP TABLE import_errors (row_no integer, column_name text, message text)")
            temporary.append("import_errors")
            copy_spool(
                cursor, "COPY import_errors FROM STDIN (FORMAT csv, FORCE_NOT_NULL (column_name))", errors
            )
            cursor.execute(ROW_ERRORS, params)
        cursor.execute(f"DROP TABLE {', '.join(temporary)}")  # the caller's transaction may go on
    return tally


def copy_spool(cursor, sql: str, spool: Spool) -> None:
    with cursor.copy(sql) as copy:
        for chunk in spool.chunks():
            copy.write(chunk)


# -- Elsewhere: the ORM, in batches ---------------------------------------------------------------------


def spooled_rows(rows: Spool, keys: list[str]) -> Iterator[ContactRow]:
    """The rows as `spool_row` wrote them."""
    for number, email, name, row_tags, status, reason, stated_at, ip, note, *values in rows.lines():
        yield ContactRow(
            int(number),
            email,
            name,
            {key: value for key, value in zip(keys, values, strict=True) if value},
            row_tags.split(",") if row_tags else [],
            Status(status, reason or None),
            datetime.fromisoformat(stated_at) if stated_at else None,
            ip or None,
            note,
        )


def merge_in_batches(site, *, imp, rows, errors, tags, now) -> Tally:
    import_tags = [tags[name.lower()] for name in imp.tags]
    tally = Tally()
    batch = []
    for row in spooled_rows(rows, field_keys(imp.mapping)):
        batch.append(row)
        if len(batch) == BATCH:
            _merge_batch(site, imp, batch, tags, import_tags, now, tally)
            batch = []
    if batch:
        _merge_batch(site, imp, batch, tags, import_tags, now, tally)
    ImportRowError.objects.bulk_create(
        (
            ImportRowError(site=site, contact_import=imp, row=int(row), column=column, message=message)
            for row, column, message in errors.lines()
        ),
        batch_size=BATCH,
    )
    return tally


def _merge_batch(site, imp, batch, tags, import_tags, now, tally: Tally) -> None:
    found = {
        contact.email.lower(): contact
        for contact in Contact.objects.select_for_update().filter(
            email__lower__in=[r.email.lower() for r in batch]
        )
    }
    new, existing, events, pairs = [], [], [], []
    for row in batch:
        contact = found.get(row.email.lower())
        if contact is None:
            contact = Contact(
                site=site,
                email=row.email,
                name=row.name,
                fields=row.fields,
                subscription_status=row.consent.status,
                unsubscribe_reason=row.consent.reason,
                status_changed_at=now,
                origin=ContactOrigin.IMPORT,
                created_at=now,
            )
            new.append(contact)
            before = None
        else:
            before = Status(contact.subscription_status, contact.unsubscribe_reason)
            after = statuses.status_after(before, row.consent)
            contact.name = name_after(contact.name, row.name)
            contact.fields = fields_after(contact.fields, row.fields)
            contact.subscription_status, contact.unsubscribe_reason = after
            if after != before:
                contact.status_changed_at = now
            contact.updated_at = now
            existing.append(contact)
        after = Status(contact.subscription_status, contact.unsubscribe_reason)
        if after != (before or Status(NEVER)):
            events.append((contact, before or Status(NEVER), row))
        tally.count(after, before=before)
        pairs.append((row, contact))
    Contact.objects.bulk_create(new)
    Contact.objects.bulk_update(
        existing,
        ["name", "fields", "subscription_status", "unsubscribe_reason", "status_changed_at", "updated_at"],
    )
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            site=site,
            contact=contact,
            occurred_at=now,
            original_at=row.stated_at,
            from_status=before.status,
            from_reason=before.reason,
            to_status=contact.subscription_status,
            to_reason=contact.unsubscribe_reason,
            source=ConsentSource.IMPORT,
            note=row.note or imp.consent,
            actor_user_id=imp.created_by_id,
            actor_api_key_id=imp.created_by_api_key_id,
            ip=row.ip,
        )
        for contact, before, row in events
    )
    ContactTag.objects.bulk_create(
        (
            ContactTag(site=site, contact=contact, tag=tag, created_at=now)
            for row, contact in pairs
            for tag in {*(tags[name.lower()] for name in row.tags), *import_tags}
        ),
        ignore_conflicts=True,
    )
