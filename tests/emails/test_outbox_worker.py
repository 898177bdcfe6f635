"""The outbox with a real worker on Redis: a worker killed in the middle of sending neither loses nor
duplicates the email (DESIGN §2)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.services import send_automated
from tests.factories import ContactFactory, SiteFactory
from tests.support.live_worker import (
    SmtpSink,
    Worker,
    broker_client,
    wait_for,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def status_of(email):
    with scopes_disabled():
        row = OutboundEmail.objects.get(pk=email.pk)
    return row.status, row.attempts


def test_a_worker_killed_mid_send_neither_loses_nor_duplicates_the_email():
    site = SiteFactory()
    contact = ContactFactory(site=site, email="ana@example.com")
    broker = broker_client()
    with SmtpSink() as sink:
        sink.hold.set()  # the SMTP server keeps the worker waiting in the middle of the conversation
        worker = Worker(smtp_port=sink.port).start()
        try:
            with scope(site=site), transaction.atomic():  # queued after commit, to the real broker
                email = send_automated(
                    site,
                    kind=EmailKind.DOUBLE_OPT_IN,
                    contact=contact,
                    context={"confirm_url": "https://x.test/c/1/"},
                    dedupe_key="crash-test",
                )
            assert sink.held.wait(60), f"the worker never reached the SMTP server ({worker.log.name})"
            worker.kill()
        finally:
            worker.stop()
        sink.hold.clear()
        # The killed worker's transaction died with its connection: the email is still queued, unsent.
        assert status_of(email) == (EmailStatus.QUEUED, 0)
        assert sink.messages == []

        with scopes_disabled():  # it has waited long enough for the sweep to take it
            OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
        worker = Worker(smtp_port=sink.port).start()
        try:
            broker.send_task("emails.tasks.requeue_stale_emails")
            assert wait_for(lambda: status_of(email)[0] == EmailStatus.SENT, timeout=60)
            broker.send_task("emails.tasks.send_email", args=[site.pk, email.pk])  # a duplicate message
            broker.send_task("emails.tasks.requeue_stale_emails")
            assert not wait_for(lambda: len(sink.messages) > 1, timeout=3)
        finally:
            worker.stop()
    assert len(sink.messages) == 1
    with scopes_disabled():
        sent = OutboundEmail.objects.get(pk=email.pk)
    assert sink.messages[0]["Message-ID"] == sent.message_id
    assert sink.messages[0]["To"] == "ana@example.com"
