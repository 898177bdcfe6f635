"""Reading an import's file: the text encoding and the delimiter it was written with, its first row, and
its records, numbered as a spreadsheet numbers its rows (the first row is row 1).

Encodings, in this order: a byte order mark says UTF-8 or UTF-16; else UTF-8 when the text is UTF-8, or
mostly (the few rows with broken bytes are reported, not guessed at); else Windows-1252, what Excel
writes on Windows; else Latin-1, which reads any byte. Delimiters: comma, semicolon or tab, whichever
splits the first rows into the same number of cells (and Excel's "sep=;" first line is obeyed).
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from contacts.imports.errors import ContactImportError

ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with a byte order mark)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_COLUMNS = 200
DAMAGED = "\ufffd"  # what a byte that is not text in the file's encoding is read as
CHUNK = 1 << 20
SAMPLE_LINES = 50
EXCEL_HINT = re.compile(r"sep=(.)\r?\n?\Z")
# A character of two to four bytes, well formed: plenty of them in a file means UTF-8 with a few
# damaged rows; a Windows-1252 file has its accented letters as lone high bytes instead.
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
HIGH_BYTES = bytes(range(0x80, 0x100))
# Zip (an .xlsx or .numbers workbook), OLE2 (an .xls workbook), PDF; else many NUL bytes tell binary data.
BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")


@dataclass(frozen=True)
class Layout:
    encoding: str
    delimiter: str
    first_row: list[str]

    @property
    def encoding_label(self) -> str:
        return ENCODINGS[self.encoding]


class Record(NamedTuple):
    row: int
    cells: list[str] | None  # None: the row could not be read, `problem` says why
    problem: str = ""


def sniff(stream) -> Layout:
    """The encoding, delimiter and first row of a binary file (left at its start)."""
    encoding = detect_encoding(stream)
    lines = _first_lines(stream, encoding)
    hint = EXCEL_HINT.match(lines[0]) if lines else None
    if hint and hint[1] in DELIMITERS:
        delimiter, lines = hint[1], lines[1:]
    else:
        delimiter = detect_delimiter(lines)
    try:
        first = next(csv.reader(lines, delimiter=delimiter), [])
    except csv.Error:  # a cell over csv's limit of 131,072 characters (the rows' limit too)
        raise ContactImportError(
            "The first row of the file has a cell over 131,072 characters: it should name the columns "
            "(or hold a contact).",
            field="file",
        ) from None
    if not any(cell.strip() for cell in first):
        raise ContactImportError(
            "The first row of the file is empty: it should name the columns (or hold a contact).",
            field="file",
        )
    if any("\x00" in cell for cell in first):  # nor can the database keep it in the column names
        raise ContactImportError(
            "The first row of the file has a NUL character: it is not CSV text. Save it as CSV again.",
            field="file",
        )
    if len(first) > MAX_COLUMNS:
        raise ContactImportError(
            f"The file has {len(first)} columns; an import reads up to {MAX_COLUMNS}. Remove the columns "
            "you do not need.",
            field="file",
        )
    return Layout(encoding=encoding, delimiter=delimiter, first_row=first)


def detect_encoding(stream) -> str:
    stream.seek(0)
    start = stream.read(CHUNK)
    stream.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not start:
        raise ContactImportError("The file is empty.", field="file")
    if start.startswith(BINARY_SIGNATURES) or start[:1024].count(b"\x00") * 10 > len(start[:1024]):
        raise ContactImportError(
            "This is not a CSV text file (it holds binary data: a spreadsheet workbook or a PDF?). "
            "Save it as CSV and upload that.",
            field="file",
        )
    if _decodes(stream, "utf-8") or _mostly_utf8(stream):
        return "utf-8"
    return "cp1252" if _decodes(stream, "cp1252") else "latin-1"


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that cuts the first rows into the same number of cells, more than one; a comma
    when nothing tells."""

    def fit(delimiter):
        try:
            widths = [len(cells) for cells in csv.reader(lines, delimiter=delimiter) if cells]
        except csv.Error:
            return (False, 0.0, 0)
        if not widths:
            return (False, 0.0, 0)
        return (widths[0] > 1, widths.count(widths[0]) / len(widths), widths[0])

    return max(DELIMITERS, key=fit)


def records(stream, *, encoding: str, delimiter: str) -> Iterator[Record]:
    """Every record of the file, the first row included, numbered from 1 (Excel's "sep=" line is not a
    row). A record that cannot be read (a cell over csv's limit of 131,072 characters) comes with its
    problem instead of its cells."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    try:
        first = text.readline()
        reader = csv.reader(text if EXCEL_HINT.match(first) else chain([first], text), delimiter=delimiter)
        row = 0
        while True:
            row += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Record(row, None, f"This row could not be read: {error}.")
            else:
                yield Record(row, cells)
    finally:
        text.detach()  # the caller closes its file


def _first_lines(stream, encoding) -> list[str]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    try:
        lines = []
        for _ in range(SAMPLE_LINES):
            line = text.readline()
            if not line:
                break
            lines.append(line)
        return lines
    finally:
        text.detach()
        stream.seek(0)


def _decodes(stream, encoding) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    stream.seek(0)
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def _mostly_utf8(stream) -> bool:
    """Whether most high bytes of a file that is not all UTF-8 form UTF-8 characters."""
    in_sequences = high = 0
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        in_sequences += sum(len(sequence) for sequence in UTF8_SEQUENCE.findall(chunk))
        high += len(chunk) - len(chunk.translate(None, HIGH_BYTES))
    stream.seek(0)
    return in_sequences * 2 > high
