"""The use cases of a contact import: upload a file or pasted text (a draft, its columns recognised),
start it (with the mapping checked, a Celery job runs it after commit), run it, or discard a draft."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

from contacts.counts import contacts_changed
from contacts.errors import ContactError
from contacts.imports import mapping, merge, reading
from contacts.imports.errors import ContactImportError
from contacts.imports.rows import RowReader, is_email
from contacts.imports.selectors import read_rows, row_reader
from contacts.models import EveryoneInFile, Import, ImportStatus
from contacts.services import clean_tag_names
from creatorhub import audit
from creatorhub.models import ApiKey, AuditAction, Site, User
from creatorhub.tasks import NOT_STARTED, start_after_commit
from creatorhub.tenancy import ensure_same_site, site_scope

PASTED = "Pasted text"
PROGRESS_EVERY = 10_000  # rows


@dataclass(frozen=True)
class Importer:
    """Who starts an import: a team member, or an API key."""

    user: User | None = None
    api_key: ApiKey | None = None


SYSTEM = Importer()  # the demo, tests


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f}".removesuffix(".0") + " MB"


@transaction.atomic
def upload_import(
    site: Site,
    *,
    file: File | None = None,
    text: str = "",
    subscribe: bool = False,
    consent: str = "",
    everyone: str = "",
    tags=(),
    mapping_given: dict | list | None = None,
    by: Importer = SYSTEM,
) -> Import:
    """Keeps the file and reads what it needs to be checked: its encoding, delimiter, header and the
    mapping its headers suggest (or `mapping_given`, checked now). The import is a draft until started.

    "Subscribe to marketing emails" needs a statement of how the people in the file agreed (`consent`).
    `everyone` is what the file says of everyone in it (EveryoneInFile); where the kind of file tells
    (Mailchimp's unsubscribed, cleaned and nonsubscribed exports), it is read from the file."""
    if (file is None) == (not text):
        raise ContactImportError("Upload a CSV file, or paste its text.", field="file")
    if file is None:
        file = ContentFile(text.encode(), name=PASTED)
    if file.size > settings.IMPORT_MAX_BYTES:
        raise ContactImportError(
            f"The file has {megabytes(file.size)}; an import takes up to "
            f"{megabytes(settings.IMPORT_MAX_BYTES)}. Split it into smaller files.",
            field="file",
        )
    everyone = clean_everyone(everyone)
    consent = consent.strip()
    if subscribe and not consent:
        raise ContactImportError(
            "Say how the people in this file agreed to receive marketing emails.", field="consent"
        )
    try:
        tags = clean_tag_names(tags)
    except ContactError as error:
        raise ContactImportError(error.message, field="tags") from None
    layout = reading.sniff(file)
    has_header = not any(is_email(cell.strip()) for cell in layout.first_row)
    headers = mapping.headers_for(layout.first_row, has_header=has_header)
    sample = _sample(file, layout, has_header=has_header)
    if has_header:
        exporter, targets = mapping.recognise(headers, sample, is_email)
    else:
        exporter, targets = "", mapping.recognise_values(len(headers), sample, is_email)
    if mapping_given is not None:
        if isinstance(mapping_given, dict):
            mapping_given = mapping.from_columns(headers, mapping_given, defaults=targets)
        targets = mapping.clean(headers, mapping_given)
    filename = (getattr(file, "name", "") or PASTED)[:255]
    file.seek(0)
    return Import.objects.create(
        site=site,
        file=File(file, name=f"{uuid.uuid4().hex}.csv"),
        filename=filename,
        size=file.size,
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        has_header=has_header,
        headers=headers,
        mapping=targets,
        exporter=exporter,
        subscribe=subscribe,
        consent=consent if subscribe else "",
        everyone=everyone or mapping.everyone_in(exporter, headers, filename),
        tags=tags,
        created_by=by.user,
        created_by_api_key=by.api_key,
    )


def clean_everyone(everyone: str) -> str:
    if everyone not in EveryoneInFile.values:
        raise ContactImportError(
            "What the file says of everyone in it is one of "
            f"{', '.join(filter(None, EveryoneInFile.values))}, or nothing.",
            field="everyone",
        )
    return everyone


def _sample(file, layout, *, has_header: bool) -> list[list[str]]:
    """The first rows after the header, to recognise columns by their values."""
    sample = []
    records = reading.records(file, encoding=layout.encoding, delimiter=layout.delimiter)
    if has_header:
        next(records, None)
    for record in records:
        if record.cells:
            sample.append(record.cells)
        if len(sample) == mapping.SAMPLE_ROWS:
            break
    return sample


@transaction.atomic
def start_import(
    site: Site,
    *,
    contact_import: Import,
    mapping_given: list | None = None,
    everyone: str | None = None,
    queue=True,
) -> Import:
    """Checks the mapping (and what the file says of everyone in it, when given) and queues the job
    (after commit); with `queue=False` the caller runs it."""
    from contacts.tasks import run_import_task  # the task module imports this one

    ensure_same_site(site, contact_import, error=ContactImportError)
    imp = Import.objects.select_for_update().get(pk=contact_import.pk)
    if imp.status != ImportStatus.DRAFT:
        raise ContactImportError("This import has started already.")
    if mapping_given is not None:
        imp.mapping = mapping.clean(imp.headers, mapping_given)
    else:
        mapping.clean(imp.headers, imp.mapping)
    if everyone is not None:
        imp.everyone = clean_everyone(everyone)
    imp.status = ImportStatus.QUEUED
    imp.save(update_fields=["mapping", "everyone", "status"])
    audit.record(
        site,
        AuditAction.IMPORT_STARTED,
        target=imp,
        target_label=f"Import of {imp.filename}",
        changes={
            "file": imp.filename,
            "size": imp.size,
            "subscribe": imp.subscribe,
            "everyone": imp.everyone,
            "tags": imp.tags,
        },
    )
    if queue:
        start_after_commit(
            site,
            run_import_task,
            imp,
            if_not_started={
                "status": ImportStatus.FAILED,
                "failure": NOT_STARTED,
                "finished_at": timezone.now(),
            },
        )
    return imp


def run_import(site: Site, *, contact_import: Import) -> Import:
    """The job: reads every row (progress shows as it goes), then writes the contacts and the row errors
    in one transaction, so a failure leaves nothing half-imported. Run again after a crash, it starts
    over; once done or failed, it does nothing."""
    ensure_same_site(site, contact_import, error=ContactImportError)
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=contact_import.pk)
        if imp.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return imp
        imp.status, imp.started_at, imp.progress, imp.total = ImportStatus.RUNNING, timezone.now(), 0, 0
        imp.save(update_fields=["status", "started_at", "progress", "total"])
    try:
        with merge.Spool() as rows, merge.Spool() as errors:
            reader = _read(imp, rows, errors)
            with transaction.atomic():
                tally = merge.merge(
                    site, imp=imp, rows=rows, errors=errors, tag_names=set(reader.tag_names.values())
                )
                imp.status, imp.progress, imp.finished_at = ImportStatus.DONE, 100, timezone.now()
                imp.created_count, imp.updated_count = tally.total_created, tally.total_updated
                imp.outcome = tally.figures()
                imp.save()
                contacts_changed(site, at_once=True)
    except Exception as error:
        # A failure no row explains (the database went away…): the import says so rather than spin.
        imp.status, imp.finished_at = ImportStatus.FAILED, timezone.now()
        imp.failure = f"The import stopped: {error.__class__.__name__}: {error}"
        imp.save(update_fields=["status", "finished_at", "failure"])
        transaction.on_commit(lambda: _forget_file(imp))
        raise
    transaction.on_commit(lambda: _forget_file(imp))
    return imp


