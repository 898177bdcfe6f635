"""The outbox with a real worker on Redis: a worker killed in the middle of sending neither loses nor
duplicates the email."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.services import send_automated, send_automated_to_many
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
        # The worker had claimed it (one attempt counted) and died before the server accepted it.
        assert status_of(email) == (EmailStatus.QUEUED, 1)
        assert sink.messages == []

        with scopes_disabled():  # its claim has run out: the sweep may take it
            OutboundEmail.objects.filter(pk=email.pk).update(
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )
        worker = Worker(smtp_port=sink.port).start()
        try:
            broker.send_task("emails.tasks.requeue_due_emails")
            assert wait_for(lambda: status_of(email)[0] == EmailStatus.SENT, timeout=60)
            broker.send_task("emails.tasks.send_email", args=[site.pk, email.pk])  # a duplicate message
            broker.send_task("emails.tasks.requeue_due_emails")
            assert not wait_for(lambda: len(sink.messages) > 1, timeout=3)
        finally:
            worker.stop()
    assert len(sink.messages) == 1
    with scopes_disabled():
        sent = OutboundEmail.objects.get(pk=email.pk)
    assert sink.messages[0]["Message-ID"] == sent.message_id
    assert sink.messages[0]["To"] == "ana@example.com"


def bulk_emails(site, count: int) -> list[int]:
    """`count` emails of a grant job (bulk: sent by the site's batches), committed."""
    contacts = [ContactFactory(site=site) for _ in range(count)]
    context = {"offer": {"title": "Course"}, "login_url": "https://x.test/login/"}
    with scope(site=site), transaction.atomic():
        send_automated_to_many(
            site,
            kind=EmailKind.OFFER_GRANT_CONFIRMATION,
            emails=[(contact, context, f"grant:{contact.pk}") for contact in contacts],
        )
        return list(OutboundEmail.objects.values_list("pk", flat=True))


def statuses(ids) -> list[str]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(pk__in=ids).values_list("status", flat=True))


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_sends_nothing_twice():
    site = SiteFactory()
    ids = bulk_emails(site, 12)
    broker = broker_client()
    with SmtpSink() as sink:
        worker = Worker(smtp_port=sink.port).start()
        try:
            sink.hold_after = 5  # the sixth recipient keeps the worker waiting
            broker.send_task("emails.tasks.send_due_emails", args=[site.pk])
            assert sink.held.wait(60), f"the worker never reached the sixth email ({worker.log.name})"
            worker.kill()
        finally:
            worker.stop()
        sink.hold_after = None
        sink.hold.clear()
        assert len(sink.messages) == 5
        assert statuses(ids).count(EmailStatus.SENT) == 5, "each email sent was recorded at once"
        with scopes_disabled():  # the dead worker's claim on the other seven runs out
            OutboundEmail.objects.filter(pk__in=ids, status=EmailStatus.QUEUED).update(
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )
        worker = Worker(smtp_port=sink.port).start()
        try:
            broker.send_task("emails.tasks.requeue_due_emails")
            assert wait_for(lambda: statuses(ids).count(EmailStatus.SENT) == 12, timeout=60)
        finally:
            worker.stop()
    ids_sent = [message["Message-ID"] for message in sink.messages]
    assert len(ids_sent) == len(set(ids_sent)) == 12


def test_a_sites_huge_backlog_does_not_hold_up_another_sites_purchase_confirmation():
    busy, other = SiteFactory(), SiteFactory()
    backlog = bulk_emails(busy, 3000)
    buyer = ContactFactory(site=other, email="buyer@example.com")
    broker = broker_client()
    with SmtpSink() as sink:
        for _ in range(30):  # the bulk queue holds many batches of the busy site's emails
            broker.send_task("emails.tasks.send_due_emails", args=[busy.pk], queue="bulk")
        worker = Worker(smtp_port=sink.port).start()
        try:
            assert wait_for(lambda: len(sink.messages) >= 200, timeout=60), "the backlog is being sent"
            with scope(site=other), transaction.atomic():
                confirmation = send_automated(
                    other,
                    kind=EmailKind.PURCHASE_CONFIRMATION,
                    contact=buyer,
                    context={
                        "offer": {"title": "Course"},
                        "amount": "9.00",
                        "currency": "USD",
                        "login_url": "https://x.test/login/",
                    },
                    dedupe_key="purchase:1",
                )
                queued_at = timezone.now()
            assert wait_for(lambda: statuses([confirmation.pk]) == [EmailStatus.SENT], timeout=30)
            with scopes_disabled():
                sent_at = OutboundEmail.objects.get(pk=confirmation.pk).sent_at
            assert (sent_at - queued_at).total_seconds() < 5
            assert EmailStatus.QUEUED in statuses(backlog), "it went ahead of the backlog"
        finally:
            worker.stop()
