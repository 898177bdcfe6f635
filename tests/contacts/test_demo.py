from io import StringIO

from django.core.management import call_command
from django_scopes import scopes_disabled

from contacts.models import ConsentEvent, Contact, Form
from emails.models import EmailKind, OutboundEmail


def test_the_demo_shows_contacts_in_every_status_with_their_history(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=StringIO())  # idempotent
    with scopes_disabled():
        contacts = Contact.objects.filter(site__slug="ana-yoga")
        statuses = set(contacts.values_list("subscription_status", "unsubscribe_reason"))
        assert statuses == {
            ("subscribed", None),
            ("pending", None),
            ("never_subscribed", None),
            ("unsubscribed", "manual"),
            ("unsubscribed", "opted_out"),
            ("unsubscribed", "bounced"),
            ("unsubscribed", "complained"),
        }
        assert contacts.count() == 12
        assert Form.objects.filter(site__slug="ana-yoga").count() == 2
        assert ConsentEvent.objects.filter(site__slug="ana-yoga", source="webhook").count() == 2
        assert OutboundEmail.objects.filter(kind=EmailKind.DOUBLE_OPT_IN, status="sent").count() == 2
