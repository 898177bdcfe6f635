"""An export's file, from download to deletion. The file is personal data at rest, outside the database:
it is served only to the site's team, deleted when it expires (EXPORT_FILES_KEPT_DAYS) and deleted with
any contact it may hold.

A file is first marked deleted, in the transaction that decides it, and removed from storage after that
commit (storage is not transactional); the hourly sweep removes any file whose removal failed.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import content_disposition_header

from contacts.errors import ContactError
from contacts.models import Contact, Export, ExportFileDeleted, JobStatus
from creatorhub.models import Site
from creatorhub.tenancy import ensure_same_site, platform_wide, site_scope

logger = logging.getLogger(__name__)

CSV = "text/csv; charset=utf-8"


def expiry_of(finished_at: datetime) -> datetime:
    return finished_at + timedelta(days=settings.EXPORT_FILES_KEPT_DAYS)


def download_response(export: Export) -> HttpResponse:
    """The export's CSV as an attachment, a 404 until it is written or once it is deleted. Object storage
    answers with a redirect to a link signed for a few minutes, so the file never passes through web and
    is never public; a directory's file is streamed."""
    if export.status != JobStatus.DONE or not export.file or export.file_deleted_at:
        raise Http404("This export has no file.")
    filename = export.file.name.rsplit("/", 1)[-1]
    storage = export.file.storage
    if getattr(storage, "querystring_auth", False):
        url = storage.url(
            export.file.name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(True, filename),
                "ResponseContentType": CSV,
            },
            expire=settings.DOWNLOAD_LINK_SECONDS,
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"  # the link is a short-lived secret
        return response
    try:
        opened = export.file.open("rb")
    except FileNotFoundError:  # lost from storage outside the product (a disk replaced, a hand's `rm`)
        logger.error("Export %s: its file %s is missing from storage.", export.pk, export.file.name)
        raise Http404("This export's file is missing: export the contacts again.") from None
    return FileResponse(opened, as_attachment=True, filename=filename, content_type=CSV)


def delete_files_holding(site: Site, *, contact: Contact) -> int:
    """Marks deleted every file of the site written since the contact was added (it may hold them); the
    files go once the caller's transaction commits. Joins that transaction (the contact's deletion)."""
    ensure_same_site(site, contact, error=ContactError)
    marked = (
        Export.objects.filter(file_deleted_at=None, finished_at__gte=contact.created_at)
        .exclude(file="")
        .update(file_deleted_at=timezone.now(), file_deleted_because=ExportFileDeleted.CONTACT_DELETED)
    )
    if marked:
        transaction.on_commit(partial(_remove_files_of, site), robust=True)
    return marked


def delete_expired_files(*, now: datetime | None = None) -> int:
    """The hourly sweep over every site: marks expired files deleted, then removes from storage every
    file marked deleted (this sweep's and any whose removal failed before). Returns the files expired."""
    with platform_wide("exports: expired files of every site"):
        expired = (
            Export.objects.filter(file_deleted_at=None, expires_at__lte=now or timezone.now())
            .exclude(file="")
            .update(file_deleted_at=timezone.now(), file_deleted_because=ExportFileDeleted.EXPIRED)
        )
        _remove_marked_files()
    return expired


def _remove_files_of(site: Site) -> None:
    with site_scope(site):
        _remove_marked_files()


def _remove_marked_files() -> None:
    """Removes the stored files of the exports marked deleted that the current scope sees."""
    for export in Export.objects.filter(file_deleted_at__isnull=False).exclude(file="").only("file"):
        try:
            export.file.storage.delete(export.file.name)
        except Exception:
            # The sweep tries again within the hour; the file is already refused to everyone.
            logger.exception("Export %s: its file %s could not be deleted", export.pk, export.file.name)
            continue
        Export.objects.filter(pk=export.pk).update(file="")


# Cells that start so are formulas to a spreadsheet: written with a leading quote, they stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A cell that a spreadsheet opens as text, never runs as a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value
