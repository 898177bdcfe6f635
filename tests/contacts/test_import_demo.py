"""The demo's import: finished, with rows it skipped, and SPEC §2's rules visible on its people."""

from io import StringIO

from django_scopes import scope

from contacts import services
from contacts.imports import demo
from contacts.models import ConsentSource, Import
from contacts.services import Consent
from tests.contacts.importing import contact, errors_of
from tests.factories import ContactFactory

TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the workshop")


def test_the_demo_import_is_done_with_skipped_rows_and_follows_the_rules(site, owner):
    maya = ContactFactory(site=site, email="maya.fernandes@example.org", name="Maya Fernandes")
    arjun = ContactFactory(site=site, email="arjun.patel@example.org", name="Arjun Patel")
    with scope(site=site):
        services.subscribe(site, contact=maya, by=TEAM)
        services.subscribe(site, contact=arjun, by=TEAM)
        services.unsubscribe(site, contact=arjun, reason="opted_out", by=TEAM)
    out = StringIO()
    demo.seed(site, owner=owner, stdout=out)
    with scope(site=site):
        imp = Import.objects.get()
    assert (imp.status, imp.exporter, imp.created_by) == ("done", "Mailchimp", owner)
    assert (imp.total, imp.created_count, imp.updated_count, imp.skipped_count) == (8, 3, 2, 3)
    assert [row for row, _, _ in errors_of(imp)] == [6, 8, 9]
    assert "3 created, 2 updated, 3 skipped" in out.getvalue()
    assert contact(site, "arjun.patel@example.org").unsubscribe_reason == "opted_out"
    assert contact(site, "maya.fernandes@example.org").subscription_status == "subscribed"
    ines = contact(site, "ines.costa@example.org")
    assert (ines.name, ines.subscription_status) == ("Inês Costa", "subscribed")
    assert sorted(tag.name for tag in ines.tags.all()) == ["Mailchimp", "Morning", "Retreat 2024"]
