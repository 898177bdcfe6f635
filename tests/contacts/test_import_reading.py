"""Reading an import's file: encodings (UTF-8 with or without a BOM, UTF-16, Windows-1252, Latin-1, a
UTF-8 file with broken rows), delimiters, Excel's "sep=" line, files without a header, and files that
are not CSV at all."""

import pytest

from contacts.imports.errors import ContactImportError
from tests.contacts.importing import contact, errors_of, run_text

ROWS = "email,name\r\njose@example.com,José Müller\r\nzoe@example.com,Zoë Ørsted €\r\n"


def names(site):
    return [contact(site, email).name for email in ("jose@example.com", "zoe@example.com")]


def test_utf8_without_a_bom(site):
    imp = run_text(site, ROWS.encode("utf-8"))
    assert (imp.encoding, imp.delimiter, imp.created_count) == ("utf-8", ",", 2)
    assert names(site) == ["José Müller", "Zoë Ørsted €"]


def test_utf8_with_a_bom_keeps_the_bom_out_of_the_first_header(site):
    imp = run_text(site, b"\xef\xbb\xbf" + ROWS.encode("utf-8"))
    assert imp.encoding == "utf-8-sig"
    assert imp.headers == ["email", "name"]
    assert imp.mapping == ["email", "name"]
    assert names(site) == ["José Müller", "Zoë Ørsted €"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom(site, codec):
    data = ROWS.encode(codec)
    if codec != "utf-16":  # Python writes a BOM for "utf-16" only; Excel writes one too
        data = ("\ufeff" + ROWS).encode(codec)
    imp = run_text(site, data)
    assert imp.encoding == "utf-16"
    assert names(site) == ["José Müller", "Zoë Ørsted €"]


def test_windows_1252_when_the_file_is_not_utf8(site):
    imp = run_text(site, ROWS.encode("cp1252"))
    assert imp.encoding == "cp1252"
    assert names(site) == ["José Müller", "Zoë Ørsted €"]


def test_latin1_when_a_byte_is_not_windows_1252_either(site):
    data = "email,name\njose@example.com,José\n".encode("latin-1") + b"zoe@example.com,Zo\x81\n"
    imp = run_text(site, data)
    assert imp.encoding == "latin-1"
    assert contact(site, "jose@example.com").name == "José"
    assert contact(site, "zoe@example.com").name == "Zo\x81"


def test_a_utf8_file_with_a_few_broken_rows_reports_them_by_row_and_imports_the_rest(site):
    good = "".join(f"p{n}@example.com,Zoë Ørsted {n}\n" for n in range(5))
    data = b"email,name\n" + good.encode() + b"bad@example.com,Ren\xe9e\n" + "last@example.com,Åsa\n".encode()
    imp = run_text(site, data)
    assert imp.encoding == "utf-8"
    assert (imp.total, imp.created_count, imp.skipped_count) == (7, 6, 1)
    assert errors_of(imp) == [(7, "name", "Has bytes that are not UTF-8 text.")]
    assert contact(site, "last@example.com").name == "Åsa"


@pytest.mark.parametrize(("delimiter", "label"), [(";", "semicolon"), ("\t", "tab"), (",", "comma")])
def test_the_delimiter_is_found(site, delimiter, label):
    text = f"email{delimiter}name{delimiter}city\n"
    text += f'ana@example.com{delimiter}"Silva, Ana; Maria"{delimiter}Lisbon\n'
    text += f"ben@example.com{delimiter}Ben{delimiter}Porto\n"
    imp = run_text(site, text)
    assert imp.delimiter == delimiter
    assert contact(site, "ana@example.com").name == "Silva, Ana; Maria"
    assert contact(site, "ben@example.com").fields == {"city": "Porto"}


def test_excels_sep_line_chooses_the_delimiter_and_is_not_a_row(site):
    imp = run_text(site, "sep=;\r\nEmail;Name\r\nana@example.com;Ana\r\nnope;X\r\n".encode("cp1252"))
    assert (imp.delimiter, imp.headers) == (";", ["Email", "Name"])
    assert contact(site, "ana@example.com").name == "Ana"
    assert errors_of(imp) == [(3, "Email", "“nope” is not a valid email address.")]


def test_a_list_of_emails_without_a_header(site):
    imp = run_text(site, "ana@example.com\nben@example.com\n\nnot an email\n")
    assert imp.has_header is False
    assert (imp.headers, imp.mapping) == (["Column 1"], ["email"])
    assert (imp.total, imp.created_count, imp.skipped_count) == (3, 2, 1)
    assert errors_of(imp) == [(4, "Column 1", "“not an email” is not a valid email address.")]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(site):
    """A quoted cell over two lines is one row; a blank line is a row, empty, and is not imported."""
    imp = run_text(site, 'email,note\nana@example.com,"two\nlines"\n\nbad,x\n')
    assert contact(site, "ana@example.com").fields == {"note": "two\nlines"}
    assert errors_of(imp) == [(4, "email", "“bad” is not a valid email address.")]
    assert imp.total == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV text file"),
        (b"\n\nemail\n", "The first row of the file is empty"),
        ((",".join(f"c{n}" for n in range(201)) + "\n").encode(), "The file has 201 columns"),
        (b"name,city\nAna,Lisbon\n", "Choose the column that holds the email addresses."),
        # found by tests/contacts/test_fuzz_import.py: these were 500s
        (b"email," + b"h" * 200_000 + b"\nana@example.com,x\n", "The first row of the file has a cell over"),
        (
            b'email,"h' + b"h" * 200_000 + b'"\nana@example.com,x\n',
            "The first row of the file has a cell over",
        ),
        (b"email,ph\x00one\nana@example.com,1\n", "The first row of the file has a NUL character"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_a_reason(site, data, message):
    with pytest.raises(ContactImportError) as refused:
        run_text(site, data)
    assert refused.value.message.startswith(message)
