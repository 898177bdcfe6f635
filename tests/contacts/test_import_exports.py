"""Migrating a list keeps everyone's consent: the real exports of Mailchimp, Ghost, Substack, Kit and
Kajabi (fixtures/exports/, each header from a public source) give each person the status, reason and
dates the old platform recorded, with "Subscribe to marketing emails" ticked as a migrating creator
would tick it."""

from datetime import UTC, datetime

import pytest
from django_scopes import scope

from contacts.models import ConsentEvent
from tests.contacts.importing import contact, run_export_file, run_text
from tests.contacts.test_import_rules import with_status

MIGRATING = {"subscribe": True, "consent": "Subscribed to my newsletter on the old platform"}


def state(site, email):
    person = contact(site, email)
    return person.subscription_status, person.unsubscribe_reason


def last_event(site, email):
    with scope(site=site):
        return ConsentEvent.objects.filter(contact__email__iexact=email).latest("id")


def test_mailchimp_subscribed_export_subscribes_with_its_opt_in_time_and_address(site):
    imp = run_export_file(site, "mailchimp_subscribed_members_export_bd91baeb6f.csv", **MIGRATING)
    assert (imp.exporter, imp.everyone, imp.skipped_count) == ("Mailchimp", "", 0)
    assert state(site, "maya@example.org") == ("subscribed", None)
    event = last_event(site, "maya@example.org")
    # The confirmation (double opt-in) comes after the opt-in: it is the consent the ledger keeps.
    assert event.original_at == datetime(2018, 2, 12, 18, 6, 58, tzinfo=UTC)
    assert event.ip == "46.140.110.82"
    assert event.note == MIGRATING["consent"]
    maya = contact(site, "maya@example.org")
    assert sorted(tag.name for tag in maya.tags.all()) == ["Morning", "Yoga"]
    assert maya.fields == {
        "company": "Studio Maya",
        "position": "Teacher",
        "zip_code": "1100-001",
        "notes": "Met at the retreat",
    }


def test_mailchimp_unsubscribed_export_unsubscribes_everyone_in_it(site):
    imp = run_export_file(site, "mailchimp_unsubscribed_members_export_bd91baeb6f.csv", **MIGRATING)
    assert (imp.exporter, imp.everyone, imp.skipped_count) == ("Mailchimp", "opted_out", 0)
    assert state(site, "u1@example.com") == ("unsubscribed", "opted_out")
    assert state(site, "u2@example.com") == ("unsubscribed", "manual")  # "N/A (Unsubscribed by an admin)"
    assert state(site, "u3@example.com") == ("unsubscribed", "opted_out")  # a survey answer
    assert state(site, "u4@example.com") == ("unsubscribed", "opted_out")  # its UNSUB_TIME is empty
    left = last_event(site, "u1@example.com")
    assert left.original_at == datetime(2018, 7, 23, 12, 19, 27, tzinfo=UTC)
    assert left.note == "Mailchimp: unsubscribed"
    assert last_event(site, "u3@example.com").note == (
        "Mailchimp: unsubscribed — “The emails are spam and should be reported”"
    )
    assert {line["status"] for line in imp.outcome if line["created"]} == {"unsubscribed"}


def test_mailchimp_cleaned_export_marks_everyone_bounced(site):
    with_status(site, "c1@example.com", "subscribed")
    imp = run_export_file(site, "mailchimp_cleaned_members_export_bd91baeb6f.csv", **MIGRATING)
    assert imp.everyone == "bounced"
    assert state(site, "c1@example.com") == ("unsubscribed", "bounced")
    assert last_event(site, "c1@example.com").original_at == datetime(2020, 3, 23, 17, 30, 5, tzinfo=UTC)


def test_mailchimp_nonsubscribed_export_is_never_subscribed_even_with_subscribe_ticked(site):
    imp = run_export_file(site, "mailchimp_nonsubscribed_email_audience_export_0b7f5393a7.csv", **MIGRATING)
    assert imp.everyone == "never_subscribed"
    assert state(site, "buyer@example.com") == ("never_subscribed", None)


def test_ghost_members_keep_their_newsletter_choice_labels_and_tiers(site):
    imp = run_export_file(site, "ghost_members.csv", **MIGRATING)
    assert (imp.exporter, imp.skipped_count) == ("Ghost", 0)
    assert state(site, "maya@example.org") == ("subscribed", None)
    assert state(site, "left@example.org") == ("unsubscribed", "opted_out")  # subscribed_to_emails false
    maya = contact(site, "maya@example.org")
    assert sorted(tag.name for tag in maya.tags.all()) == ["Morning", "Supporter", "Yoga"]
    assert contact(site, "gift@example.org").fields == {"complimentary_plan": "true"}


def test_substack_readers_who_turned_email_off_are_unsubscribed(site):
    imp = run_export_file(site, "substack_email_list.csv", **MIGRATING)
    assert (imp.exporter, imp.skipped_count) == ("Substack", 0)
    assert state(site, "herroooo@substack.com") == ("subscribed", None)
    assert state(site, "maguirec086@comm.ca") == ("unsubscribed", "opted_out")  # email_disabled true
    assert state(site, "kirstygouda@gmail.com") == ("subscribed", None)
    assert contact(site, "herroooo@substack.com").fields == {"active_subscription": "true"}  # a paid reader


def test_substack_paid_subscribers_file_is_recognised(site):
    imp = run_export_file(site, "substack_subscribers.csv", **MIGRATING)
    assert imp.exporter == "Substack"
    assert state(site, "maguirec086@comm.ca") == ("unsubscribed", "opted_out")
    assert contact(site, "herroooo@substack.com").fields == {"type": "paid"}


