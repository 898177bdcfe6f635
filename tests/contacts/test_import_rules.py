"""The status rules for imports: they add and update names, tags and fields; a status only rises from
never subscribed or pending to subscribed, only when "Subscribe to marketing emails" is ticked, with a
consent event; nobody who unsubscribed, bounced or complained is subscribed again; nobody subscribed is
lowered. On SQLite these run the ORM path, on PostgreSQL the COPY path; the last test compares them."""

import pytest
from django.conf import settings
from django.db import connection
from django_scopes import scope

from contacts import services
from contacts.imports import merge, statuses
from contacts.imports.services import Importer
from contacts.models import ConsentEvent, ConsentSource, Contact, SubscriptionStatus
from contacts.services import Consent
from tests.contacts.importing import contact, errors_of, run_text
from tests.factories import ContactFactory, SiteFactory

TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the workshop")
HEADER = "email,name\n"


def with_status(site, email, status, reason=None):
    """A contact in a status, reached through the state machine (so it has its consent events)."""
    person = ContactFactory(site=site, email=email, name="Old Name")
    with scope(site=site):
        if status == "pending":
            services.start_double_opt_in(site, contact=person, by=Consent(source=ConsentSource.FORM))
        elif status in ("subscribed", "unsubscribed"):
            services.subscribe(site, contact=person, by=TEAM)
        if status == "unsubscribed":
            services.unsubscribe(site, contact=person, reason=reason, by=TEAM)
    return person


def import_events(site):
    with scope(site=site):
        return list(
            ConsentEvent.objects.filter(source=ConsentSource.IMPORT).values_list(
                "contact__email", "from_status", "to_status", "note"
            )
        )


@pytest.mark.parametrize("reason", ["manual", "opted_out", "bounced", "complained"])
def test_import_never_resubscribes_an_unsubscribed_contact(site, reason):
    with_status(site, "gone@example.com", "unsubscribed", reason)
    imp = run_text(site, HEADER + "gone@example.com,Gone Again\n", subscribe=True, consent="Old list")
    gone = contact(site, "gone@example.com")
    assert (gone.subscription_status, gone.unsubscribe_reason) == ("unsubscribed", reason)
    assert gone.name == "Gone Again"  # the rest of the row still updates them
    assert (imp.created_count, imp.updated_count, imp.skipped_count) == (0, 1, 0)
    assert import_events(site) == []


def test_import_never_lowers_a_subscribed_contact(site):
    with_status(site, "fan@example.com", "subscribed")
    run_text(site, HEADER + "fan@example.com,Fan\n")
    assert contact(site, "fan@example.com").subscription_status == "subscribed"
    run_text(site, HEADER + "fan@example.com,Fan\n", subscribe=True, consent="Old list")
    assert contact(site, "fan@example.com").subscription_status == "subscribed"
    assert import_events(site) == []


@pytest.mark.parametrize("status", ["never_subscribed", "pending"])
def test_import_raises_never_subscribed_and_pending_only_when_subscribe_is_ticked(site, status, admin):
    with_status(site, "maybe@example.com", status)
    run_text(site, HEADER + "maybe@example.com,\n")
    assert contact(site, "maybe@example.com").subscription_status == status
    assert import_events(site) == []

    run_text(
        site,
        HEADER + "maybe@example.com,\n",
        subscribe=True,
        consent="Newsletter list",
        by=Importer(user=admin),
    )
    raised = contact(site, "maybe@example.com")
    assert raised.subscription_status == "subscribed"
    assert import_events(site) == [("maybe@example.com", status, "subscribed", "Newsletter list")]
    with scope(site=site):
        assert ConsentEvent.objects.get(source="import").actor_user == admin


def test_new_contacts_are_never_subscribed_without_the_box_and_come_from_import(site):
    imp = run_text(site, HEADER + "New.Person@Example.com,New Person\n")
    new = contact(site, "new.person@example.com")
    assert (new.email, new.name, new.origin) == ("New.Person@Example.com", "New Person", "import")
    assert new.subscription_status == "never_subscribed"
    assert (imp.created_count, imp.updated_count) == (1, 0)
    assert import_events(site) == []


