"""The API's contact in a page of the contacts API is written out for speed (ContactSerializer.row): it
must be the contact exactly as the API shows it alone, less the explanation."""

from datetime import timedelta

from django.utils import timezone
from django_scopes import scope

from activity.services import NewEvent, record_events
from contacts import services
from contacts.models import ConsentSource, Contact, UnsubscribeReason
from offers.services import access, catalog
from tests.factories import ContactFactory


def test_each_row_of_a_page_is_the_contact_shown_alone(as_user, site, owner):
    with scope(site=site):
        plain = ContactFactory(site=site, name="", fields={})
        customer = ContactFactory(site=site, fields={"plan": "pro", "seats": 3})
        services.change_tags(site, contact=customer, add=["VIP", "beta"])
        for title in ("Course", "Book"):
            offer = catalog.create_offer(site, title=title, price=10)
            access.grant_offer(site, offer=offer, contact=customer, send_grant_email=False)
        record_events(site, [NewEvent(contact=customer, kind="login", occurred_at=timezone.now())])
        gone = ContactFactory(site=site, created_at=timezone.now() - timedelta(days=400))
        services.unsubscribe(
            site,
            contact=gone,
            reason=UnsubscribeReason.OPTED_OUT,
            by=services.Consent(source=ConsentSource.TEAM, note="Asked by email"),
        )
        assert Contact.objects.get(pk=customer.pk).is_customer
    client = as_user(owner)
    rows = client.get(f"/api/v1/sites/{site.slug}/contacts/").json()["results"]
    assert [row["id"] for row in rows] == [customer.pk, plain.pk, gone.pk]
    for row in rows:
        alone = client.get(f"/api/v1/sites/{site.slug}/contacts/{row['id']}/").json()
        alone.pop("explanation")
        assert list(row.items()) == list(alone.items())
    assert sorted(rows[0]["tags"]) == ["VIP", "beta"]
    assert len(rows[0]["offers"]) == 2
    assert rows[0]["is_active_customer"] is True
    assert (rows[2]["subscription_status"], rows[2]["unsubscribe_reason"]) == ("unsubscribed", "opted_out")
