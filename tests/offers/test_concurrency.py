"""Two requests at the same moment (PostgreSQL, real transactions in two threads)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scope

from emails.models import OutboundEmail
from offers.models import Access, Purchase
from offers.services import access as access_services
from offers.services import catalog
from tests.factories import ContactFactory, SiteFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(work, times=2):
    """Runs `work` in `times` threads released together; returns their results or errors."""
    barrier = threading.Barrier(times)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def arranged():
    site = SiteFactory()
    with scope(site=site):
        offer = catalog.create_offer(site, title="Course", price=10)
    return site, offer, ContactFactory(site=site)


def test_two_grants_of_one_offer_to_one_contact_at_once_make_one_access_and_one_email_each(arranged):
    site, offer, contact = arranged

    def grant():
        with scope(site=site):
            return access_services.grant_offer(site, offer=offer, contact=contact)

    results = at_once(grant, times=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r is not None]) == 1
    with scope(site=site):
        assert Access.objects.filter(contact=contact).count() == 1
        assert sorted(OutboundEmail.objects.values_list("kind", flat=True)) == [
            "member_welcome",
            "offer_grant_confirmation",
        ]


def test_the_same_purchase_sent_twice_at_once_is_recorded_once(arranged):
    site, offer, _ = arranged

    def buy():
        with scope(site=site):
            return access_services.record_purchase(
                site,
                offer=offer,
                email="buyer@example.com",
                amount=Decimal(10),
                currency="USD",
                idempotency_key="order-7",
            )

    results = at_once(buy, times=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created for r in results) == [False, False, False, True]
    with scope(site=site):
        assert Purchase.objects.count() == 1
        assert Access.objects.count() == 1
        assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["purchase_confirmation"]