def test_new_contacts_are_subscribed_with_the_box_and_a_consent_event_each(site):
    run_text(site, HEADER + "a@example.com,A\nb@example.com,B\n", subscribe=True, consent="Webinar sign-ups")
    assert {contact(site, e).subscription_status for e in ("a@example.com", "b@example.com")} == {
        "subscribed"
    }
    assert sorted(import_events(site)) == [
        ("a@example.com", "never_subscribed", "subscribed", "Webinar sign-ups"),
        ("b@example.com", "never_subscribed", "subscribed", "Webinar sign-ups"),
    ]


def test_subscribing_needs_a_statement_of_consent(site):
    from contacts.imports.errors import ContactImportError

    with pytest.raises(ContactImportError) as refused:
        run_text(site, HEADER + "a@example.com,A\n", subscribe=True, consent="  ")
    assert refused.value.field == "consent"


def test_import_updates_names_tags_and_fields_and_matches_emails_in_any_case(site):
    existing = ContactFactory(
        site=site, email="Ana@Example.com", name="Ana", fields={"city": "Porto", "vip": "yes"}
    )
    with scope(site=site):
        services.add_tags(site, contact=existing, names=["Old"])
    imp = run_text(
        site,
        'Email Address,First Name,Last Name,Tags,City\nANA@EXAMPLE.COM,Ana,Silva,"Yoga, Morning",Lisbon\n',
        tags=["Spring import"],
    )
    ana = contact(site, "ana@example.com")
    assert ana.pk == existing.pk
    assert ana.email == "Ana@Example.com"  # found in any case, and stored as it was
    assert ana.name == "Ana Silva"
    assert ana.fields == {"city": "Lisbon", "vip": "yes"}
    assert sorted(tag.name for tag in ana.tags.all()) == ["Morning", "Old", "Spring import", "Yoga"]
    assert (imp.created_count, imp.updated_count) == (0, 1)


def test_empty_cells_change_nothing(site):
    ContactFactory(site=site, email="keep@example.com", name="Keep Me", fields={"city": "Porto"})
    run_text(site, "email,name,city\nkeep@example.com,,\n")
    kept = contact(site, "keep@example.com")
    assert (kept.name, kept.fields) == ("Keep Me", {"city": "Porto"})


def test_tags_keep_one_spelling_and_join_existing_tags_in_any_case(site):
    existing = ContactFactory(site=site, email="old@example.com")
    with scope(site=site):
        services.add_tags(site, contact=existing, names=["VIP"])
    run_text(site, "email,tags\na@example.com,vip\nb@example.com,Vip\nold@example.com,vip\n", tags=["vip"])
    with scope(site=site):
        assert list(existing.tags.model.objects.values_list("name", flat=True)) == ["VIP"]
    for email in ("a@example.com", "b@example.com", "old@example.com"):
        assert [tag.name for tag in contact(site, email).tags.all()] == ["VIP"]


def test_an_import_touches_no_other_site(site):
    other = SiteFactory()
    ContactFactory(site=other, email="shared@example.com", name="Theirs")
    run_text(site, HEADER + "shared@example.com,Ours\n")
    assert contact(other, "shared@example.com").name == "Theirs"
    assert contact(site, "shared@example.com").name == "Ours"
    with scope(site=other):
        assert Contact.objects.count() == 1


FILE = (
    "Email,First name,Last name,Tags,City,Plan\n"
    "never@example.com,Nev,Er,a,Lisbon,\n"
    'pending@example.com,Pen,Ding,"a, b",,gold\n'
    "subscribed@example.com,,,b,Porto,\n"
    "optedout@example.com,Opt,Out,,,\n"
    "bounced@example.com,,,c,,\n"
    "new@example.com,New,,a,Faro,silver\n"
    "NEW@example.com,Twice,,,,\n"
    "not-an-email,X,,,,\n"
)


