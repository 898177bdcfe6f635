"""The public sign-up form at /f/<site>/<form>/ — what it shows, what a submission does to the
contact and their consent, and how it refuses bots, floods, forged posts and other sites' addresses."""

import html
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from contacts import services
from contacts.models import ConsentEvent, ConsentSource, Contact, FormSubmission
from emails.models import EmailKind, OutboundEmail
from tests.factories import ContactFactory, FormFactory

TEAM = services.Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop")


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newsletter(site):
    return FormFactory(site=site, name="Weekly practice notes", slug="newsletter", tag_names=["newsletter"])


def form_url(site, form):
    return reverse("public-form", args=[site.slug, form.slug])


def text(response) -> str:
    return html.unescape(response.content.decode())


def contact_of(site, email):
    with scope(site=site):
        return Contact.objects.filter(email__lower=email.lower()).first()


def status(site, email):
    contact = contact_of(site, email)
    return contact.subscription_status, contact.unsubscribe_reason


def consent_events(site, contact):
    with scope(site=site):
        return [
            (e.from_status, e.to_status, e.source)
            for e in ConsentEvent.objects.filter(contact=contact).order_by("occurred_at", "id")
        ]


def test_the_form_page_is_a_clean_standalone_page_with_email_name_honeypot_and_csrf(client, site, newsletter):
    response = client.get(form_url(site, newsletter))
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Weekly practice notes</h1>" in page
    assert "Ana's Yoga Studio" in page
    assert 'name="email"' in page
    assert 'name="name"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<main id="main"' in page
    assert page.count("<h1") == 1
    honeypot = page[page.index('name="website"') - 200 : page.index('name="website"') + 200]
    assert 'tabindex="-1"' in honeypot
    assert 'autocomplete="off"' in honeypot
    assert 'aria-hidden="true"' in honeypot


def test_a_form_that_does_not_ask_the_name_has_no_name_field(client, site):
    form = FormFactory(site=site, ask_name=False)
    page = text(client.get(form_url(site, form)))
    assert 'name="email"' in page
    assert 'name="name"' not in page


def test_the_public_form_shows_no_dashboard_chrome_even_to_a_logged_in_team_member(
    client, site, owner, newsletter
):
    for _ in range(2):
        page = text(client.get(form_url(site, newsletter)))
        assert "Log out" not in page
        assert 'href="/app/' not in page
        assert "Switch site" not in page
        client.force_login(owner)


