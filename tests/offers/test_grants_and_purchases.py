"""Which email each event sends, and `is_customer` kept exact through grant, purchase, revoke
and delete."""

from decimal import Decimal

import pytest

from contacts import services as contacts
from contacts.models import Contact
from emails.models import OutboundEmail
from offers.errors import GrantError, PurchaseError
from offers.models import Access
from offers.services import access as access_services
from offers.services import catalog
from tests.factories import ContactFactory


def sent_kinds(contact):
    return sorted(OutboundEmail.objects.filter(contact=contact).values_list("kind", flat=True))


def is_customer(contact):
    return Contact.objects.get(pk=contact.pk).is_customer


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Runs what waits for commit (the emails) as production does after the transaction."""
    with django_capture_on_commit_callbacks(execute=True):
        yield


def test_grant_to_a_non_customer_sends_grant_confirmation_and_member_welcome(
    in_site, offer, commit, mailoutbox
):
    contact = ContactFactory(site=in_site)
    access = access_services.grant_offer(in_site, offer=offer, contact=contact)
    assert access.source == "grant"
    assert is_customer(contact)
    assert sent_kinds(contact) == ["member_welcome", "offer_grant_confirmation"]


def test_grant_with_the_email_unticked_still_welcomes_a_new_customer(in_site, offer, commit):
    contact = ContactFactory(site=in_site)
    access_services.grant_offer(in_site, offer=offer, contact=contact, send_grant_email=False)
    assert sent_kinds(contact) == ["member_welcome"]


def test_grant_to_existing_customer_sends_only_grant_confirmation(in_site, offer, other_offer, commit):
    contact = ContactFactory(site=in_site)
    access_services.grant_offer(in_site, offer=other_offer, contact=contact, send_grant_email=False)
    OutboundEmail.objects.all().delete()
    access_services.grant_offer(in_site, offer=offer, contact=contact)
    assert sent_kinds(contact) == ["offer_grant_confirmation"]


def test_grant_to_existing_customer_with_the_email_unticked_sends_nothing(
    in_site, offer, other_offer, commit
):
    contact = ContactFactory(site=in_site)
    access_services.grant_offer(in_site, offer=other_offer, contact=contact, send_grant_email=False)
    OutboundEmail.objects.all().delete()
    access_services.grant_offer(in_site, offer=offer, contact=contact, send_grant_email=False)
    assert sent_kinds(contact) == []


def test_granting_an_offer_already_held_changes_nothing_and_sends_nothing(in_site, offer, commit):
    contact = ContactFactory(site=in_site)
    access_services.grant_offer(in_site, offer=offer, contact=contact)
    OutboundEmail.objects.all().delete()
    assert access_services.grant_offer(in_site, offer=offer, contact=contact) is None
    assert Access.objects.filter(contact=contact).count() == 1
    assert sent_kinds(contact) == []


def test_purchase_sends_only_the_purchase_confirmation(in_site, offer, commit, mailoutbox):
    result = access_services.record_purchase(
        in_site,
        offer=offer,
        email="buyer@example.com",
        name="Bea",
        amount=Decimal("49.00"),
        currency="USD",
        idempotency_key="chk_1",
    )
    contact = result.purchase.contact
    assert result.created
    assert (contact.email, contact.name, contact.origin) == ("buyer@example.com", "Bea", "purchase")
    assert is_customer(contact)
    assert sent_kinds(contact) == ["purchase_confirmation"]
    assert Contact.objects.get(pk=contact.pk).subscription_status == "never_subscribed"


def test_the_same_idempotency_key_twice_is_one_purchase(in_site, offer, commit):
    first = access_services.record_purchase(
        in_site,
        offer=offer,
        email="b@example.com",
        amount=Decimal(49),
        currency="USD",
        idempotency_key="key-1",
    )
    again = access_services.record_purchase(
        in_site,
        offer=offer,
        email="B@example.com",
        amount=Decimal(49),
        currency="USD",
        idempotency_key="key-1",
    )
    assert (again.purchase.pk, again.created) == (first.purchase.pk, False)
    assert sent_kinds(first.purchase.contact) == ["purchase_confirmation"]
    with pytest.raises(PurchaseError, match="belongs to another purchase"):
        access_services.record_purchase(
            in_site,
            offer=offer,
            email="someone@example.com",
            amount=Decimal(49),
            currency="USD",
            idempotency_key="key-1",
        )


def test_a_checkout_opt_in_subscribes_but_never_resubscribes(in_site, offer, commit):
    fresh = access_services.record_purchase(
        in_site,
        offer=offer,
        email="new@example.com",
        amount=Decimal(49),
        currency="USD",
        idempotency_key="a",
        marketing_opt_in=True,
    )
    assert Contact.objects.get(pk=fresh.purchase.contact_id).subscription_status == "subscribed"
    gone = ContactFactory(site=in_site, email="gone@example.com")
    contacts.unsubscribe(
        in_site, contact=gone, reason="opted_out", by=contacts.Consent(source="link", note="Unsubscribe link")
    )
    access_services.record_purchase(
        in_site,
        offer=offer,
        email="gone@example.com",
        amount=Decimal(49),
        currency="USD",
        idempotency_key="b",
        marketing_opt_in=True,
    )
    assert Contact.objects.get(pk=gone.pk).subscription_status == "unsubscribed"


def test_a_purchase_in_another_currency_is_refused(in_site, offer):
    with pytest.raises(PurchaseError, match="sold in USD") as error:
        access_services.record_purchase(
            in_site,
            offer=offer,
            email="b@example.com",
            amount=Decimal(49),
            currency="EUR",
            idempotency_key="k",
        )
    assert error.value.field == "currency"
    assert not Contact.objects.exists()


def test_revoking_the_last_access_ends_customer_status_and_sends_nothing(in_site, offer, other_offer, commit):
    contact = ContactFactory(site=in_site)
    first = access_services.grant_offer(in_site, offer=offer, contact=contact)
    second = access_services.grant_offer(in_site, offer=other_offer, contact=contact)
    OutboundEmail.objects.all().delete()
    access_services.revoke_access(in_site, access=first)
    assert is_customer(contact)
    access_services.revoke_access(in_site, access=second)
    assert not is_customer(contact)
    assert sent_kinds(contact) == []
    assert Access.objects.filter(contact=contact).count() == 2  # history stays


def test_a_revoked_offer_can_be_granted_again_as_a_new_access(in_site, offer, commit):
    contact = ContactFactory(site=in_site)
    access_services.revoke_access(
        in_site, access=access_services.grant_offer(in_site, offer=offer, contact=contact)
    )
    OutboundEmail.objects.all().delete()
    again = access_services.grant_offer(in_site, offer=offer, contact=contact)
    assert again is not None
    assert is_customer(contact)
    assert sent_kinds(contact) == ["member_welcome", "offer_grant_confirmation"]  # not a customer just before


def test_an_archived_offer_cannot_be_granted(in_site, offer):
    catalog.archive_offer(in_site, offer=offer)
    with pytest.raises(GrantError, match="archived"):
        access_services.grant_offer(in_site, offer=offer, contact=ContactFactory(site=in_site))


def test_another_sites_contact_cannot_be_granted(in_site, offer, other_site):
    with pytest.raises(GrantError, match="another site"):
        access_services.grant_offer(in_site, offer=offer, contact=ContactFactory(site=other_site))


def test_deleting_a_customer_deletes_their_accesses(in_site, offer, commit):
    contact = ContactFactory(site=in_site)
    access_services.grant_offer(in_site, offer=offer, contact=contact)
    contacts.delete_contact(in_site, contact=contact)
    assert not Access.objects.exists()


def test_a_grant_job_that_stops_unexpectedly_says_so_instead_of_running_forever(in_site, offer, monkeypatch):
    from audience.services import grant_jobs
    from offers.models import JobStatus

    ContactFactory(site=in_site)
    job = grant_jobs.start_grant_job(in_site, offer=offer, target={"segment": "all"}, queue=False)

    def database_gone(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(grant_jobs, "record_events", database_gone)
    with pytest.raises(RuntimeError):
        grant_jobs.run_grant_job(in_site, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors[-1]["reason"] == "The job stopped: RuntimeError: connection lost"