def test_kit_states_become_statuses(site):
    imp = run_export_file(site, "kit_subscribers.csv", **MIGRATING)
    assert (imp.exporter, imp.skipped_count) == ("ConvertKit", 0)
    assert state(site, "alice@example.com") == ("subscribed", None)
    assert state(site, "bob@example.com") == ("pending", None)  # inactive: never confirmed
    assert state(site, "carol@example.com") == ("unsubscribed", "opted_out")  # cancelled
    assert state(site, "dan@example.com") == ("unsubscribed", "bounced")
    assert state(site, "erin@example.com") == ("unsubscribed", "complained")
    assert last_event(site, "alice@example.com").original_at == datetime(2023, 1, 27, 11, 43, 55, tzinfo=UTC)


def test_kajabi_contacts_export_keeps_its_fields_under_their_labels(site):
    imp = run_export_file(site, "kajabi_contacts.csv")
    assert (imp.exporter, imp.skipped_count) == ("Kajabi", 0)
    maya = contact(site, "maya@example.org")
    assert maya.name == "Maya Fernandes"
    assert sorted(tag.name for tag in maya.tags.all()) == ["Morning", "Yoga"]
    assert maya.fields == {
        "products": "Yoga Foundations, Morning Flow",
        "phone_number": "+351 912 345 678",
        "address": "Rua Augusta 1",
        "city": "Lisbon",
        "country": "Portugal",
        "zip_code": "1100-001",
        "studio": "Lisbon studio",
    }
    assert maya.subscription_status == "never_subscribed"  # the export says nothing of consent


def test_kajabi_unsubscribed_list_is_imported_as_everyone_unsubscribed(site):
    with_status(site, "left@example.org", "subscribed")
    imp = run_export_file(site, "kajabi_unsubscribed_contacts.csv", everyone="opted_out")
    assert imp.everyone == "opted_out"
    assert state(site, "left@example.org") == ("unsubscribed", "opted_out")
    assert last_event(site, "left@example.org").note == "Kajabi: unsubscribed"


@pytest.mark.parametrize(
    ("header", "values", "target"),
    [
        ("Estado", ["unsubscribed", "cleaned", "subscribed"], "status"),  # the values say it, any header
        ("Email status", ["Subscribed", "Opted out", ""], "status"),
        ("Status", ["4521", "4522", "4523"], "field:status"),  # order numbers stay a custom field
        ("Status", ["pending", "cancelled", "completed"], "field:status"),  # an order's
        ("Order status", ["pending", "cancelled", "completed"], "field:order_status"),
        ("Plan", ["active", "canceled", "pending"], "field:plan"),  # a plan's
        ("Status", ["Subscribed (double opt-in)", "unsubscribed", "Subscribed (double opt-in)"], "status"),
        ("Newsletter", ["yes", "no", "yes"], "status"),
        ("Paid", ["yes", "no", "yes"], "field:paid"),  # yes and no alone say nothing of email
        ("Email disabled", ["false", "true", ""], "unsubscribed"),
        ("Subscribed to emails", ["true", "false", ""], "receives_emails"),
        ("Unsubscribed at", ["2024-01-02", "", ""], "unsubscribed_at"),
        ("Unsubscribed", ["2024-01-02", "2023-05-06 10:00:00", ""], "unsubscribed_at"),
        ("Subscribed", ["2024-01-02", "2023-05-06", ""], "subscribed_at"),
    ],
)
def test_any_files_consent_column_is_offered_by_its_header_and_values(site, header, values, target):
    rows = "".join(f"p{n}@example.com,{value}\n" for n, value in enumerate(values))
    imp = run_text(site, f"email,{header}\n{rows}")
    assert imp.mapping == ["email", target]


def test_two_status_columns_are_weighed_together(site):
    text = "email,status,email status\na@example.com,subscribed,unsubscribed\nb@example.com,subscribed,\n"
    imp = run_text(site, text, **MIGRATING)
    assert imp.mapping == ["email", "status", "status"]
    assert state(site, "a@example.com") == ("unsubscribed", "opted_out")
    assert state(site, "b@example.com") == ("subscribed", None)


def test_a_mark_that_is_no_word_is_that_rows_error_not_an_empty_cell(site):
    imp = run_text(site, "email,status\na@example.com,unsubscribed\nb@example.com,✗\n", **MIGRATING)
    assert imp.skipped_count == 1
    assert state(site, "a@example.com") == ("unsubscribed", "opted_out")


def test_a_status_column_with_a_typo_stays_a_status_column_and_the_typo_is_that_rows_error(site):
    rows = "a@example.com,unsubscribed\nb@example.com,unsubscirbed\nc@example.com,bounced\n"
    imp = run_text(site, "email,status\n" + rows)
    assert imp.mapping == ["email", "status"]
    assert imp.skipped_count == 1
    assert state(site, "c@example.com") == ("unsubscribed", "bounced")


def test_a_mailchimp_export_in_another_language_is_recognised_with_its_email_column_found_by_its_values(site):
    imp = run_export_file(site, "mailchimp_subscribed_segment_export_german.csv", **MIGRATING)
    assert (imp.exporter, imp.skipped_count) == ("Mailchimp", 0)
    assert imp.mapping[0] == "email"  # "Emailadresse"
    assert state(site, "xxx@eee.ch") == ("subscribed", None)
    event = last_event(site, "xxx@eee.ch")
    assert (event.original_at, event.ip) == (datetime(2018, 2, 12, 18, 6, 58, tzinfo=UTC), "46.140.110.82")
