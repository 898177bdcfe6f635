"""Offers and emails at scale, with a real Celery worker on Redis and a local SMTP sink (aiosmtpd):

- emails per second sent by one worker (solo pool), against smtplib sending the same rendered message
  to the same sink, one connection per message as Django's SMTP backend does;
- a bulk grant of 10,000 contacts run by the worker, against the raw SQL that writes the same rows
  (accesses, customer flags, outbox rows) in three INSERT … SELECT / UPDATE statements;
- the same grant end to end: until every email it caused has been sent.
"""

import smtplib
import time
from pathlib import Path

from django.db import connection, transaction

from bench.seed import delete_bench_sites
from contacts.models import Contact
from creatorhub.celery import app as celery_app
from creatorhub.models import Plan, Site
from creatorhub.tenancy import platform_wide, site_scope
from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.services import render, send_automated
from offers.models import GrantJob, JobStatus
from offers.services import catalog
from offers.services.grant_jobs import start_grant_job
from tests.support.live_worker import TEST_REDIS_URL, SmtpSink, Worker, broker_client, redis_answers, wait_for

EMAILS = 2_000
GRANTS = 10_000


def run(Result) -> list:
    if connection.vendor != "postgresql" or not redis_answers():
        print("  (offers benchmarks skipped: they need PostgreSQL and Redis on this machine)")
        return []
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = False, TEST_REDIS_URL
    broker_client()  # an empty queue
    results = []
    with SmtpSink() as sink:
        worker = Worker(smtp_port=sink.port).start()
        try:
            assert wait_for(lambda: b"ready" in Path(worker.log.name).read_bytes(), timeout=60)
            results += _emails_per_second(Result, sink)
            results += _bulk_grant(Result, sink)
        finally:
            worker.stop()
    return results


def _fresh_site(slug: str, contacts: int) -> Site:
    delete_bench_sites(slug)
    with platform_wide("bench: setup and checks"):
        site = Site.objects.create(slug=slug, name=slug, plan=Plan.objects.order_by("-price").first())
        Contact.objects.bulk_create(
            [
                Contact(site=site, email=f"person{n}@bench.example", name=f"Person {n}")
                for n in range(contacts)
            ],
            batch_size=5000,
        )
    return site


def _sent(site: Site) -> int:
    with platform_wide("bench: setup and checks"):
        return OutboundEmail.objects.filter(site=site, status=EmailStatus.SENT).count()


def _emails_per_second(Result, sink: SmtpSink) -> list:
    site = _fresh_site("bench-emails", EMAILS)
    sink.messages.clear()
    started = time.perf_counter()
    with site_scope(site), transaction.atomic():
        for contact in Contact.objects.all():
            send_automated(
                site,
                kind=EmailKind.DOUBLE_OPT_IN,
                contact=contact,
                context={"confirm_url": "https://bench.example/c/x/"},
                dedupe_key=f"b:{contact.pk}",
            )
    assert wait_for(lambda: _sent(site) == EMAILS, timeout=600, every=0.25)
    app_rate = EMAILS / (time.perf_counter() - started)

    subject, text, _ = render(
        EmailKind.DOUBLE_OPT_IN,
        {"contact": {"name": "A"}, "site": {"name": "S"}, "confirm_url": "https://bench.example/c/x/"},
    )
    message = f"Subject: {subject}\r\nFrom: a@bench.example\r\nTo: b@bench.example\r\n\r\n{text}"
    started = time.perf_counter()
    for _ in range(EMAILS):
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            smtp.sendmail("a@bench.example", ["b@bench.example"], message.encode())
    floor_rate = EMAILS / (time.perf_counter() - started)
    return [
        Result(
            f"emails sent by one worker ({EMAILS:,}, outbox to SMTP sink)", app_rate, floor_rate, "emails/s"
        )
    ]


def _bulk_grant(Result, sink: SmtpSink) -> list:
    site = _fresh_site("bench-grants", GRANTS)
    with site_scope(site):
        offer = catalog.create_offer(site, title="Bench course", price=10)
    started = time.perf_counter()
    with site_scope(site):
        job = start_grant_job(site, offer=offer, target={"segment": "all"})  # the worker runs it

    def job_done() -> bool:
        with site_scope(site):
            return GrantJob.objects.get(pk=job.pk).status == JobStatus.DONE

    done = wait_for(job_done, timeout=1800, every=0.5)
    assert done
    granted_in = time.perf_counter() - started
    assert wait_for(lambda: _sent(site) == 2 * GRANTS, timeout=3600, every=1)
    end_to_end = time.perf_counter() - started

    with connection.cursor() as cursor, transaction.atomic():
        floor_started = time.perf_counter()
        cursor.execute(
            "INSERT INTO offers_access (site_id, contact_id, offer_id, source, created_at) "
            "SELECT site_id, id, %s, 'grant', now() FROM contacts_contact WHERE site_id = %s",
            [offer.pk, site.pk],
        )
        cursor.execute("UPDATE contacts_contact SET is_customer = true WHERE site_id = %s", [site.pk])
        cursor.execute(
            "INSERT INTO emails_outboundemail (site_id, kind, contact_id, to_email, context, dedupe_key, "
            "status, subject, error, attempts, message_id, provider_message_id, created_at) "
            "SELECT site_id, k.kind, id, email, '{}', 'floor:' || k.kind || id, 'queued', '', '', 0, '', '', "
            "now() "
            "FROM contacts_contact, (VALUES ('member_welcome'), ('offer_grant_confirmation')) AS k(kind) "
            "WHERE site_id = %s",
            [site.pk],
        )
        floor = time.perf_counter() - floor_started
        transaction.set_rollback(True)
    return [
        Result(f"bulk grant of {GRANTS:,} contacts by the worker (job done)", granted_in, floor, "s"),
        Result(
            f"bulk grant of {GRANTS:,}, end to end ({2 * GRANTS:,} emails sent)",
            end_to_end,
            floor + 2 * GRANTS / _smtp_floor_rate(sink),
            "s",
        ),
    ]


def _smtp_floor_rate(sink: SmtpSink, sample: int = 300) -> float:
    started = time.perf_counter()
    for _ in range(sample):
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            smtp.sendmail("a@bench.example", ["b@bench.example"], b"Subject: x\r\n\r\nx")
    return sample / (time.perf_counter() - started)