def test_a_double_opt_in_form_makes_the_contact_pending_and_sends_one_confirmation_email(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form_url(site, newsletter),
            {"email": "Mia@Example.com", "name": "Mia"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_USER_AGENT="Mozilla/5.0 (Test)",
        )
    assert response.status_code == 200
    assert "Check your inbox to confirm" in text(response)
    contact = contact_of(site, "mia@example.com")
    assert contact.email == "Mia@Example.com"
    assert contact.name == "Mia"
    assert (contact.subscription_status, contact.is_subscriber) == ("pending", False)
    assert [m.to for m in mailoutbox] == [["Mia@Example.com"]]
    assert mailoutbox[0].subject == "Please confirm your subscription to Ana's Yoga Studio"
    assert "/c/" in mailoutbox[0].body
    with scope(site=site):
        submission = FormSubmission.objects.get(contact=contact)
        event = ConsentEvent.objects.get(contact=contact)
    assert (submission.form_id, submission.ip, submission.user_agent) == (
        newsletter.pk,
        "203.0.113.7",
        "Mozilla/5.0 (Test)",
    )
    assert (event.from_status, event.to_status, event.source, event.form_id, event.ip) == (
        "never_subscribed",
        "pending",
        "form",
        newsletter.pk,
        "203.0.113.7",
    )


def test_a_form_without_double_opt_in_subscribes_at_once_and_sends_no_email(
    client, site, mailoutbox, django_capture_on_commit_callbacks
):
    form = FormFactory(site=site, double_opt_in=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(site, form), {"email": "leo@example.com"})
    assert response.status_code == 200
    assert "You're subscribed" in text(response)
    assert status(site, "leo@example.com") == ("subscribed", None)
    assert consent_events(site, contact_of(site, "leo@example.com")) == [
        ("never_subscribed", "subscribed", "form")
    ]
    assert mailoutbox == []


def test_the_forms_success_message_is_shown_after_a_sign_up_without_double_opt_in(client, site):
    form = FormFactory(site=site, double_opt_in=False, success_message="Namaste! See you on the mat.")
    response = client.post(form_url(site, form), {"email": "leo@example.com"})
    assert response.status_code == 200
    assert "Namaste! See you on the mat." in text(response)


def test_a_form_with_a_redirect_url_sends_people_there_after_signing_up(client, site):
    form = FormFactory(site=site, redirect_url="https://ana-yoga.example/thank-you")
    response = client.post(form_url(site, form), {"email": "leo@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "https://ana-yoga.example/thank-you"
    assert status(site, "leo@example.com") == ("pending", None)


def test_an_already_subscribed_contact_stays_subscribed_and_gets_no_email(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.subscribe(site, contact=contact, by=TEAM)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(site, newsletter), {"email": "ANA@example.com"})
    assert response.status_code == 200
    assert "Check your inbox" in text(response)  # the same answer as for anyone: no address is confirmed
    assert status(site, "ana@example.com") == ("subscribed", None)
    assert consent_events(site, contact) == [("never_subscribed", "subscribed", "team")]
    assert mailoutbox == []


def test_a_contact_who_opted_out_gets_the_resubscription_email_and_stays_unsubscribed(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.unsubscribe(
            site, contact=contact, reason="opted_out", by=services.Consent(source=ConsentSource.LINK)
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(site, newsletter), {"email": "ana@example.com"})
    assert "Check your inbox to confirm" in text(response)
    assert status(site, "ana@example.com") == ("unsubscribed", "opted_out")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Confirm to receive emails from Ana's Yoga Studio again"
    with scope(site=site):
        assert list(OutboundEmail.objects.values_list("kind", flat=True)) == [EmailKind.RESUBSCRIPTION]


def test_a_second_submission_the_same_day_sends_no_second_confirmation_email(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(form_url(site, newsletter), {"email": "mia@example.com"})
        assert "Check your inbox to confirm" in text(response)
    assert len(mailoutbox) == 1
    assert status(site, "mia@example.com") == ("pending", None)
    with scope(site=site):
        assert FormSubmission.objects.count() == 2  # each submission is kept


def test_the_forms_tags_are_added_to_the_contact(client, site):
    form = FormFactory(site=site, tag_names=["newsletter", "Spring retreat"])
    contact = ContactFactory(site=site, email="ana@example.com")
    with scope(site=site):
        services.add_tags(site, contact=contact, names=["vip"])
    client.post(form_url(site, form), {"email": "ana@example.com"})
    with scope(site=site):
        assert {t.name for t in Contact.objects.get(pk=contact.pk).tags.all()} == {
            "newsletter",
            "Spring retreat",
            "vip",
        }


def test_the_name_is_taken_when_the_contact_had_none_and_kept_when_they_had_one(client, site, newsletter):
    ContactFactory(site=site, email="noname@example.com", name="")
    ContactFactory(site=site, email="named@example.com", name="Ana Lima")
    client.post(form_url(site, newsletter), {"email": "noname@example.com", "name": "Mia Souza"})
    client.post(form_url(site, newsletter), {"email": "named@example.com", "name": "Somebody Else"})
    assert contact_of(site, "noname@example.com").name == "Mia Souza"
    assert contact_of(site, "named@example.com").name == "Ana Lima"


def test_a_filled_honeypot_looks_like_a_success_but_keeps_nothing(
    client, site, newsletter, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form_url(site, newsletter), {"email": "bot@example.com", "website": "https://spam.example"}
        )
    assert response.status_code == 200
    assert "Check your inbox to confirm" in text(response)
    with scopes_disabled():
        assert not Contact.objects.exists()
        assert not FormSubmission.objects.exists()
        assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("email", "error"),
    [("not an email", "Enter a valid email address."), ("", "This field is required.")],
)
def test_an_invalid_email_shows_the_form_again_with_the_error_and_keeps_nothing(
    client, site, newsletter, email, error
):
    response = client.post(form_url(site, newsletter), {"email": email, "name": "Mia"})
    assert response.status_code == 400
    page = text(response)
    assert error in page
    assert 'aria-invalid="true"' in page
    assert 'value="Mia"' in page  # what the visitor typed is kept
    with scopes_disabled():
        assert not Contact.objects.exists()


def test_the_eleventh_submission_from_one_address_in_ten_minutes_is_refused_with_retry_after(
    client, site, other_site, newsletter, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    for n in range(10):
        response = client.post(
            form_url(site, newsletter), {"email": f"person{n}@example.com"}, REMOTE_ADDR="203.0.113.7"
        )
        assert response.status_code == 200
    response = client.post(
        form_url(site, newsletter), {"email": "one-more@example.com"}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 600  # the rest of the 10-minute window
    assert "try again" in text(response)
    assert contact_of(site, "one-more@example.com") is None
    # Another address, and the same address on another site, are not affected.
    assert (
        client.post(
            form_url(site, newsletter), {"email": "x@example.com"}, REMOTE_ADDR="198.51.100.1"
        ).status_code
        == 200
    )
    other_form = FormFactory(site=other_site)
    assert (
        client.post(
            form_url(other_site, other_form), {"email": "x@example.com"}, REMOTE_ADDR="203.0.113.7"
        ).status_code
        == 200
    )
    # The page itself still shows; and ten minutes later the address may submit again.
    assert client.get(form_url(site, newsletter), REMOTE_ADDR="203.0.113.7").status_code == 200
    time_machine.shift(timedelta(minutes=10, seconds=10))
    assert (
        client.post(
            form_url(site, newsletter), {"email": "one-more@example.com"}, REMOTE_ADDR="203.0.113.7"
        ).status_code
        == 200
    )


def test_the_form_post_needs_the_csrf_token_of_the_page(site, newsletter):
    browser = Client(enforce_csrf_checks=True)
    forged = browser.post(form_url(site, newsletter), {"email": "mia@example.com"})
    assert forged.status_code == 403
    assert contact_of(site, "mia@example.com") is None
    page = browser.get(form_url(site, newsletter))
    token = page.context["csrf_token"]
    response = browser.post(
        form_url(site, newsletter), {"email": "mia@example.com", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert status(site, "mia@example.com") == ("pending", None)


def test_an_unknown_site_or_form_is_404(client, site, newsletter):
    assert client.get(f"/f/no-such-site/{newsletter.slug}/").status_code == 404
    assert client.post(f"/f/no-such-site/{newsletter.slug}/", {"email": "a@example.com"}).status_code == 404
    response = client.get(f"/f/{site.slug}/no-such-form/")
    assert response.status_code == 404
    assert "There is no form at this address." in text(response)
    assert client.post(f"/f/{site.slug}/no-such-form/", {"email": "a@example.com"}).status_code == 404
    assert contact_of(site, "a@example.com") is None


def test_an_archived_form_is_gone_and_takes_no_sign_ups(client, site, newsletter):
    with scope(site=site):
        services.archive_form(site, form=newsletter)
    response = client.get(form_url(site, newsletter))
    assert response.status_code == 410
    assert "This form no longer takes sign-ups." in text(response)
    assert client.post(form_url(site, newsletter), {"email": "mia@example.com"}).status_code == 410
    assert contact_of(site, "mia@example.com") is None


def test_a_form_of_one_site_is_not_reachable_under_another_sites_slug(client, site, other_site, newsletter):
    url = reverse("public-form", args=[other_site.slug, newsletter.slug])
    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "mia@example.com"}).status_code == 404
    with scopes_disabled():
        assert not Contact.objects.exists()


def test_two_sites_forms_with_the_same_slug_each_sign_up_to_their_own_site(
    client, site, other_site, newsletter
):
    theirs = FormFactory(site=other_site, name="Ben's code letter", slug=newsletter.slug)
    assert "Ben's code letter" in text(client.get(form_url(other_site, theirs)))
    client.post(form_url(other_site, theirs), {"email": "mia@example.com"})
    assert contact_of(other_site, "mia@example.com") is not None
    assert contact_of(site, "mia@example.com") is None


def test_a_single_opt_in_form_answers_alike_whether_or_not_the_address_had_unsubscribed(
    client, site, mailoutbox, django_capture_on_commit_callbacks
):
    """The page must not tell a stranger that an address had unsubscribed: the person gets the
    resubscription email, the page is the one everyone gets."""
    form = FormFactory(site=site, double_opt_in=False)
    gone = ContactFactory(site=site, email="gone@example.com")
    with scope(site=site):
        services.unsubscribe(
            site, contact=gone, reason="opted_out", by=services.Consent(source=ConsentSource.LINK)
        )
    with django_capture_on_commit_callbacks(execute=True):
        for_gone = client.post(form_url(site, form), {"email": "gone@example.com"})
        for_new = client.post(form_url(site, form), {"email": "new@example.com"})
    assert for_gone.status_code == for_new.status_code == 200
    assert text(for_gone) == text(for_new)
    assert "If you had unsubscribed from Ana's Yoga Studio before" in text(for_new)
    assert status(site, "gone@example.com") == ("unsubscribed", "opted_out")
    assert status(site, "new@example.com") == ("subscribed", None)
    assert [message.to for message in mailoutbox] == [["gone@example.com"]]
