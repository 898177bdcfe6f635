"""Reads of contact imports: the preview of a draft's first rows, the forecast of what it will do, and
the error report."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

from contacts.export_files import spreadsheet_safe
from contacts.imports import reading
from contacts.imports.merge import Tally
from contacts.imports.rows import ContactRow, RowError, RowReader
from contacts.imports.statuses import Status, label, status_after
from contacts.models import Contact, Import
from creatorhub.tenancy import site_scope

PREVIEW_ROWS = 10
SAMPLES = 5  # rows shown of each status in the forecast
LOOKUP_BATCH = 5000  # emails looked up at once


def row_reader(contact_import: Import, targets: list[str]) -> RowReader:
    """The reader of an import's rows with a mapping (its own, or one being checked)."""
    return RowReader(
        contact_import.headers,
        targets,
        encoding_label=reading.ENCODINGS[contact_import.encoding],
        subscribe=contact_import.subscribe,
        everyone=contact_import.everyone,
        origin=contact_import.exporter or f"The file “{contact_import.filename}”",
    )


def read_rows(
    contact_import: Import, file, reader: RowReader
) -> Iterator[tuple[int, ContactRow | list[RowError]]]:
    """Each row of the file after its header, blank ones aside: its number, and the contact it gives or
    its problems (RowError)."""
    records = reading.records(file, encoding=contact_import.encoding, delimiter=contact_import.delimiter)
    if contact_import.has_header:
        next(records, None)
    for record in records:
        read = reader.read(record)
        if read is not None:
            yield record.row, read


@dataclass(frozen=True)
class PreviewRow:
    row: int
    contact: ContactRow | None
    problems: list[RowError]

    @property
    def consent_label(self) -> str:
        """The status a new contact made from the row gets."""
        return label(*self.contact.consent) if self.contact else ""


def preview(contact_import: Import, *, targets: list[str], size: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """The first rows of the file read with `targets` (a mapping already checked), each with the contact
    it gives or its problems, as the import will see them."""
    reader = row_reader(contact_import, targets)
    shown = []
    with contact_import.file.open("rb") as file:
        for row, read in read_rows(contact_import, file, reader):
            shown.append(PreviewRow(row, None, read) if isinstance(read, list) else PreviewRow(row, read, []))
            if len(shown) == size:
                break
    return shown


@dataclass
class Forecast:
    """What an import will do: per status, the contacts it creates and updates (with the first rows of
    each), and the rows it skips (with the first of them)."""

    tally: Tally = field(default_factory=lambda: Tally(samples=SAMPLES))
    total: int = 0
    skipped: int = 0
    skipped_rows: list[PreviewRow] = field(default_factory=list)

    def lines(self) -> list[dict]:
        """The statuses that some row ends with, with their figures and sample rows, for the page."""
        return [
            {**figures, "examples": self.tally.examples.get(Status(figures["status"], figures["reason"]), [])}
            for figures in self.tally.figures()
            if figures["created"] or figures["updated"]
        ]


def forecast(contact_import: Import, *, targets: list[str]) -> Forecast:
    """What importing the file with `targets` (a mapping already checked) would do, before anything is
    written: the file read as the import reads it, and the same rule applied to the site's contacts as
    they are now (a contact changed meanwhile may come out otherwise)."""
    reader, outlook, batch = row_reader(contact_import, targets), Forecast(), []
    with contact_import.file.open("rb") as file:
        for row, read in read_rows(contact_import, file, reader):
            outlook.total += 1
            if isinstance(read, list):
                outlook.skipped += 1
                if len(outlook.skipped_rows) < SAMPLES:
                    outlook.skipped_rows.append(PreviewRow(row, None, read))
                continue
            batch.append(read)
            if len(batch) == LOOKUP_BATCH:
                _foresee(batch, outlook.tally)
                batch = []
    if batch:
        _foresee(batch, outlook.tally)
    return outlook


def _foresee(batch: list[ContactRow], tally: Tally) -> None:
    found = {
        email.lower(): Status(status, reason)
        for email, status, reason in Contact.objects.filter(
            email__lower__in=[row.email.lower() for row in batch]
        ).values_list("email", "subscription_status", "unsubscribe_reason")
    }
    for row in batch:
        before = found.get(row.email.lower())
        after = row.consent if before is None else status_after(before, row.consent)
        tally.count(after, before=before, row=row)


class _Echo:
    def write(self, value):
        return value


def error_report(contact_import: Import) -> Iterator[str]:
    """The rows not imported, as CSV lines: row, column, message (the first row of the file is row 1).
    Column names and messages quote the file: no cell of them runs as a formula."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["row", "column", "message"])
    with site_scope(contact_import.site):  # a streamed response is read after its view has returned
        errors = contact_import.row_errors.order_by("row", "id").values_list("row", "column", "message")
        for error in errors.iterator(chunk_size=2000):
            yield writer.writerow([spreadsheet_safe(cell) for cell in error])
