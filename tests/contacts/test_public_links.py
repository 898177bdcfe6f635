"""The signed links people follow from their emails — the double opt-in / resubscription
confirmation at /c/<token>/ and the unsubscribe link at /u/<token>/ (with RFC 8058 one-click)."""

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from contacts import services, tokens
from contacts.models import ConsentEvent, ConsentSource, Contact
from tests.factories import ContactFactory, FormFactory

TEAM = services.Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop")
FORM = services.Consent(source=ConsentSource.FORM, note="Submitted the form")
LINK = services.Consent(source=ConsentSource.LINK, note="Unsubscribe link")


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newsletter(site):
    return FormFactory(site=site, name="Weekly practice notes", slug="newsletter")


@pytest.fixture
def pending(site, newsletter):
    """A contact waiting to confirm, with their confirmation link."""
    contact = ContactFactory(site=site, email="mia@example.com")
    with scope(site=site):
        services.start_double_opt_in(site, contact=contact, by=FORM)
    return contact


def confirm_url(contact, form=None, *, resubscribe=False):
    return reverse(
        "confirm-subscription", args=[tokens.confirmation_token(contact, form=form, resubscribe=resubscribe)]
    )


def unsubscribe_url(contact):
    return reverse("unsubscribe", args=[tokens.unsubscribe_token(contact)])


def tampered(url):
    """The same link with one character of its signature changed."""
    head, last = url.rstrip("/")[:-1], url.rstrip("/")[-1]
    return f"{head}{'A' if last != 'A' else 'B'}/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def words(response) -> str:
    """The page's text as a person reads it: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split()).replace(" ?", "?")


def status(site, contact):
    with scope(site=site):
        contact = Contact.objects.get(pk=contact.pk)
    return contact.subscription_status, contact.unsubscribe_reason


def consent_events(site, contact):
    with scope(site=site):
        return list(ConsentEvent.objects.filter(contact=contact).order_by("occurred_at", "id"))


def link_in(message, prefix):
    """The path of the first link of the email's text body that starts with `prefix` (e.g. "/c/")."""
    urls = [urlsplit(url) for url in re.findall(r"https?://\S+", message.body)]
    paths = [url.path for url in urls if url.path.startswith(prefix)]
    assert paths, f"no {prefix} link in:\n{message.body}"
    return paths[0]


# -- Confirmation ------------------------------------------------------------------------------------


