"""The exports of Kajabi, Mailchimp, ConvertKit, Ghost and Substack (fixtures/exports/) are recognised
by their headers: their columns need no changes and their bookkeeping columns are left out (what their
status columns do is in test_import_exports)."""

import pytest

from tests.contacts.importing import run_export_file, run_text

FILES = {
    "mailchimp_subscribed_members_export_bd91baeb6f.csv": "Mailchimp",
    "mailchimp_unsubscribed_members_export_bd91baeb6f.csv": "Mailchimp",
    "mailchimp_cleaned_members_export_bd91baeb6f.csv": "Mailchimp",
    "ghost_members.csv": "Ghost",
    "substack_email_list.csv": "Substack",
    "substack_subscribers.csv": "Substack",
    "kit_subscribers.csv": "ConvertKit",
    "kajabi_contacts.csv": "Kajabi",
}


@pytest.mark.parametrize(("name", "exporter"), FILES.items())
def test_an_export_is_recognised_and_imports_without_changes(site, name, exporter):
    imp = run_export_file(site, name)
    assert imp.exporter == exporter
    assert imp.skipped_count == 0
    assert imp.created_count == imp.total > 0


def test_the_mapping_of_a_mailchimp_export(site):
    imp = run_export_file(site, "mailchimp_unsubscribed_members_export_bd91baeb6f.csv")
    mapped = dict(zip(imp.headers, imp.mapping, strict=True))
    assert mapped["Email Address"] == "email"
    assert (mapped["First Name"], mapped["Last Name"], mapped["TAGS"]) == ("first_name", "last_name", "tags")
    assert mapped["ZIP Code"] == "field:zip_code"
    assert (mapped["OPTIN_TIME"], mapped["CONFIRM_TIME"]) == ("subscribed_at", "subscribed_at")
    assert (mapped["OPTIN_IP"], mapped["CONFIRM_IP"]) == ("consent_ip", "consent_ip")
    assert (mapped["UNSUB_TIME"], mapped["UNSUB_REASON"]) == ("unsubscribed_at", "unsubscribe_reason")
    bookkeeping = ("MEMBER_RATING", "LEID", "EUID", "CC", "UNSUB_CAMPAIGN_ID")
    assert {mapped[column] for column in bookkeeping} == {"skip"}


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("E-mail", "email"),
        ("e-mail address", "email"),
        ("EmailAddress", "email"),
        ("Full Name", "name"),
        ("Given name", "first_name"),
        ("Surname", "last_name"),
        ("Labels", "tags"),
        ("Phone (mobile)", "field:phone_mobile"),
        ("Förnamn", "field:förnamn"),
    ],
)
def test_common_spellings_of_a_header_are_recognised(site, header, target):
    imp = run_text(
        site, f"email,{header}\nana@example.com,x\n" if target != "email" else f"{header}\nana@example.com\n"
    )
    assert imp.mapping[-1] == target
    assert imp.exporter == ""


def test_a_second_column_of_the_same_kind_becomes_a_custom_field(site):
    imp = run_text(site, "Email,Name,Full name\nana@example.com,Ana,Ana Maria Silva\n")
    assert imp.mapping == ["email", "name", "field:full_name"]
