"""Reads of contact imports: the preview of a draft's first rows, and the error report."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from contacts.imports import reading
from contacts.imports.rows import ContactRow, RowError, RowReader
from contacts.models import Import
from creatorhub.tenancy import site_scope

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class PreviewRow:
    row: int
    contact: ContactRow | None
    problems: list[RowError]


def preview(contact_import: Import, *, targets: list[str], size: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """The first rows of the file read with `targets` (a mapping already checked), each with the contact
    it gives or its problems, as the import will see them."""
    reader = RowReader(
        contact_import.headers, targets, encoding_label=reading.ENCODINGS[contact_import.encoding]
    )
    shown = []
    with contact_import.file.open("rb") as file:
        records = reading.records(file, encoding=contact_import.encoding, delimiter=contact_import.delimiter)
        if contact_import.has_header:
            next(records, None)
        for record in records:
            read = reader.read(record)
            if read is None:
                continue
            if isinstance(read, list):
                shown.append(PreviewRow(record.row, None, read))
            else:
                shown.append(PreviewRow(record.row, read, []))
            if len(shown) == size:
                break
    return shown


class _Echo:
    def write(self, value):
        return value


def error_report(contact_import: Import) -> Iterator[str]:
    """The rows not imported, as CSV lines: row, column, message (the first row of the file is row 1)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["row", "column", "message"])
    with site_scope(contact_import.site):  # a streamed response is read after its view has returned
        errors = contact_import.row_errors.order_by("row", "id").values_list("row", "column", "message")
        for error in errors.iterator(chunk_size=2000):
            yield writer.writerow(error)
