"""The demo's import: finished, with rows it skipped, and the status rules visible on its people."""

from io import StringIO

from django_scopes import scope

from contacts import services
from contacts.imports import demo
from contacts.models import ConsentSource, Import
from contacts.services import Consent
from tests.contacts.importing import contact, errors_of
from tests.factories import ContactFactory

TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the workshop")


def test_the_demo_imports_are_done_with_skipped_rows_and_follow_the_rules(site, owner):
    maya = ContactFactory(site=site, email="maya.fernandes@example.org", name="Maya Fernandes")
    arjun = ContactFactory(site=site, email="arjun.patel@example.org", name="Arjun Patel")
    with scope(site=site):
        services.subscribe(site, contact=maya, by=TEAM)
        services.subscribe(site, contact=arjun, by=TEAM)
        services.unsubscribe(site, contact=arjun, reason="opted_out", by=TEAM)
    out = StringIO()
    demo.seed(site, owner=owner, stdout=out)
    with scope(site=site):
        subscribed, unsubscribed, cleaned = Import.objects.order_by("id")
    assert (subscribed.status, subscribed.exporter, subscribed.created_by) == ("done", "Mailchimp", owner)
    assert (subscribed.total, subscribed.created_count, subscribed.updated_count) == (8, 3, 2)
    assert [row for row, _, _ in errors_of(subscribed)] == [6, 8, 9]
    assert "3 created, 2 updated, 3 skipped" in out.getvalue()
    assert contact(site, "arjun.patel@example.org").unsubscribe_reason == "opted_out"
    assert contact(site, "maya.fernandes@example.org").subscription_status == "subscribed"
    ines = contact(site, "ines.costa@example.org")
    assert (ines.name, ines.subscription_status) == ("Inês Costa", "subscribed")
    assert sorted(tag.name for tag in ines.tags.all()) == ["Mailchimp", "Morning", "Retreat 2024"]

    assert (unsubscribed.everyone, cleaned.everyone) == ("opted_out", "bounced")
    tom, yuki = contact(site, "tom.becker@example.org"), contact(site, "yuki.tanaka@example.org")
    assert (tom.subscription_status, tom.unsubscribe_reason) == ("unsubscribed", "opted_out")
    assert (yuki.subscription_status, yuki.unsubscribe_reason) == ("unsubscribed", "bounced")
    assert contact(site, "leah.cohen@example.org").unsubscribe_reason == "manual"
    with scope(site=site):
        left = tom.consent_events.latest("id")
    assert (left.from_status, left.original_at.isoformat()) == ("subscribed", "2024-09-14T08:12:00+00:00")
