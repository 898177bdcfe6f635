"""Exports: the contacts of a segment (or of the Contacts tab's filters and search) as a CSV file,
written by a Celery job row by row, so memory does not grow with the number of contacts, and
downloaded through the site's scoped pages and API (the file is never public)."""

import csv
import io
import tempfile

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from audience.services import bulk_actions
from contacts import export_files
from contacts.errors import BulkActionError, ExportError
from contacts.export_files import spreadsheet_safe
from contacts.models import Export, JobStatus
from creatorhub import audit
from creatorhub.models import AuditAction, Site, User
from creatorhub.tasks import NOT_STARTED, start_after_commit

CHUNK = 2_000
COLUMNS = [
    "email",
    "name",
    "subscription_status",
    "unsubscribe_reason",
    "is_customer",
    "tags",
    "created_at",
    "last_activity_at",
]


@transaction.atomic
def start_export(site: Site, *, selection: dict, acting_user: User | None = None) -> Export:
    """Records the export of a selection (see bulk_actions.clean_selection; chosen contacts included)
    and queues its job after commit."""
    from audience.tasks import run_export_task  # the task module imports this one

    try:
        selection, words = bulk_actions.clean_selection(site, selection)
    except BulkActionError as error:
        raise ExportError(error.message, field=error.field) from None
    export = Export.objects.create(
        site=site,
        segment_name=words,
        filters=selection,
        search=selection.get("search", ""),
        created_by=acting_user,
    )
    audit.record(
        site,
        AuditAction.EXPORT_STARTED,
        target=export,
        target_label="Export of contacts",
        changes={"selection": audit.without_search(words, selection)},
        user=acting_user,
    )
    start_after_commit(
        site,
        run_export_task,
        export,
        if_not_started={"status": JobStatus.FAILED, "error": NOT_STARTED, "finished_at": timezone.now()},
    )
    return export


def run_export(site: Site, *, export: Export) -> Export:
    """Writes the file; safe to run again (a finished export is left as it is, a broken one redone)."""
    with transaction.atomic():
        export = Export.objects.select_for_update().get(pk=export.pk)
        if export.status in (JobStatus.DONE, JobStatus.FAILED):
            return export
        export.status, export.written = JobStatus.RUNNING, 0
        contacts = bulk_actions.selected(site, export.filters)
        export.total = contacts.count()
        export.save(update_fields=["status", "written", "total"])
    try:
        # Written as text, stored as bytes (object storage uploads bytes). UTF-8 with a BOM, so that
        # spreadsheet programs read the names right.
        with tempfile.TemporaryFile() as out:
            text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
            _write(export, contacts, text)
            text.detach()  # flushes, and leaves `out` open
            name = f"{site.slug}-contacts-{timezone.now():%Y%m%d-%H%M%S}-{export.pk}.csv"
            export.file.save(name, File(out), save=False)
    except Exception as error:
        export.status, export.finished_at = JobStatus.FAILED, timezone.now()
        export.error = f"The export stopped: {error.__class__.__name__}: {error}"
        export.save()
        raise
    export.status, export.finished_at = JobStatus.DONE, timezone.now()
    export.expires_at = export_files.expiry_of(export.finished_at)
    export.save()
    return export


def _write(export: Export, contacts, out) -> None:
    field_names = _custom_field_names(contacts)
    writer = csv.writer(out)
    writer.writerow(COLUMNS + [f"field:{name}" for name in field_names])
    for contact in contacts.order_by("pk").prefetch_related("tags").iterator(chunk_size=CHUNK):
        row = [
            contact.email,
            contact.name,
            contact.subscription_status,
            contact.unsubscribe_reason or "",
            "yes" if contact.is_customer else "no",
            ", ".join(sorted(tag.name for tag in contact.tags.all())),
            contact.created_at.isoformat(),
            contact.last_activity_at.isoformat() if contact.last_activity_at else "",
            *(contact.fields.get(name, "") for name in field_names),
        ]
        writer.writerow([spreadsheet_safe(value) for value in row])
        export.written += 1
        if export.written % (CHUNK * 10) == 0:
            Export.objects.filter(pk=export.pk).update(written=export.written)


def _custom_field_names(contacts) -> list[str]:
    """Every custom field name the selected contacts use, in order of first appearance."""
    names: dict[str, None] = {}
    for fields in contacts.exclude(fields={}).values_list("fields", flat=True).iterator(chunk_size=CHUNK):
        names.update(dict.fromkeys(fields))
    return list(names)
