"""Helpers of the import tests: run an import of some CSV text through the services, as the job does."""

from pathlib import Path

from django_scopes import scope

from contacts.imports.services import SYSTEM, run_import, start_import, upload_import
from contacts.models import Contact

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def run_text(
    site,
    text,
    *,
    subscribe=False,
    consent="",
    tags=(),
    mapping=None,
    by=SYSTEM,
    filename="contacts.csv",
    everyone="",
):
    """Uploads `text` (str, or bytes for an encoding test) as a file, starts and runs the import."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = text.encode() if isinstance(text, str) else text
    with scope(site=site):
        imp = upload_import(
            site,
            file=SimpleUploadedFile(filename, data, content_type="text/csv"),
            subscribe=subscribe,
            consent=consent,
            everyone=everyone,
            tags=tags,
            mapping_given=mapping,
            by=by,
        )
        start_import(site, contact_import=imp, queue=False)
        return run_import(site, contact_import=imp)


def run_export_file(site, name, **options):
    """Imports one of the platforms' export files of fixtures/exports/ under its own name."""
    return run_text(site, (EXPORTS / name).read_bytes(), filename=name, **options)


def contact(site, email):
    with scope(site=site):
        return Contact.objects.prefetch_related("tags").get(email__lower=email.lower())


def errors_of(imp):
    with scope(site=imp.site):
        return list(imp.row_errors.values_list("row", "column", "message"))