def test_double_opt_in_round_trip_through_the_link_in_the_email(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("public-form", args=[site.slug, newsletter.slug]),
            {"email": "mia@example.com", "name": "Mia"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_USER_AGENT="Signup browser",
        )
    with scope(site=site):
        contact = Contact.objects.get(email="mia@example.com")
    assert (contact.subscription_status, contact.is_subscriber) == ("pending", False)
    assert len(mailoutbox) == 1
    link = link_in(mailoutbox[0], "/c/")

    # Opening the link (as a mail scanner does) changes nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert "Ana's Yoga Studio" in text(page)
    assert "Confirm my subscription" in text(page)
    assert status(site, contact) == ("pending", None)
    assert len(consent_events(site, contact)) == 1

    # Pressing the button subscribes.
    response = client.post(link, REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="Confirm browser")
    assert response.status_code == 200
    assert "You're subscribed to Ana's Yoga Studio" in text(response)
    assert status(site, contact) == ("subscribed", None)
    events = consent_events(site, contact)
    assert [(e.from_status, e.to_status, e.source, e.ip, e.user_agent) for e in events] == [
        ("never_subscribed", "pending", "form", "203.0.113.7", "Signup browser"),
        ("pending", "subscribed", "link", "198.51.100.9", "Confirm browser"),
    ]
    assert events[1].form_id == newsletter.pk
    assert len(mailoutbox) == 1  # confirming sends nothing

    # Pressing it again changes nothing more.
    assert client.post(link).status_code == 200
    assert len(consent_events(site, contact)) == 2


def test_an_opted_out_contact_who_signs_up_again_is_subscribed_only_once_they_confirm(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.unsubscribe(site, contact=contact, reason="opted_out", by=LINK)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("public-form", args=[site.slug, newsletter.slug]), {"email": "ana@example.com"})
    assert status(site, contact) == ("unsubscribed", "opted_out")
    assert [m.subject for m in mailoutbox] == ["Confirm to receive emails from Ana's Yoga Studio again"]
    link = link_in(mailoutbox[0], "/c/")
    assert client.get(link).status_code == 200
    assert status(site, contact) == ("unsubscribed", "opted_out")
    response = client.post(link)
    assert response.status_code == 200
    assert status(site, contact) == ("subscribed", None)
    last = consent_events(site, contact)[-1]
    assert (last.from_status, last.to_status, last.source, last.note) == (
        "unsubscribed",
        "subscribed",
        "link",
        "Confirmed the resubscription email",
    )


def test_the_confirmation_post_needs_the_csrf_token_of_the_page(site, newsletter, pending):
    browser = Client(enforce_csrf_checks=True)
    url = confirm_url(pending, newsletter)
    assert browser.post(url).status_code == 403
    assert status(site, pending) == ("pending", None)
    token = browser.get(url).context["csrf_token"]
    assert browser.post(url, {"csrfmiddlewaretoken": token}).status_code == 200
    assert status(site, pending) == ("subscribed", None)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_confirmation_link_is_400_and_changes_nothing(client, site, newsletter, pending, method):
    response = getattr(client, method)(tampered(confirm_url(pending, newsletter)))
    assert response.status_code == 400
    assert "This confirmation link is not valid" in text(response)
    assert status(site, pending) == ("pending", None)
    assert client.get("/c/not-a-token/").status_code == 400


def test_an_expired_confirmation_link_is_400_and_the_contact_stays_pending(
    client, site, newsletter, pending, time_machine
):
    url = confirm_url(pending, newsletter)
    time_machine.move_to(timezone.now() + timedelta(days=8))
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 400
        assert "This confirmation link has expired" in text(response)
    assert status(site, pending) == ("pending", None)


def test_a_confirmation_link_after_an_unsubscribe_is_gone_and_changes_nothing(
    client, site, newsletter, pending
):
    url = confirm_url(pending, newsletter)
    with scope(site=site):
        services.unsubscribe(site, contact=pending, reason="opted_out", by=LINK)
    response = client.post(url)
    assert response.status_code == 410
    assert "You unsubscribed after this link was sent" in text(response)
    assert status(site, pending) == ("unsubscribed", "opted_out")


def test_a_confirmation_link_of_a_deleted_contact_is_gone(client, site, newsletter, pending):
    url = confirm_url(pending, newsletter)
    with scope(site=site):
        services.delete_contact(site, contact=pending)
    response = client.post(url)
    assert response.status_code == 410
    assert "This contact no longer exists." in text(response)


def test_a_confirmation_token_naming_another_sites_contact_reaches_nothing(
    client, site, other_site, newsletter, pending
):
    """A genuinely signed token whose site is not the contact's: the lookup runs in the token's site's
    scope, so the contact of the other site is not found and stays as it was."""
    forged = signing.TimestampSigner(salt=tokens.CONFIRM_SALT).sign_object(
        {"s": other_site.pk, "c": pending.pk, "f": None, "r": 0}, compress=True
    )
    response = client.post(reverse("confirm-subscription", args=[forged]))
    assert response.status_code == 410
    assert status(site, pending) == ("pending", None)


def test_an_old_resubscription_link_does_not_undo_a_later_unsubscribe(client, site, newsletter):
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.unsubscribe(site, contact=contact, reason="opted_out", by=LINK)
    url = confirm_url(contact, newsletter, resubscribe=True)  # sent when Ana signed up again
    assert client.post(url).status_code == 200
    assert status(site, contact) == ("subscribed", None)
    assert client.post(unsubscribe_url(contact)).status_code == 200  # then she changed her mind
    response = client.post(url)  # the old email's button, pressed again (or by whoever has the email)
    assert response.status_code == 410
    assert status(site, contact) == ("unsubscribed", "opted_out")


# -- Unsubscribe -------------------------------------------------------------------------------------


@pytest.fixture
def subscriber(site):
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.subscribe(site, contact=contact, by=TEAM)
    return contact


def test_opening_the_unsubscribe_link_asks_and_changes_nothing(client, site, subscriber):
    response = client.get(unsubscribe_url(subscriber))
    assert response.status_code == 200
    assert "Unsubscribe ana@example.com from Ana's Yoga Studio's emails?" in words(response)
    assert status(site, subscriber) == ("subscribed", None)


def test_the_unsubscribe_button_unsubscribes_with_reason_opted_out_by_link(client, site, subscriber):
    response = client.post(
        unsubscribe_url(subscriber), REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (Test)"
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in text(response)
    assert status(site, subscriber) == ("unsubscribed", "opted_out")
    last = consent_events(site, subscriber)[-1]
    assert (last.from_status, last.to_status, last.to_reason, last.source, last.note, last.ip) == (
        "subscribed",
        "unsubscribed",
        "opted_out",
        "link",
        "Unsubscribe link",
        "203.0.113.7",
    )
    assert last.user_agent == "Mozilla/5.0 (Test)"


def test_rfc8058_one_click_unsubscribe_works_without_csrf_token_or_cookies(site, subscriber):
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        unsubscribe_url(subscriber),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert status(site, subscriber) == ("unsubscribed", "opted_out")
    last = consent_events(site, subscriber)[-1]
    assert (last.source, last.to_reason) == ("link", "opted_out")
    assert "one-click" in last.note


def test_an_already_unsubscribed_contact_gets_a_friendly_page_and_no_new_consent_event(
    client, site, subscriber
):
    client.post(unsubscribe_url(subscriber))
    before = len(consent_events(site, subscriber))
    for response in (client.get(unsubscribe_url(subscriber)), client.post(unsubscribe_url(subscriber))):
        assert response.status_code == 200
        assert "You are unsubscribed" in text(response)
    assert len(consent_events(site, subscriber)) == before
    assert status(site, subscriber) == ("unsubscribed", "opted_out")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_link_is_400_and_changes_nothing(client, site, subscriber, method):
    response = getattr(client, method)(tampered(unsubscribe_url(subscriber)))
    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in text(response)
    assert status(site, subscriber) == ("subscribed", None)


def test_an_unsubscribe_link_of_a_deleted_contact_is_404_and_says_so(client, site, subscriber):
    url = unsubscribe_url(subscriber)
    with scope(site=site):
        services.delete_contact(site, contact=subscriber)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 404
        assert "This contact no longer exists" in text(response)


def test_an_unsubscribe_link_reaches_only_its_own_sites_contact(client, site, other_site, subscriber):
    theirs = ContactFactory(site=other_site, email="ana@example.com")
    with scope(site=other_site):
        services.subscribe(other_site, contact=theirs, by=TEAM)
    assert client.post(unsubscribe_url(subscriber)).status_code == 200
    assert status(site, subscriber) == ("unsubscribed", "opted_out")
    assert status(other_site, theirs) == ("subscribed", None)  # the same person on another site

    # A genuinely signed token naming this site's contact under the other site's id reaches nothing.
    forged = signing.Signer(salt=tokens.UNSUBSCRIBE_SALT).sign_object(
        {"s": other_site.pk, "c": subscriber.pk}
    )
    with scope(site=site):
        services.subscribe(site, contact=subscriber, by=services.Consent(source=ConsentSource.LINK))
    response = client.post(reverse("unsubscribe", args=[forged]))
    assert response.status_code == 404
    assert status(site, subscriber) == ("subscribed", None)
    assert status(other_site, theirs) == ("subscribed", None)


def test_the_public_link_pages_show_no_dashboard_chrome(client, site, owner, newsletter, subscriber):
    client.force_login(owner)
    for url in (confirm_url(subscriber, newsletter), unsubscribe_url(subscriber)):
        page = text(client.get(url))
        assert "Log out" not in page
        assert 'href="/app/' not in page
        assert page.count("<h1") == 1
        assert '<main id="main"' in page
