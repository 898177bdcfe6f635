"""The subscription status state machine, each change recorded as a consent event."""

import pytest
from django_scopes import scope

from contacts import services, tokens
from contacts.errors import ConsentError, ContactError
from contacts.models import ConsentEvent, ConsentSource, Contact, UnsubscribeReason
from contacts.services import Consent
from tests.factories import ContactFactory, FormFactory

TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop")
FORM = Consent(source=ConsentSource.FORM, note="Submitted the form")


@pytest.fixture
def in_site(site):
    with scope(site=site):
        yield site


def status(contact):
    contact = Contact.objects.get(pk=contact.pk)
    return contact.subscription_status, contact.unsubscribe_reason


def events(contact):
    return [
        (e.from_status, e.to_status, e.to_reason, e.source)
        for e in ConsentEvent.objects.filter(contact=contact).order_by("occurred_at", "id")
    ]


def test_a_contact_added_by_hand_has_never_subscribed(in_site):
    contact = services.create_contact(in_site, email="Ana@Example.com", name="Ana")
    assert status(contact) == ("never_subscribed", None)
    assert contact.email == "Ana@Example.com"  # stored as given
    assert not contact.is_subscriber


def test_one_contact_per_email_per_site_whatever_the_case(in_site, other_site):
    services.create_contact(in_site, email="ana@example.com")
    with pytest.raises(ContactError, match="exists already"):
        services.create_contact(in_site, email="ANA@example.com")
    with scope(site=other_site):
        services.create_contact(other_site, email="ana@example.com")  # another site may have them too


def test_an_invalid_email_is_refused(in_site):
    with pytest.raises(ContactError, match="valid email") as error:
        services.create_contact(in_site, email="not an email")
    assert error.value.field == "email"


def test_the_team_subscribes_with_a_stated_consent_and_the_event_records_it(in_site, owner):
    contact = ContactFactory(site=in_site)
    services.subscribe(
        in_site, contact=contact, by=Consent(source=ConsentSource.TEAM, note="Workshop", user=owner)
    )
    assert status(contact) == ("subscribed", None)
    event = ConsentEvent.objects.get(contact=contact)
    assert (event.from_status, event.to_status, event.actor_user, event.note) == (
        "never_subscribed",
        "subscribed",
        owner,
        "Workshop",
    )


def test_the_team_must_say_how_consent_was_given(in_site):
    contact = ContactFactory(site=in_site)
    with pytest.raises(ConsentError, match="how this person gave consent"):
        services.subscribe(in_site, contact=contact, by=Consent(source=ConsentSource.TEAM))
    assert status(contact) == ("never_subscribed", None)
    assert events(contact) == []


@pytest.mark.parametrize("reason", ["opted_out", "bounced", "complained"])
def test_nobody_but_the_contact_resubscribes_someone_who_unsubscribed(in_site, reason):
    contact = ContactFactory(site=in_site)
    services.unsubscribe(in_site, contact=contact, reason=reason, by=FORM)
    for source in (ConsentSource.TEAM, ConsentSource.API, ConsentSource.IMPORT, ConsentSource.FORM):
        with pytest.raises(ConsentError, match="only they can subscribe again"):
            services.subscribe(in_site, contact=contact, by=Consent(source=source, note="x"))
    assert status(contact) == ("unsubscribed", reason)


def test_the_team_may_undo_its_own_manual_unsubscribe(in_site):
    contact = ContactFactory(site=in_site)
    services.unsubscribe(in_site, contact=contact, reason="manual", by=TEAM)
    services.subscribe(in_site, contact=contact, by=TEAM)
    assert status(contact) == ("subscribed", None)


def test_the_contacts_own_confirmed_link_resubscribes(in_site):
    form = FormFactory(site=in_site)
    contact = ContactFactory(site=in_site)
    services.unsubscribe(in_site, contact=contact, reason="opted_out", by=FORM)
    token = tokens.confirmation_token(contact, form=form, resubscribe=True)
    services.confirm_subscription(in_site, confirmation=tokens.read_confirmation_token(token))
    assert status(contact) == ("subscribed", None)
    assert events(contact)[-1] == ("unsubscribed", "subscribed", None, "link")


def test_an_old_opt_in_link_does_not_undo_a_later_unsubscribe(in_site):
    form = FormFactory(site=in_site)
    contact = ContactFactory(site=in_site)
    services.start_double_opt_in(in_site, contact=contact, by=FORM)
    token = tokens.confirmation_token(contact, form=form, resubscribe=False)
    services.unsubscribe(in_site, contact=contact, reason="opted_out", by=FORM)
    with pytest.raises(ConsentError, match="unsubscribed after this link"):
        services.confirm_subscription(in_site, confirmation=tokens.read_confirmation_token(token))
    assert status(contact) == ("unsubscribed", "opted_out")


def test_import_never_resubscribes_and_never_lowers(in_site):
    imported = Consent(source=ConsentSource.IMPORT, note="Import: Subscribe to marketing emails")
    never, pending, subscribed, gone = (ContactFactory(site=in_site) for _ in range(4))
    services.start_double_opt_in(in_site, contact=pending, by=FORM)
    services.subscribe(in_site, contact=subscribed, by=TEAM)
    services.unsubscribe(in_site, contact=gone, reason="opted_out", by=FORM)
    changed = [
        services.raise_to_subscribed(in_site, contact=c, by=imported)
        for c in (never, pending, subscribed, gone)
    ]
    assert changed == [True, True, False, False]
    assert [status(c) for c in (never, pending, subscribed, gone)] == [
        ("subscribed", None),
        ("subscribed", None),
        ("subscribed", None),
        ("unsubscribed", "opted_out"),
    ]


def test_a_hard_bounce_after_an_opt_out_is_remembered_but_a_manual_one_is_not_lowered(in_site):
    contact = ContactFactory(site=in_site)
    services.unsubscribe(in_site, contact=contact, reason="opted_out", by=FORM)
    services.unsubscribe(in_site, contact=contact, reason="manual", by=TEAM)
    assert status(contact) == ("unsubscribed", "opted_out")
    services.unsubscribe(in_site, contact=contact, reason="bounced", by=Consent(source=ConsentSource.WEBHOOK))
    assert status(contact) == ("unsubscribed", "bounced")
    assert Contact.objects.get(pk=contact.pk).is_suppressed
    assert [e[2] for e in events(contact)] == ["opted_out", "bounced"]


def test_the_database_refuses_a_reason_without_unsubscribed(in_site):
    from django.db import IntegrityError, transaction

    contact = ContactFactory(site=in_site)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(unsubscribe_reason=UnsubscribeReason.MANUAL)