def arrange(site):
    with_status(site, "never@example.com", "never_subscribed")
    with_status(site, "pending@example.com", "pending")
    with_status(site, "subscribed@example.com", "subscribed")
    with_status(site, "optedout@example.com", "unsubscribed", "opted_out")
    with_status(site, "bounced@example.com", "unsubscribed", "bounced")


def outcome(site, imp):
    with scope(site=site):
        contacts = {
            c.email: (
                c.name,
                c.fields,
                c.subscription_status,
                c.unsubscribe_reason,
                c.origin,
                sorted(t.name for t in c.tags.all()),
            )
            for c in Contact.objects.prefetch_related("tags")
        }
        events = sorted(import_events(site))
        imp.refresh_from_db()
    return (
        contacts,
        events,
        errors_of(imp),
        (imp.total, imp.created_count, imp.updated_count, imp.skipped_count),
    )


@pytest.mark.postgres
def test_the_copy_merge_and_the_orm_batches_give_the_same_rows(site):
    """The same file, the same starting contacts, on two sites: one merged by COPY and one statement,
    the other by the ORM in batches. (Only PostgreSQL runs both: SQLite has no COPY.)"""
    other = SiteFactory()
    results = []
    for target, merge_rows in ((site, merge.merge_with_copy), (other, merge.merge_in_batches)):
        arrange(target)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(merge, "merge_with_copy", merge_rows)
            imp = run_text(target, FILE, subscribe=True, consent="Old newsletter", tags=["Imported"])
        assert imp.status == "done", imp.failure
        results.append(outcome(target, imp))
    copy, batches = results
    assert copy == batches
    contacts, events, errors, counts = copy
    assert [(row, column) for row, column, _ in errors] == [(8, "Email"), (9, "Email")]
    assert counts == (8, 1, 5, 2)
    assert contacts["never@example.com"] == (
        "Nev Er",
        {"city": "Lisbon"},
        "subscribed",
        None,
        "manual",
        ["Imported", "a"],
    )
    assert contacts["bounced@example.com"][2:4] == ("unsubscribed", "bounced")
    assert contacts["new@example.com"] == (
        "New",
        {"city": "Faro", "plan": "silver"},
        "subscribed",
        None,
        "import",
        ["Imported", "a"],
    )
    assert [e[:3] for e in events] == [
        ("never@example.com", "never_subscribed", "subscribed"),
        ("new@example.com", "never_subscribed", "subscribed"),
        ("pending@example.com", "pending", "subscribed"),
    ]


@pytest.mark.parametrize("status", SubscriptionStatus.values)
def test_without_a_status_in_the_file_the_rule_raises_never_subscribed_and_pending_only(status):
    reason = "opted_out" if status == "unsubscribed" else None
    raised = statuses.status_after(
        statuses.Status(status, reason), statuses.target(statuses.NOTHING_SAID, subscribe=True)
    )
    assert raised == (("subscribed", None) if status in ("never_subscribed", "pending") else (status, reason))
    kept = statuses.status_after(
        statuses.Status(status, reason), statuses.target(statuses.NOTHING_SAID, subscribe=False)
    )
    assert kept == (status, reason)


@pytest.mark.postgres
def test_the_copy_merge_runs_under_row_level_security_as_the_app_role(site):
    """As the application (and the suite) runs, as DATABASE_APP_ROLE: row-level security binds every
    statement (so row errors go through a temporary table: PostgreSQL refuses COPY into a table under a
    policy)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    with scope(site=site):
        arrange(site)
    imp = run_text(site, FILE, subscribe=True, consent="Old newsletter", tags=["Imported"])
    assert imp.status == "done", imp.failure
    contacts, events, errors, counts = outcome(site, imp)
    assert counts == (8, 1, 5, 2)
    assert contacts["bounced@example.com"][2:4] == ("unsubscribed", "bounced")
    assert len(events) == 3
    assert [row for row, _, _ in errors] == [8, 9]
