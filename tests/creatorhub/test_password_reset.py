"""Dashboard password reset (docs/security.md, "Dashboard accounts"): a team member asks
for a link by email; the link is signed, works once, expires, logs them in and lifts the account's login
limits, so a stranger's failed guesses never keep the owner out for good. The page answers alike for every
address."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from creatorhub import tasks
from creatorhub.login import KNOWN_DEVICE_COOKIE
from tests.factories import PASSWORD, UserFactory

HOME = "203.0.113.7"
NEW_PASSWORD = "a-brand-new-lantern-73"


@pytest.fixture
def ask_for_reset(django_capture_on_commit_callbacks):
    """Posts the reset page's form; the email is queued when the request commits (the task runs eagerly)."""

    def ask(client, email, address=HOME):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password-reset"), {"email": email}, REMOTE_ADDR=address)

    return ask


def reset_path(mailoutbox) -> str:
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/", mailoutbox[0].body).group(0)
    return "/" + link.split("/", 3)[3]


def set_password(client, path, password=NEW_PASSWORD):
    """Follows the emailed link (which moves the token out of the address) and sets the password."""
    form = client.get(path)
    assert form.status_code == 302, form.content.decode()
    return client.post(form["Location"], {"new_password1": password, "new_password2": password})


def log_in(client, email, password, address=HOME):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_login_page_offers_the_reset(client, db):
    assert f'href="{reverse("password-reset")}"' in client.get(reverse("login")).content.decode()
    assert "Reset your password" in text(client.get(reverse("password-reset")))


def test_a_team_member_gets_a_link_that_sets_a_new_password_and_logs_them_in(
    ask_for_reset, client, site, owner, mailoutbox
):
    response = ask_for_reset(client, owner.email.upper())

    assert response.status_code == 200
    assert f"If a CreatorHub account exists for {owner.email.upper()} , we sent it a link" in text(response)
    assert mailoutbox[0].to == [owner.email]
    assert mailoutbox[0].subject == "Reset your CreatorHub password"
    assert "works once, for 60 minutes" in mailoutbox[0].body
    path = reset_path(mailoutbox)
    assert "Choose a new password" in text(Client().get(path, follow=True))
    response = set_password(client, path)
    assert response.status_code == 302
    assert response["Location"] == reverse("app-home")
    assert client.get(f"/app/{site.slug}/").status_code == 200  # logged in
    assert KNOWN_DEVICE_COOKIE in response.cookies  # this browser is known for the account now
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_the_reset_email_is_made_by_the_worker_from_ids_only(ask_for_reset, client, owner):
    with mock.patch.object(tasks.send_password_reset_email, "delay") as delay:
        ask_for_reset(client, owner.email)

    delay.assert_called_once_with(owner.pk)  # no token in the Celery message


def test_the_link_works_once(ask_for_reset, client, owner, mailoutbox):
    ask_for_reset(client, owner.email)
    path = reset_path(mailoutbox)
    assert set_password(client, path).status_code == 302

    again = Client().get(path)

    assert again.status_code == 200
    assert "This link no longer works" in text(again)
    assert "It has expired or was already used" in text(again)


def test_a_login_spends_the_link_too(ask_for_reset, client, owner, mailoutbox):
    ask_for_reset(client, owner.email)
    path = reset_path(mailoutbox)
    assert log_in(Client(), owner.email, PASSWORD).status_code == 302

    assert "This link no longer works" in text(client.get(path))


def test_the_link_expires_after_an_hour(ask_for_reset, client, owner, mailoutbox, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ask_for_reset(client, owner.email)
    path = reset_path(mailoutbox)
    time_machine.shift(timedelta(minutes=59))
    assert client.get(path).status_code == 302  # still works

    time_machine.shift(timedelta(minutes=1, seconds=1))

    assert "This link no longer works" in text(client.get(path))
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_forged_or_altered_link_does_not_work(ask_for_reset, client, owner, mailoutbox):
    ask_for_reset(client, owner.email)
    path = reset_path(mailoutbox)
    uid, token = path.rstrip("/").split("/")[-2:]

    for bad in [f"/accounts/password-reset/{uid}/{token[:-1]}x/", f"/accounts/password-reset/Mw/{token}/"]:
        assert "This link no longer works" in text(client.get(bad))


def test_an_unknown_email_gets_the_same_answer_and_nothing_is_sent(ask_for_reset, client, owner, mailoutbox):
    known = ask_for_reset(client, owner.email)
    unknown = ask_for_reset(Client(), "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert text(known).replace(owner.email, "X") == text(unknown).replace("nobody@example.com", "X")
    assert [message.to for message in mailoutbox] == [[owner.email]]


def test_a_deactivated_user_gets_no_link(ask_for_reset, client, db, mailoutbox):
    user = UserFactory(is_active=False)

    assert ask_for_reset(client, user.email).status_code == 200
    assert mailoutbox == []


def test_a_bad_email_or_a_weak_password_is_a_form_error(ask_for_reset, client, owner, mailoutbox):
    response = ask_for_reset(client, "not an email")
    assert response.status_code == 400
    assert "Enter a valid email address." in text(response)

    ask_for_reset(client, owner.email)
    form = client.get(reset_path(mailoutbox))["Location"]
    weak = client.post(form, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert "This password is too short." in text(weak)
    mismatch = client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"})
    assert "The two password fields didn\u2019t match." in text(mismatch)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_reset_logs_out_the_accounts_other_sessions(ask_for_reset, client, owner, mailoutbox):
    elsewhere = Client()
    elsewhere.force_login(owner)
    ask_for_reset(client, owner.email)

    set_password(client, reset_path(mailoutbox))

    assert elsewhere.get(reverse("password"))["Location"].startswith(reverse("login"))


def test_the_reset_lifts_the_lockout_and_the_cap_that_kept_the_owner_out(
    ask_for_reset, client, settings, owner, mailoutbox
):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    # A stranger locks the account at the owner's own address (axes), and uses up its cap from elsewhere.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), owner.email, "wrong")
    for n in range(3):
        log_in(Client(), owner.email, "wrong", address=f"192.0.2.{n}")
    assert log_in(Client(), owner.email, PASSWORD).status_code == 429
    assert log_in(Client(), owner.email, PASSWORD, address="192.0.2.99").status_code == 429

    ask_for_reset(client, owner.email)
    assert set_password(client, reset_path(mailoutbox)).status_code == 302

    assert not AccessAttempt.objects.exists()
    # Any browser of the owner's, at home or elsewhere, gets in with the new password.
    assert log_in(Client(), owner.email, NEW_PASSWORD).status_code == 302
    assert log_in(Client(), owner.email, NEW_PASSWORD, address="192.0.2.99").status_code == 302
