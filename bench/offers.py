"""Offers and emails at scale, with one real Celery worker on Redis (prefork, its default concurrency) and
a local SMTP sink (aiosmtpd). Each figure is printed beside its floor:

- grant emails sent per second (the site's batches), against smtplib sending the same rendered message
  to the same sink over one kept connection;
- purchase confirmations sent per second (one transactional task each), against the same floor;
- a bulk grant of 10,000 contacts run by the worker, against the raw SQL that writes the same rows
  (accesses, customer flags, outbox rows) in three INSERT … SELECT / UPDATE statements, on a site of its
  own (rolled back);
- the same grant end to end: until all 20,000 emails it caused have been sent, against the three
  statements plus the SMTP floor's time for 20,000 messages.

It runs on a fresh database and again on the same one: each run makes its sites anew.
"""

import smtplib
import time
from pathlib import Path

from django.db import connection, transaction

from audience.services.grant_jobs import start_grant_job
from bench.seed import delete_bench_sites
from contacts.models import Contact
from creatorhub.celery import app as celery_app
from creatorhub.models import Plan, Site
from creatorhub.tenancy import platform_wide, site_scope
from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.services import render, send_automated, send_automated_to_many, start_sending
from offers.models import GrantJob, JobStatus
from offers.services import catalog
from tests.support.live_worker import TEST_REDIS_URL, SmtpSink, Worker, broker_client, redis_answers, wait_for

EMAILS = 4_000
PURCHASES = 500
GRANTS = 10_000
GRANT_CONTEXT = {"offer": {"title": "Bench course"}, "login_url": "https://bench.example/login/"}


def run(Result) -> list:
    if connection.vendor != "postgresql" or not redis_answers():
        print("  (offers benchmarks skipped: they need PostgreSQL and Redis on this machine)")
        return []
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = False, TEST_REDIS_URL
    broker_client()  # an empty queue
    results = []
    with SmtpSink() as sink:
        worker = Worker(smtp_port=sink.port, pool="prefork").start()
        try:
            assert wait_for(lambda: b"ready" in Path(worker.log.name).read_bytes(), timeout=60)
            floor_rate = _smtp_floor_rate(sink)
            results += _emails_per_second(Result, sink, floor_rate)
            results += _bulk_grant(Result, floor_rate)
        finally:
            worker.stop()
    return results


def _fresh_site(slug: str, contacts: int) -> Site:
    delete_bench_sites(slug)
    with platform_wide("bench: a site of its own", routine=True):
        site = Site.objects.create(slug=slug, name=slug, plan=Plan.objects.order_by("-price").first())
    with site_scope(site):
        Contact.objects.bulk_create(
            [
                Contact(site=site, email=f"person{n}@bench.example", name=f"Person {n}")
                for n in range(contacts)
            ],
            batch_size=5000,
        )
    return site


def _sent(site: Site) -> int:
    with site_scope(site):
        return OutboundEmail.objects.filter(status=EmailStatus.SENT).count()


def _smtp_floor_rate(sink: SmtpSink) -> float:
    """smtplib over one kept connection, sending the rendered grant confirmation."""
    subject, text, _ = render(
        EmailKind.OFFER_GRANT_CONFIRMATION,
        {"contact": {"name": "A", "email": "b@bench.example"}, "site": {"name": "S"}, **GRANT_CONTEXT},
    )
    message = f"Subject: {subject}\r\nFrom: a@bench.example\r\nTo: b@bench.example\r\n\r\n{text}".encode()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for _ in range(EMAILS):
            smtp.sendmail("a@bench.example", ["b@bench.example"], message)
    rate = EMAILS / (time.perf_counter() - started)
    sink.messages.clear()
    return rate


