"""A list from another platform keeps everyone's consent: a row that says the person unsubscribed,
bounced or complained makes them unsubscribed with that reason, new or existing (a file may lower a
status, never raise it); "Subscribe to marketing emails" raises only the rows the file does not mark as
gone; each change is a consent event with the file's own date, IP address and words.

These run on the ORM path on SQLite and on the COPY path on PostgreSQL; the last test holds both to
`statuses.status_after` for every pair of statuses."""

from datetime import UTC, datetime

import pytest
from django_scopes import scope

from contacts.imports.merge import OUTCOMES
from contacts.imports.statuses import OPTED_OUT, Status, status_after, target
from contacts.models import ConsentEvent, Contact
from tests.contacts.importing import contact, errors_of, run_text
from tests.contacts.test_import_rules import with_status

EVERY_STATUS = [tuple(status) for status in OUTCOMES]  # every status, with each reason


def state(site, email):
    person = contact(site, email)
    return person.subscription_status, person.unsubscribe_reason


def events_of(site, email):
    with scope(site=site):
        return list(
            ConsentEvent.objects.filter(contact__email__iexact=email)
            .order_by("id")
            .values(
                "from_status", "from_reason", "to_status", "to_reason", "source", "note", "original_at", "ip"
            )
        )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("unsubscribed", ("unsubscribed", "opted_out")),
        ("Opted-Out", ("unsubscribed", "opted_out")),
        ("cancelled", ("unsubscribed", "opted_out")),
        ("cleaned", ("unsubscribed", "bounced")),
        ("bounced", ("unsubscribed", "bounced")),
        ("complained", ("unsubscribed", "complained")),
    ],
)
def test_a_row_that_says_the_person_left_makes_a_new_contact_unsubscribed_with_that_reason(
    site, value, expected
):
    text = f"email,status\ngone@example.com,{value}\n"
    imp = run_text(site, text, subscribe=True, consent="Old list", mapping={"status": "status"})
    assert imp.skipped_count == 0
    assert state(site, "gone@example.com") == expected
    [event] = events_of(site, "gone@example.com")
    assert (event["from_status"], event["to_status"], event["to_reason"]) == ("never_subscribed", *expected)
    assert event["source"] == "import"
    assert event["note"].startswith(
        "The file “contacts.csv”: "
    )  # the file's words, not the consent statement


def test_a_file_lowers_an_existing_subscribed_contact(site):
    with_status(site, "fan@example.com", "subscribed")
    imp = run_text(site, "email,status,unsubscribed at\nfan@example.com,unsubscribed,2023-05-04 10:11:12\n")
    assert state(site, "fan@example.com") == ("unsubscribed", "opted_out")
    lowered = events_of(site, "fan@example.com")[-1]
    assert (lowered["from_status"], lowered["to_status"], lowered["to_reason"]) == (
        "subscribed",
        "unsubscribed",
        "opted_out",
    )
    assert lowered["original_at"] == datetime(2023, 5, 4, 10, 11, 12, tzinfo=UTC)
    assert (imp.created_count, imp.updated_count) == (0, 1)
    left = next(line for line in imp.outcome if line["reason"] == "opted_out")
    assert (left["created"], left["updated"], left["status_changed"]) == (0, 1, 1)


def test_an_unsubscribed_contact_that_a_file_marks_subscribed_stays_unsubscribed(site):
    with_status(site, "gone@example.com", "unsubscribed", "opted_out")
    run_text(site, "email,status\ngone@example.com,subscribed\n", subscribe=True, consent="Old list")
    assert state(site, "gone@example.com") == ("unsubscribed", "opted_out")
    assert [e["source"] for e in events_of(site, "gone@example.com")] == ["team", "team"]


def test_an_unsubscribe_with_a_weightier_reason_is_kept(site):
    with_status(site, "spam@example.com", "unsubscribed", "complained")
    with_status(site, "team@example.com", "unsubscribed", "manual")
    run_text(site, "email,status\nspam@example.com,unsubscribed\nteam@example.com,cleaned\n")
    assert state(site, "spam@example.com") == ("unsubscribed", "complained")
    assert state(site, "team@example.com") == ("unsubscribed", "bounced")


