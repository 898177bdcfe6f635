from io import StringIO

from django.core.management import call_command
from django_scopes import scopes_disabled

from contacts.models import Contact
from emails.models import OutboundEmail
from offers.models import Access, LessonCompletion, Offer, Purchase


def test_the_demo_shows_customers_offers_and_their_emails(db, django_capture_on_commit_callbacks):
    for _ in range(2):  # idempotent
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        assert Offer.objects.filter(site__slug="ana-yoga").count() == 3
        assert Offer.objects.filter(archived_at__isnull=False).count() == 1
        assert Purchase.objects.count() == 3
        assert Access.objects.filter(source="grant").count() == 2
        assert Contact.objects.filter(site__slug="ana-yoga", is_customer=True).count() == 5
        assert LessonCompletion.objects.count() == 2
        emails = set(OutboundEmail.objects.values_list("kind", "status"))
    assert {
        ("purchase_confirmation", "sent"),
        ("offer_grant_confirmation", "sent"),
        ("member_welcome", "sent"),
        ("member_welcome", "suppressed"),
    } <= emails
