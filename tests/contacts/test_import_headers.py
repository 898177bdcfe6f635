"""The exports of Kajabi, Mailchimp, ConvertKit, Ghost and Substack are recognised by their headers: their
columns need no changes, their bookkeeping columns are left out, and their own subscription flags never
change anyone's status (SPEC §2: only "Subscribe to marketing emails" does)."""

import pytest

from tests.contacts.importing import contact, run_text

EXPORTS = {
    "Mailchimp": (
        '"Email Address","First Name","Last Name","Address","Phone Number","Birthday","MEMBER_RATING",'
        '"OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF","DSTOFF",'
        '"TIMEZONE","CC","REGION","LAST_CHANGED","LEID","EUID","NOTES","TAGS"\n'
        '"maya@example.org","Maya","Fernandes","","+351 912 345 678","04/12","4","2024-11-02 18:22:11",'
        '"","2024-11-02 18:23:00","","38.7","-9.1","0","1","Europe/Lisbon","PT","","2024-12-01 10:00:00",'
        '"123456","abc123","Met at the retreat","""Yoga"",""Morning"""\n'
    ),
    "Kajabi": (
        "ID,Name,First Name,Last Name,Email,Phone Number,Tags,Created At\n"
        '9123,Maya Fernandes,Maya,Fernandes,maya@example.org,+351 912 345 678,"Yoga, Morning",'
        "2024-11-02 18:22:11 UTC\n"
    ),
    "ConvertKit": (
        "first_name,email_address,state,created_at,tags,phone_number\n"
        'Maya,maya@example.org,active,2024-11-02T18:22:11Z,"Yoga, Morning",+351 912 345 678\n'
    ),
    "Ghost": (
        "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,"
        "labels\n"
        "6543e1f2a1b2c3d4e5f6a7b8,maya@example.org,Maya Fernandes,Met at the retreat,true,false,"
        'cus_ABC123,2024-11-02T18:22:11.000Z,,"Yoga, Morning"\n'
    ),
    "Substack": (
        "email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at\n"
        "maya@example.org,true,2025-11-02T00:00:00.000Z,yearly,false,2024-11-02T18:22:11.000Z,"
        "2024-11-02T18:22:11.000Z\n"
    ),
}


@pytest.mark.parametrize("exporter", EXPORTS)
def test_an_export_is_recognised_and_imports_without_changes(site, exporter):
    imp = run_text(site, EXPORTS[exporter])
    assert imp.exporter == exporter
    assert (imp.created_count, imp.skipped_count) == (1, 0)
    maya = contact(site, "maya@example.org")
    assert maya.subscription_status == "never_subscribed"  # their flags are not consent
    if exporter != "Substack":  # its export has no names, nor tags
        assert maya.name == ("Maya" if exporter == "ConvertKit" else "Maya Fernandes")
        assert sorted(tag.name for tag in maya.tags.all()) == ["Morning", "Yoga"]
    kept = {
        "Mailchimp": {
            "address": None,
            "phone_number": "+351 912 345 678",
            "birthday": "04/12",
            "notes": "Met at the retreat",
        },
        "Kajabi": {"phone_number": "+351 912 345 678"},
        "ConvertKit": {"phone_number": "+351 912 345 678"},
        "Ghost": {"note": "Met at the retreat"},
        "Substack": {"plan": "yearly"},
    }[exporter]
    assert maya.fields == {key: value for key, value in kept.items() if value}


def test_the_mapping_of_a_mailchimp_export(site):
    imp = run_text(site, EXPORTS["Mailchimp"])
    mapped = dict(zip(imp.headers, imp.mapping, strict=True))
    assert mapped["Email Address"] == "email"
    assert (mapped["First Name"], mapped["Last Name"], mapped["TAGS"]) == ("first_name", "last_name", "tags")
    assert mapped["Phone Number"] == "field:phone_number"
    assert {mapped[column] for column in ("MEMBER_RATING", "OPTIN_TIME", "LEID", "EUID", "CC")} == {"skip"}


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