def test_subscribe_raises_only_the_rows_the_file_does_not_mark_as_gone(site):
    """A file that is half unsubscribed, with "Subscribe to marketing emails" ticked."""
    rows = "".join(f"person{n}@example.com,{'unsubscribed' if n % 2 else 'subscribed'}\n" for n in range(10))
    imp = run_text(site, "email,status\n" + rows, subscribe=True, consent="Newsletter on Kit")
    statuses = [state(site, f"person{n}@example.com") for n in range(10)]
    assert statuses == [("subscribed", None), ("unsubscribed", "opted_out")] * 5
    figures = {(line["status"], line["reason"]): line["created"] for line in imp.outcome}
    assert figures[("subscribed", None)] == 5
    assert figures[("unsubscribed", "opted_out")] == 5
    assert events_of(site, "person0@example.com")[0]["note"] == "Newsletter on Kit"


def test_a_no_in_a_status_column_is_never_subscribed_and_lowers_nobody(site):
    with_status(site, "fan@example.com", "subscribed")
    run_text(
        site, "email,newsletter\nfan@example.com,no\nnew@example.com,false\n", subscribe=True, consent="List"
    )
    assert state(site, "fan@example.com") == ("subscribed", None)
    assert state(site, "new@example.com") == ("never_subscribed", None)


@pytest.mark.parametrize(
    ("before", "stated", "subscribe", "after"),
    [
        (("never_subscribed", None), ("subscribed", None), False, ("never_subscribed", None)),
        (("never_subscribed", None), ("subscribed", None), True, ("subscribed", None)),
        (("pending", None), ("", None), True, ("subscribed", None)),
        (("never_subscribed", None), ("pending", None), True, ("pending", None)),
        (("pending", None), ("never_subscribed", None), True, ("pending", None)),
        (("subscribed", None), ("never_subscribed", None), True, ("subscribed", None)),
        (("subscribed", None), ("unsubscribed", "opted_out"), False, ("unsubscribed", "opted_out")),
        (("pending", None), ("unsubscribed", "bounced"), True, ("unsubscribed", "bounced")),
        (("unsubscribed", "opted_out"), ("subscribed", None), True, ("unsubscribed", "opted_out")),
        (("unsubscribed", "manual"), ("subscribed", None), True, ("unsubscribed", "manual")),
        (("unsubscribed", "manual"), ("unsubscribed", "opted_out"), False, ("unsubscribed", "opted_out")),
        (("unsubscribed", "complained"), ("unsubscribed", "bounced"), False, ("unsubscribed", "complained")),
        (("unsubscribed", "bounced"), ("unsubscribed", "manual"), False, ("unsubscribed", "bounced")),
    ],
)
def test_the_rule_by_example(before, stated, subscribe, after):
    """The rule written out, case by case (the other tests hold both merges to `status_after`)."""
    asked = target(Status(*stated), subscribe=subscribe)
    assert status_after(Status(*before), asked) == after


def test_a_file_never_raises_a_status_by_itself(site):
    with_status(site, "maybe@example.com", "pending")
    run_text(site, "email,status\nmaybe@example.com,subscribed\nnew@example.com,subscribed\n")
    assert state(site, "maybe@example.com") == ("pending", None)
    assert state(site, "new@example.com") == ("never_subscribed", None)


def test_rows_the_file_marks_unconfirmed_or_never_subscribed_are_not_raised_by_subscribe(site):
    with_status(site, "was-never@example.com", "never_subscribed")
    text = (
        "email,status\nunconfirmed@example.com,pending\nnever@example.com,never_subscribed\n"
        "was-never@example.com,unconfirmed\n"
    )
    run_text(site, text, subscribe=True, consent="Old list")
    assert state(site, "unconfirmed@example.com") == ("pending", None)
    assert state(site, "never@example.com") == ("never_subscribed", None)
    assert state(site, "was-never@example.com") == ("pending", None)