def _emails_per_second(Result, sink: SmtpSink, floor_rate: float) -> list:
    site = _fresh_site("bench-emails", EMAILS)
    with site_scope(site):
        contacts = list(Contact.objects.all())
    started = time.perf_counter()
    with site_scope(site), transaction.atomic():
        send_automated_to_many(
            site,
            kind=EmailKind.OFFER_GRANT_CONFIRMATION,
            emails=[(contact, GRANT_CONTEXT, f"b:{contact.pk}") for contact in contacts],
        )
        for _ in range(2):  # a batch chain per process of the worker
            start_sending(site)
    assert wait_for(lambda: _sent(site) == EMAILS, timeout=600, every=0.1)
    batched = EMAILS / (time.perf_counter() - started)

    site = _fresh_site("bench-purchases", PURCHASES)
    with site_scope(site):
        contacts = list(Contact.objects.all())
    started = time.perf_counter()
    with site_scope(site), transaction.atomic():
        for contact in contacts:
            send_automated(
                site,
                kind=EmailKind.OFFER_GRANT_CONFIRMATION,
                contact=contact,
                context=GRANT_CONTEXT,
                dedupe_key=f"p:{contact.pk}",
            )
    assert wait_for(lambda: _sent(site) == PURCHASES, timeout=600, every=0.1)
    one_by_one = PURCHASES / (time.perf_counter() - started)
    return [
        Result(f"grant emails sent by one worker ({EMAILS:,}, batches)", batched, floor_rate, "emails/s"),
        Result(
            f"purchase confirmations sent by one worker ({PURCHASES:,}, a task each)",
            one_by_one,
            floor_rate,
            "emails/s",
        ),
    ]


def _bulk_grant(Result, floor_rate: float) -> list:
    site = _fresh_site("bench-grants", GRANTS)
    with site_scope(site):
        offer = catalog.create_offer(site, title="Bench course", price=10)
    started = time.perf_counter()
    with site_scope(site):
        job = start_grant_job(site, offer=offer, target={"segment": "all"})  # the worker runs it

    def job_done() -> bool:
        with site_scope(site):
            return GrantJob.objects.get(pk=job.pk).status == JobStatus.DONE

    assert wait_for(job_done, timeout=1800, every=0.1)
    granted_in = time.perf_counter() - started
    assert wait_for(lambda: _sent(site) == 2 * GRANTS, timeout=3600, every=0.25)
    end_to_end = time.perf_counter() - started
    floor = _three_statements(GRANTS)
    return [
        Result(f"bulk grant of {GRANTS:,} contacts by the worker (job done)", granted_in, floor, "s"),
        Result(
            f"bulk grant of {GRANTS:,}, end to end ({2 * GRANTS:,} emails sent)",
            end_to_end,
            floor + 2 * GRANTS / floor_rate,
            "s",
        ),
    ]


def _three_statements(contacts: int) -> float:
    """The grant's rows written by raw SQL, on a site of their own, rolled back: the floor."""
    site = _fresh_site("bench-grants-floor", contacts)
    with site_scope(site):
        offer = catalog.create_offer(site, title="Bench course", price=10)
    with site_scope(site), connection.cursor() as cursor, transaction.atomic():
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO offers_access (site_id, contact_id, offer_id, source, created_at) "
            "SELECT site_id, id, %s, 'grant', now() FROM contacts_contact WHERE site_id = %s",
            [offer.pk, site.pk],
        )
        cursor.execute("UPDATE contacts_contact SET is_customer = true WHERE site_id = %s", [site.pk])
        cursor.execute(
            "INSERT INTO emails_outboundemail (site_id, kind, contact_id, to_email, context, dedupe_key, "
            "status, subject, error, attempts, next_attempt_at, message_id, provider_message_id, created_at) "
            "SELECT site_id, k.kind, id, email, '{}', 'floor:' || k.kind || id, 'queued', '', '', 0, now(), "
            "'', '', now() "
            "FROM contacts_contact, (VALUES ('member_welcome'), ('offer_grant_confirmation')) AS k(kind) "
            "WHERE site_id = %s",
            [site.pk],
        )
        floor = time.perf_counter() - started
        transaction.set_rollback(True)
    delete_bench_sites("bench-grants-floor")
    return floor