def _read(imp: Import, rows: merge.Spool, errors: merge.Spool) -> RowReader:
    """Reads the file into the spools, counting rows and skips; the progress is the share of the file
    read, saved every PROGRESS_EVERY rows."""
    reader = row_reader(imp, imp.mapping)
    keys = mapping.field_keys(imp.mapping)
    imp.total = imp.skipped_count = 0
    with imp.file.open("rb") as file:
        for _, read in read_rows(imp, file, reader):
            imp.total += 1
            if isinstance(read, list):
                imp.skipped_count += 1
                for error in read:
                    merge.spool_error(errors, error)
            else:
                merge.spool_row(rows, read, keys)
            if imp.total % PROGRESS_EVERY == 0:
                imp.progress = min(99, file.tell() * 100 // max(imp.size, 1))
                Import.objects.filter(pk=imp.pk).update(progress=imp.progress, total=imp.total)
    return reader


def _forget_file(imp: Import) -> None:
    """Contacts' data should not linger on disk once the import is over. (Runs after commit, which may
    come after the caller's scope has closed.)"""
    if imp.file:
        imp.file.delete(save=False)
        with site_scope(imp.site):
            Import.objects.filter(pk=imp.pk).update(file="")


@transaction.atomic
def discard_import(site: Site, *, contact_import: Import) -> None:
    """Deletes a draft and its file; an import that started stays, with its result."""
    ensure_same_site(site, contact_import, error=ContactImportError)
    if contact_import.status != ImportStatus.DRAFT:
        raise ContactImportError("Only an import that has not started can be discarded.")
    transaction.on_commit(lambda: contact_import.file.delete(save=False))
    contact_import.delete()
