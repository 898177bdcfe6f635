"""Personal data: deleting a contact erases their personal data everywhere — events keep
only an anonymous id and the site's figures stay right — and a contact's data export answers an
access request."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from activity.models import ActivityEvent, ActivityKind
from activity.services import NewEvent, record_events
from audience.services.grant_jobs import run_grant_job, start_grant_job
from contacts import services
from contacts.models import ConsentEvent, ConsentSource, Contact, ContactTag, DeliveryEvent
from emails.models import EmailStatus, OutboundEmail
from offers.models import Access, GrantJob, Purchase
from offers.services.access import record_purchase
from offers.services.catalog import create_offer
from tests.factories import ContactFactory
from usage.selectors.active_customers import active_customers_on

PAPER = services.Consent(source=ConsentSource.TEAM, note="Signed up on paper")


@pytest.fixture
def lea(site):
    """A buyer with a history in every room: consent, tags, a purchase, emails, activity, a bounce."""
    with scope(site=site):
        offer = create_offer(site, title="Yoga Basics", price=49)
        result = record_purchase(
            site,
            offer=offer,
            email="Lea@Example.net",
            name="Lea",
            amount=Decimal("49"),
            currency="USD",
            idempotency_key="order-1",
        )
        contact = result.purchase.contact
        services.subscribe(site, contact=contact, by=PAPER)
        services.add_tags(site, contact=contact, names=["VIP"])
        record_events(
            site,
            [
                NewEvent(
                    contact=contact,
                    kind=ActivityKind.LOGIN,
                    occurred_at=timezone.now(),
                    details={"ip": "203.0.113.9"},
                )
            ],
        )
        DeliveryEvent.objects.create(
            site=site,
            provider="postmark",
            event_type="bounced",
            recipient="lea@example.net",
            raw={"Email": "lea@example.net"},
        )
        job = start_grant_job(
            site, offer=offer, target={"emails": ["LEA@example.net", "max@example.net"]}, queue=False
        )
        run_grant_job(site, job=job)
        return Contact.objects.get(pk=contact.pk)


def test_deleting_a_contact_erases_their_personal_data_everywhere(site, lea):
    with scope(site=site):
        active_before = active_customers_on(site, site.today())
        services.delete_contact(site, contact=lea)
        assert not Contact.objects.filter(email__lower="lea@example.net").exists()
        assert not ConsentEvent.objects.exists()
        assert not ContactTag.objects.exists()
        assert not DeliveryEvent.objects.exists()
        assert not Access.objects.filter(contact__email__lower="lea@example.net").exists()
        purchase = Purchase.objects.get()
        assert (purchase.email, purchase.contact_id, purchase.amount) == ("", None, Decimal("49.00"))
        emails = OutboundEmail.objects.exclude(to_email="max@example.net")
        assert [e.kind for e in emails] == ["purchase_confirmation"]
        assert [(e.to_email, e.context, e.contact_id) for e in emails] == [("", {}, None)]
        job = GrantJob.objects.get()
        assert "lea" not in str(job.target).lower() + str(job.skips).lower() + str(job.errors).lower()
        assert "max@example.net" in job.target["emails"]
        events = ActivityEvent.objects.exclude(contact__email="max@example.net").order_by("id")
        assert [(e.kind, e.contact_id, e.details) for e in events] == [
            ("purchased", None, {}),
            ("login", None, {}),
        ]
        assert len({e.anonymous_id for e in events}) == 1
        assert len(events[0].anonymous_id) == 32
        # The deleted customer is no longer a customer: today's count drops by exactly them.
        assert active_customers_on(site, site.today()) == active_before - 1


def test_a_deleted_contacts_queued_emails_are_not_sent(site):
    with scope(site=site):
        contact = ContactFactory(site=site, email="noa@example.net")
        OutboundEmail.objects.create(
            site=site, kind="member_welcome", contact=contact, to_email=contact.email, dedupe_key="k1"
        )
        services.delete_contact(site, contact=contact)
        email = OutboundEmail.objects.get()
        assert (email.status, email.to_email) == (EmailStatus.SUPPRESSED, "")
        assert email.error == "Not sent: the contact was deleted."


def test_deleting_leaves_another_sites_contact_of_the_same_email_alone(site, other_site, lea):
    with scope(site=other_site):
        theirs = ContactFactory(site=other_site, email="lea@example.net")
        OutboundEmail.objects.create(
            site=other_site, kind="member_welcome", contact=theirs, to_email=theirs.email, dedupe_key="k1"
        )
    with scope(site=site):
        services.delete_contact(site, contact=lea)
    with scopes_disabled():
        assert OutboundEmail.objects.get(site=other_site).to_email == "lea@example.net"
        assert Contact.objects.filter(site=other_site, email="lea@example.net").exists()


def test_the_data_export_holds_everything_the_site_knows_of_them(as_user, admin, site, lea):
    response = as_user(admin).get(f"/api/v1/sites/{site.slug}/contacts/{lea.pk}/personal-data/")
    assert response.status_code == 200
    data = response.json()
    assert data["contact"]["email"] == "Lea@Example.net"
    assert data["tags"] == ["VIP"]
    assert [e["note"] for e in data["consent_events"]][-1] == "Signed up on paper"
    assert [p["offer__title"] for p in data["offers"]["purchases"]] == ["Yoga Basics"]
    assert [a["source"] for a in data["offers"]["accesses"]] == ["purchase"]
    assert {e["kind"] for e in data["emails"]} >= {"purchase_confirmation"}
    assert [e["kind"] for e in data["activity"]] == ["purchased", "login"]


def test_the_data_export_page_downloads_json(client, admin, site, lea):
    client.force_login(admin)
    response = client.get(f"/app/{site.slug}/contacts/{lea.pk}/personal-data/")
    assert response["Content-Disposition"] == f'attachment; filename="{site.slug}-contact-{lea.pk}.json"'
    assert response.json()["contact"]["name"] == "Lea"


def test_an_assistant_may_not_export_a_contacts_data(as_user, assistant, client, site, lea):
    assert (
        as_user(assistant).get(f"/api/v1/sites/{site.slug}/contacts/{lea.pk}/personal-data/").status_code
        == 403
    )
    client.force_login(assistant)
    assert client.get(f"/app/{site.slug}/contacts/{lea.pk}/personal-data/").status_code == 403


def test_another_sites_contact_cannot_be_exported(as_user, other_owner, client, site, lea):
    assert (
        as_user(other_owner).get(f"/api/v1/sites/{site.slug}/contacts/{lea.pk}/personal-data/").status_code
        == 404
    )
    client.force_login(other_owner)
    assert client.get(f"/app/{site.slug}/contacts/{lea.pk}/personal-data/").status_code == 404
