"""Rows that cannot be imported are skipped, each problem reported with its row number and column (SPEC
§8), in a CSV error report: bad or missing emails, the same email twice (the first row is kept), rows
with too many or too few cells, cells too long, damaged text."""

import csv
import io

from django_scopes import scope

from contacts.imports.selectors import error_report
from contacts.models import Contact
from tests.contacts.importing import contact, errors_of, run_text


def test_bad_and_missing_emails_are_skipped_with_their_row(site):
    imp = run_text(
        site,
        "Email,Name\nana@example.com,Ana\nana@,Broken\n,No Email\n  ben@example.com  ,Ben\n"
        "two@@example.com,X\nspaces in@example.com,Y\n",
    )
    assert errors_of(imp) == [
        (3, "Email", "“ana@” is not a valid email address."),
        (4, "Email", "No email address."),
        (6, "Email", "“two@@example.com” is not a valid email address."),
        (7, "Email", "“spaces in@example.com” is not a valid email address."),
    ]
    assert (imp.total, imp.created_count, imp.skipped_count) == (6, 2, 4)
    assert contact(site, "ben@example.com").email == "ben@example.com"  # trimmed


def test_the_same_email_twice_keeps_the_first_row_and_says_so(site):
    imp = run_text(site, "email,name\nana@example.com,First\nben@example.com,Ben\nANA@Example.COM,Second\n")
    assert contact(site, "ana@example.com").name == "First"
    assert errors_of(imp) == [
        (4, "email", "ANA@Example.COM is also on row 2: row 2 was imported, not this one.")
    ]


def test_a_row_with_too_many_or_too_few_cells_is_skipped(site):
    imp = run_text(
        site,
        "email,name,city\na@example.com,A,Lisbon\nb@example.com,B\nc@example.com,C,Porto,extra\n"
        "d@example.com,D,Faro,,\n",
    )
    assert errors_of(imp) == [
        (3, "", "This row has 2 cells; the first row has 3."),
        (4, "", "This row has 4 cells; the first row has 3."),
    ]
    assert contact(site, "d@example.com").fields == {"city": "Faro"}  # empty cells at the end are harmless


def test_cells_too_long_are_reported_with_their_column(site):
    long_name, long_field, long_tag = "N" * 201, "F" * 1001, "T" * 101
    imp = run_text(
        site,
        f"email,name,notes,tags\na@example.com,{long_name},ok,\nb@example.com,B,{long_field},\n"
        f"c@example.com,C,,{long_tag}\nd@example.com,{'x' * 140_000},,\n",
    )
    assert errors_of(imp) == [
        (2, "name", "The name is longer than 200 characters."),
        (3, "notes", "Longer than 1,000 characters."),
        (4, "tags", f"The tag “{'T' * 40}…” is longer than 100 characters."),
        (5, "", "This row could not be read: field larger than field limit (131072)."),
    ]
    with scope(site=site):
        assert Contact.objects.count() == 0


def test_a_nul_character_is_reported(site):
    imp = run_text(site, "email,name\na@example.com,A\x00B\n")
    assert errors_of(imp) == [(2, "name", "Has a NUL character.")]


def test_the_error_report_lists_every_skipped_row_as_csv(site):
    imp = run_text(
        site, 'Email Address,First Name\nok@example.com,Ok\nnope,No\n"bad, comma",Q\nok@example.com,Again\n'
    )
    with scope(site=site):
        report = "".join(error_report(imp))
    assert list(csv.reader(io.StringIO(report))) == [
        ["row", "column", "message"],
        ["3", "Email Address", "“nope” is not a valid email address."],
        ["4", "Email Address", "“bad, comma” is not a valid email address."],
        ["5", "Email Address", "ok@example.com is also on row 2: row 2 was imported, not this one."],
    ]
