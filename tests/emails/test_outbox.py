"""The outbox: written with its cause, sent once after commit, retried, suppressed, swept."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from contacts import services as contact_services
from contacts.models import ConsentSource
from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.services import MAX_ATTEMPTS, deliver, send_automated
from emails.tasks import requeue_due_emails
from tests.factories import ContactFactory


@pytest.fixture
def contact(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana")


def queue(site, contact, key="k1", kind=EmailKind.DOUBLE_OPT_IN):
    return send_automated(
        site, kind=kind, contact=contact, context={"confirm_url": "https://x.test/c/abc/"}, dedupe_key=key
    )


def row(email):
    with scope(site=email.site):
        return OutboundEmail.objects.get(pk=email.pk)


def test_an_email_is_sent_after_commit_with_a_stable_message_id(
    site, contact, mailoutbox, django_capture_on_commit_callbacks
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=True) as callbacks:
        email = queue(site, contact)
        assert mailoutbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    sent = row(email)
    assert sent.status == EmailStatus.SENT
    assert mailoutbox[0].extra_headers["Message-ID"] == sent.message_id
    assert mailoutbox[0].subject == "Please confirm your subscription to Ana's Yoga Studio"
    assert "https://x.test/c/abc/" in mailoutbox[0].body
    assert mailoutbox[0].alternatives[0][1] == "text/html"


def test_the_same_dedupe_key_twice_is_one_email(
    site, contact, mailoutbox, django_capture_on_commit_callbacks
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=True):
        first = queue(site, contact)
        second = queue(site, contact)
    assert first.pk == second.pk
    assert len(mailoutbox) == 1


def test_an_email_rolled_back_with_its_cause_is_never_sent(
    site, contact, mailoutbox, django_capture_on_commit_callbacks
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                queue(site, contact)
                raise RuntimeError("the cause failed")
        except RuntimeError:
            pass
        assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_a_sent_email_is_not_sent_again(site, contact, mailoutbox, django_capture_on_commit_callbacks):
    with scope(site=site), django_capture_on_commit_callbacks(execute=True):
        email = queue(site, contact)
    with scope(site=site):
        assert deliver(site, email_id=email.pk) == "skipped"
    assert len(mailoutbox) == 1


def test_a_hard_bounced_address_is_suppressed_not_sent(
    site, contact, mailoutbox, django_capture_on_commit_callbacks
):
    with scope(site=site):
        contact_services.unsubscribe(
            site, contact=contact, reason="bounced", by=contact_services.Consent(source=ConsentSource.WEBHOOK)
        )
        with django_capture_on_commit_callbacks(execute=True):
            email = queue(site, contact)
    assert mailoutbox == []
    assert row(email).status == EmailStatus.SUPPRESSED
    assert "hard bounce" in row(email).error


def test_a_transient_error_is_retried_with_back_off_then_given_up(
    site, contact, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=False):
        email = queue(site, contact)
    down = mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("connection lost"),
    )
    waits = []
    with down, scope(site=site):
        for attempt in range(1, MAX_ATTEMPTS):
            assert deliver(site, email_id=email.pk) == "retry"
            retrying = row(email)
            assert (retrying.status, retrying.attempts) == (EmailStatus.QUEUED, attempt)
            assert f"(attempt {attempt} of {MAX_ATTEMPTS}; will retry)" in retrying.error
            assert deliver(site, email_id=email.pk) == "skipped", "not due before its back-off is over"
            waits.append(round((retrying.next_attempt_at - timezone.now()).total_seconds()))
            time_machine.move_to(retrying.next_attempt_at)
        assert deliver(site, email_id=email.pk) == "failed"
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    failed = row(email)
    assert (failed.status, failed.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert "SMTPServerDisconnected: connection lost" in failed.error
    assert mailoutbox == []


def test_the_sweep_retries_when_due_until_the_provider_answers_and_sends_once(
    site, contact, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    answers = iter([smtplib.SMTPServerDisconnected("down"), smtplib.SMTPServerDisconnected("down"), None])

    def send_messages(self, messages):
        error = next(answers)
        if error:
            raise error
        return real(self, messages)

    with mock.patch.object(EmailBackend, "send_messages", send_messages):
        with scope(site=site), django_capture_on_commit_callbacks(execute=True):
            email = queue(site, contact)  # its own task: the first attempt fails
        assert requeue_due_emails() == 0, "the back-off is not over: no new attempt"
        time_machine.move_to(timezone.now() + timedelta(seconds=31))
        assert requeue_due_emails() == 1  # the second attempt fails
        time_machine.move_to(timezone.now() + timedelta(seconds=50))
        assert requeue_due_emails() == 0
        time_machine.move_to(timezone.now() + timedelta(seconds=11))
        assert requeue_due_emails() == 1  # the third is sent
        assert requeue_due_emails() == 0
    assert len(mailoutbox) == 1
    assert (row(email).status, row(email).attempts) == (EmailStatus.SENT, 3)


def test_a_stale_queued_email_is_swept_and_sent_once(
    site, contact, mailoutbox, django_capture_on_commit_callbacks, time_machine
):
    with scope(site=site), django_capture_on_commit_callbacks(execute=False):
        email = queue(site, contact)  # the broker "lost" the task: the callback never ran
    assert requeue_due_emails() == 0  # too recent to be stale
    time_machine.move_to(timezone.now() + timedelta(minutes=3))
    assert requeue_due_emails() == 1
    assert requeue_due_emails() == 0
    assert len(mailoutbox) == 1
    assert row(email).status == EmailStatus.SENT


def test_a_broker_down_at_commit_fails_nothing_and_leaves_the_email_for_the_sweep(
    site, contact, mailoutbox, django_capture_on_commit_callbacks, time_machine, caplog
):
    from kombu.exceptions import OperationalError

    down = mock.patch("emails.tasks.send_email.delay", side_effect=OperationalError("Connection refused"))
    with down, scope(site=site), django_capture_on_commit_callbacks(execute=True):
        email = queue(site, contact)  # the caller (a purchase, a grant) does not fail
    assert "Connection refused" in caplog.text
    assert row(email).status == EmailStatus.QUEUED
    time_machine.move_to(timezone.now() + timedelta(minutes=3))
    assert requeue_due_emails() == 1
    assert len(mailoutbox) == 1


def test_an_email_of_another_sites_contact_is_refused(site, other_site):
    stranger = ContactFactory(site=other_site)
    with scope(site=site), pytest.raises(ValueError, match="another site"):
        queue(site, stranger)


def test_a_stalled_smtp_server_fails_the_attempt_after_email_timeout_and_the_worker_moves_on(
    site, contact, settings, django_capture_on_commit_callbacks
):
    import socket
    import threading
    import time

    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(stalled.accept()), daemon=True).start()  # never answers
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", stalled.getsockname()[1]
    settings.EMAIL_TIMEOUT = 1
    with scope(site=site), django_capture_on_commit_callbacks(execute=False):
        email = queue(site, contact)
    started = time.monotonic()
    try:
        with scope(site=site):
            assert deliver(site, email_id=email.pk) == "retry"
    finally:
        stalled.close()
    assert time.monotonic() - started < 5
    stuck = row(email)
    assert (stuck.status, stuck.attempts) == (EmailStatus.QUEUED, 1)
    assert "timed out" in stuck.error
    assert stuck.next_attempt_at > timezone.now()