def test_unknown_status_values_are_row_errors_and_the_other_rows_go_in(site):
    text = "email,status\nok@example.com,unsubscribed\nodd@example.com,maybe later\nempty@example.com,\n"
    imp = run_text(site, text)
    assert errors_of(imp) == [
        (
            3,
            "status",
            "“maybe later” is not a subscription status: use subscribed, pending, never subscribed, "
            "unsubscribed, bounced, cleaned, complained (or yes / no).",
        )
    ]
    assert state(site, "ok@example.com") == ("unsubscribed", "opted_out")
    assert state(site, "empty@example.com") == ("never_subscribed", None)  # an empty cell says nothing


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        (
            "unsubscribed at",
            "last Tuesday",
            "“last Tuesday” is not a date: write it as 2024-11-02 or 2024-11-02 18:22:11.",
        ),
        ("consent ip", "10.0.0.300", "“10.0.0.300” is not an IP address."),
        ("consent ip", "fe80::1%eth0", "“fe80::1%eth0” is not an IP address."),
    ],
)
def test_unreadable_dates_and_addresses_are_row_errors(site, header, value, message):
    chosen = {"unsubscribed at": "unsubscribed_at", "consent ip": "consent_ip"}[header]
    imp = run_text(site, f"email,{header}\nrow@example.com,{value}\n", mapping={header: chosen})
    assert errors_of(imp) == [(2, header, message)]
    assert imp.created_count == 0


def test_the_consent_event_keeps_the_files_date_ip_and_reason(site):
    text = (
        "email,status,unsubscribe reason,unsubscribed at,subscribed at,consent ip\n"
        "left@example.com,unsubscribed,I no longer want to receive these emails,2024-02-03T04:05:06Z,,\n"
        "stayed@example.com,subscribed,,,2019-07-08 09:10:11,203.0.113.7\n"
    )
    run_text(site, text, subscribe=True, consent="Mailchimp newsletter")
    [left] = events_of(site, "left@example.com")
    assert (
        left["note"] == "The file “contacts.csv”: unsubscribed — “I no longer want to receive these emails”"
    )
    assert left["original_at"] == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert left["ip"] is None
    [stayed] = events_of(site, "stayed@example.com")
    assert (stayed["to_status"], stayed["note"], stayed["ip"]) == (
        "subscribed",
        "Mailchimp newsletter",
        "203.0.113.7",
    )
    assert stayed["original_at"] == datetime(2019, 7, 8, 9, 10, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("N/A (Unsubscribed by an admin)", "manual"),
        ("The emails are spam and should be reported", "opted_out"),  # a survey answer, not a complaint
        ("complained", "complained"),
        ("bounced", "bounced"),
        ("I never signed up for this mailing list", "opted_out"),
    ],
)
def test_a_reason_column_names_the_reason(site, reason, expected):
    run_text(site, f'email,unsubscribe reason\nleft@example.com,"{reason}"\n')
    assert state(site, "left@example.com") == ("unsubscribed", expected)


def test_the_import_outcome_counts_every_status(site):
    with_status(site, "old-fan@example.com", "subscribed")
    text = (
        "email,status\nold-fan@example.com,bounced\nnew-fan@example.com,subscribed\n"
        "spam@example.com,complained\nbad,subscribed\n"
    )
    imp = run_text(site, text, subscribe=True, consent="Old list")
    lines = {(line["status"], line["reason"]): line for line in imp.outcome}
    assert len(lines) == 7  # every status, zero where none
    assert (
        lines[("unsubscribed", "bounced")]["updated"],
        lines[("unsubscribed", "bounced")]["status_changed"],
    ) == (
        1,
        1,
    )
    assert lines[("subscribed", None)]["created"] == 1
    assert lines[("unsubscribed", "complained")]["created"] == 1
    assert lines[("unsubscribed", "complained")]["label"] == "Unsubscribed: marked as spam"
    assert (imp.created_count, imp.updated_count, imp.skipped_count) == (2, 1, 1)


@pytest.mark.parametrize("subscribe", [False, True])
def test_every_status_meets_every_row_as_the_rule_says(site, subscribe):
    """Each existing status against each status a file can state, on this database's path (the COPY
    merge on PostgreSQL, the ORM elsewhere): the contacts end as `status_after` says, and each change
    has its consent event."""
    stated = [*EVERY_STATUS, ("", None)]
    expected, lines = {}, ["email,status,unsubscribe reason"]
    for n, (status, reason) in enumerate(EVERY_STATUS):
        for m, (said, said_reason) in enumerate(stated):
            email = f"c{n}-{m}@example.com"
            with_status(site, email, status, reason)
            asked = target(Status(said, said_reason) if said else Status(""), subscribe=subscribe)
            expected[email] = status_after(Status(status, reason), asked)
            lines.append(f"{email},{said},{said_reason or ''}")
    imp = run_text(
        site, "\n".join(lines) + "\n", subscribe=subscribe, consent="Old list" if subscribe else ""
    )
    assert imp.skipped_count == 0
    for email, after in expected.items():
        assert state(site, email) == tuple(after), email
    with scope(site=site):
        imported = ConsentEvent.objects.filter(source="import").count()
    assert imported == sum(line["status_changed"] for line in imp.outcome)
    assert imported == sum(
        1
        for email, after in expected.items()
        if tuple(after) != tuple(next(s for n, s in enumerate(EVERY_STATUS) if email.startswith(f"c{n}-")))
    )
    assert OPTED_OUT in {after.reason for after in expected.values()}


