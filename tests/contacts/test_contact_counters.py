"""The contacts' counters (ContactCount) stay equal to a COUNT(*) of the contacts, group by group, whatever
door the change comes through: the API, an import, a bulk action, a provider's webhook, a purchase, a
grant, an erasure; and after they are folded."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test import override_settings
from django_scopes import scope, scopes_disabled

from audience import segments
from audience.services import bulk_actions
from contacts import services
from contacts.counts import contact_totals
from contacts.models import ConsentSource, Contact, ContactCount, SubscriptionStatus
from contacts.services import counters
from offers.services import access, catalog
from tests.contacts.importing import run_text
from tests.emails.test_webhooks import ANYMAIL_SETTINGS, HARD_BOUNCE, READER, load, post
from tests.factories import ContactFactory, SiteFactory

GROUP = ("site_id", "subscription_status", "unsubscribe_reason", "is_customer")


def counted() -> dict:
    with scopes_disabled():
        rows = ContactCount.objects.values(*GROUP).annotate(n=Sum("contacts")).order_by()
        return {tuple(row[k] for k in GROUP): row["n"] for row in rows if row["n"]}


def contacts_by_group() -> dict:
    with scopes_disabled():
        rows = Contact.objects.values(*GROUP).annotate(n=Count("id")).order_by()
        return {tuple(row[k] for k in GROUP): row["n"] for row in rows}


def assert_counters_exact():
    assert counted() == contacts_by_group()


@pytest.fixture
def offer(site):
    with scope(site=site):
        return catalog.create_offer(site, title="Yoga Basics Course", price=49, currency="USD")


def test_the_counters_follow_every_door(client, as_user, site, other_site, admin, offer):
    ContactFactory.create_batch(3, site=other_site)
    assert_counters_exact()

    # The API: a contact created with a stated consent (subscribed).
    response = as_user(admin).post(
        f"/api/v1/sites/{site.slug}/contacts/",
        {"email": READER, "consent": "Ticked the box"},
        format="json",
    )
    assert response.status_code == 201
    assert_counters_exact()

    # An import: new contacts and one already there, subscribed with the file's consent.
    run_text(
        site,
        f"email,name\n{READER},Reader\nana@example.com,Ana\nbo@example.com,Bo\ncy@example.com,Cy\n",
        subscribe=True,
        consent="Signed up at the studio.",
    )
    assert_counters_exact()

    # A bulk action: unsubscribe everyone subscribed.
    with scope(site=site):
        bulk_actions.start_bulk_action(
            site, kind="unsubscribe", selection={"segment": "subscribed"}, acting_user=admin
        )
    assert_counters_exact()

    # A provider's webhook: a hard bounce of the reader (subscribed again first, by the team).
    with scope(site=site):
        reader = Contact.objects.get(email=READER)
        services.subscribe(
            site, contact=reader, by=services.Consent(source=ConsentSource.TEAM, note="Asked in person.")
        )
    with override_settings(ANYMAIL=ANYMAIL_SETTINGS):
        assert post(client, "postmark", load(HARD_BOUNCE["postmark"])).status_code == 200
    with scope(site=site):
        assert Contact.objects.get(email=READER).unsubscribe_reason == "bounced"
    assert_counters_exact()

    # A purchase by someone new, and a grant to someone there: customers.
    with scope(site=site):
        access.record_purchase(
            site,
            offer=offer,
            email="dee@example.com",
            amount=Decimal(49),
            currency="USD",
            idempotency_key="k1",
        )
        access.grant_offer(site, offer=offer, contact=Contact.objects.get(email="ana@example.com"))
    assert_counters_exact()

    # An erasure.
    with scope(site=site):
        services.delete_contact(site, contact=Contact.objects.get(email="bo@example.com"))
    assert_counters_exact()

    with scope(site=site):
        rows_before = ContactCount.objects.filter(site=site).count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(counters, "FOLD_AFTER_ROWS", 1)
        assert services.fold_contact_counts() == 2
    with scope(site=site):
        assert ContactCount.objects.filter(site=site).count() < rows_before
    assert_counters_exact()
    with scopes_disabled():  # one row per group, none of them zero
        assert ContactCount.objects.count() == len(contacts_by_group())

    mine = {group: n for group, n in contacts_by_group().items() if group[0] == site.pk}
    assert mine == {
        (site.pk, SubscriptionStatus.UNSUBSCRIBED, "bounced", False): 1,
        (site.pk, SubscriptionStatus.UNSUBSCRIBED, "manual", True): 1,
        (site.pk, SubscriptionStatus.UNSUBSCRIBED, "manual", False): 1,
        (site.pk, SubscriptionStatus.NEVER_SUBSCRIBED, None, True): 1,
    }


def test_the_totals_and_the_tabs_counts_are_whole_numbers_as_a_count_gives_them(site, offer):
    with scope(site=site):
        ContactFactory.create_batch(2, site=site, subscription_status=SubscriptionStatus.SUBSCRIBED)
        buyer = ContactFactory(site=site)
        access.grant_offer(site, offer=offer, contact=buyer, send_grant_email=False)

        totals = contact_totals(site)
        tabs = segments.counts(site, [(s.filters, "") for s in segments.DEFAULT_SEGMENTS.values()])

    assert totals == {"contacts": 3, "subscribers": 2, "customers": 1}
    assert tabs == [3, 1, 2]  # All, Customers, Subscribed
    assert all(type(n) is int for n in [*totals.values(), *tabs]), "JSON writes a numeric as 3.0"


def test_folding_drops_the_rows_of_a_deleted_site(site, other_site):
    ContactFactory.create_batch(2, site=other_site)
    ContactFactory(site=site)
    with scopes_disabled():
        other_site.delete()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(counters, "FOLD_AFTER_ROWS", 0)
        services.fold_contact_counts()
    assert counted() == contacts_by_group() == {(site.pk, "never_subscribed", None, False): 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_of_one_writer_does_not_hold_up_another_writer_of_the_same_site():
    """Writers only insert counter rows: an import's transaction still open does not make a purchase of
    the same site wait for it, and each change counts once both commit."""
    site = SiteFactory()
    opened, release = threading.Event(), threading.Event()

    def long_import():
        try:
            with scope(site=site), transaction.atomic():
                ContactFactory.create_batch(3, site=site)
                opened.set()
                release.wait(10)
        finally:
            connection.close()

    importer = threading.Thread(target=long_import)
    importer.start()
    try:
        assert opened.wait(10)
        started = time.monotonic()
        with scope(site=site), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            ContactFactory(site=site, is_customer=True)
        assert time.monotonic() - started < 1
    finally:
        release.set()
        importer.join(10)
    assert_counters_exact()
    with scope(site=site):
        assert segments.count(site, filters=segments.DEFAULT_SEGMENTS["all"].filters) == 4