def every_pair_file(site):
    """Contacts in every status, each met by a row stating every status, with dates, an IP address and
    a reason's own words."""
    lines = ["email,status,unsubscribe reason,unsubscribed at,subscribed at,consent ip"]
    for n, (status, reason) in enumerate(EVERY_STATUS):
        for m, (said, said_reason) in enumerate([*EVERY_STATUS, ("", None)]):
            email = f"c{n}-{m}@example.com"
            with_status(site, email, status, reason)
            left_at = "2023-04-05 06:07:08" if said == "unsubscribed" else ""
            words = "I moved away" if said_reason == "opted_out" else said_reason or ""
            lines.append(f"{email},{said},{words},{left_at},2019-01-02T03:04:05Z,192.0.2.{m + 1}")
    lines.append("brand-new@example.com,bounced,,2022-01-01,,")
    return "\n".join(lines) + "\n"


def everything(site, imp):
    with scope(site=site):
        contacts = sorted(
            Contact.objects.values_list(
                "email", "subscription_status", "unsubscribe_reason", "status_changed_at"
            )
        )
        events = sorted(
            ConsentEvent.objects.filter(source="import").values_list(
                "contact__email",
                "from_status",
                "from_reason",
                "to_status",
                "to_reason",
                "note",
                "original_at",
                "ip",
            )
        )
    return contacts, events, imp.outcome, (imp.created_count, imp.updated_count, imp.skipped_count)


@pytest.mark.postgres
@pytest.mark.parametrize("subscribe", [False, True])
def test_the_copy_merge_and_the_orm_batches_treat_every_status_alike(site, subscribe):
    """The same file against the same contacts on two sites: one merged by COPY with the rule in SQL,
    the other by the ORM with `status_after`. Contacts, consent events (dates, IP addresses, notes) and
    figures are the same, the times of the change aside."""
    from django.utils import timezone

    from contacts.imports import merge
    from tests.factories import SiteFactory

    other = SiteFactory()
    results = []
    now = timezone.now()
    for target_site, merge_rows in ((site, merge.merge_with_copy), (other, merge.merge_in_batches)):
        text = every_pair_file(target_site)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(merge, "merge_with_copy", merge_rows)
            patch.setattr(merge.timezone, "now", lambda: now)
            imp = run_text(target_site, text, subscribe=subscribe, consent="Old list" if subscribe else "")
        assert imp.status == "done", imp.failure
        contacts, events, figures, counts = everything(target_site, imp)
        changed_now = {email for email, *_, changed_at in contacts if changed_at == now}
        results.append(([c[:3] for c in contacts], events, figures, counts, changed_now))
    assert results[0] == results[1]
    contacts, events, figures, counts, changed_now = results[0]
    changed = sum(line["status_changed"] for line in figures)  # existing contacts: brand-new is created
    assert len(events) == changed + 1 == len(changed_now) > 10
    assert ("brand-new@example.com", "unsubscribed", "bounced") in contacts


@pytest.mark.postgres
def test_a_file_with_statuses_merges_under_row_level_security_as_the_app_role(site):
    """The status rule's statements (the locked contacts before, the merge, the consent events with
    their dates and addresses) run as the application's role, bound by row-level security, as the whole
    suite runs."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    text = every_pair_file(site)
    imp = run_text(site, text, subscribe=True, consent="Old list")
    assert imp.status == "done", imp.failure
    assert state(site, "brand-new@example.com") == ("unsubscribed", "bounced")
    assert state(site, "c0-4@example.com") == ("unsubscribed", "opted_out")  # subscribed, lowered
    with scope(site=site):
        lowered = ConsentEvent.objects.filter(contact__email="c0-4@example.com", source="import").get()
    assert (lowered.note, lowered.original_at) == (
        "The file “contacts.csv”: unsubscribed — “I moved away”",
        datetime(2023, 4, 5, 6, 7, 8, tzinfo=UTC),
    )
