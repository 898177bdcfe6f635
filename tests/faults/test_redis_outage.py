"""Fault: Redis (the broker and the cache) stops while the API takes purchases (each automated
email is sent exactly once, never lost). The purchases are recorded with their emails queued in the
outbox, the API answers 201 as usual; once Redis is back, the worker and the outbox sweep send each
email once: none lost, none twice.

Redis here is a server of the test's own (tests/support/servers.py), never the shared one.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from creatorhub import services as core_services
from creatorhub.celery import app as celery_app
from creatorhub.roles import Role
from emails.models import EmailStatus, OutboundEmail
from offers.models import Purchase
from offers.services import catalog
from tests.support.live_worker import SmtpSink, Worker, broker_client, publishing_to_test_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def buy(client, site, offer, n):
    payload = {
        "offer": offer.pk,
        "email": f"buyer{n}@example.com",
        "name": f"Buyer {n}",
        "amount": "49.00",
        "currency": "USD",
        "idempotency_key": f"order-{n}",
    }
    return client.post(f"/api/v1/sites/{site.slug}/purchases/", payload, format="json")


def outbox():
    with scopes_disabled():
        return sorted(OutboundEmail.objects.values_list("to_email", "status"))


def test_purchases_taken_while_redis_is_down_are_recorded_and_each_email_goes_out_once(
    redis_server, settings, site, owner, api_client
):
    settings.CACHES = {  # as in production: the cache is the same Redis (rate limits, segment counts)
        "default": {"BACKEND": "creatorhub.cache.RedisCache", "LOCATION": redis_server.url}
    }
    with scope(site=site):
        offer = catalog.create_offer(site, title="Yoga Basics", price=49, currency="USD")
        _, secret = core_services.create_api_key(site, name="Checkout", role=Role.ADMIN, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    with publishing_to_test_broker(celery_app, redis_server.url):
        redis_server.stop()
        for n in range(3):
            started = time.monotonic()
            response = buy(api_client, site, offer, n)
            assert response.status_code == 201, response.content
            assert time.monotonic() - started < 10
        with scope(site=site):
            assert Purchase.objects.count() == 3
        assert outbox() == [(f"buyer{n}@example.com", EmailStatus.QUEUED) for n in range(3)]

        redis_server.start()
        broker = broker_client(redis_server.url)
        assert buy(api_client, site, offer, 3).status_code == 201  # queued at once, Redis is back
        with SmtpSink() as sink:
            worker = Worker(smtp_port=sink.port, redis_url=redis_server.url).start()
            try:
                assert wait_for(lambda: len(sink.messages) == 1, timeout=60), worker.log.name
                with scopes_disabled():  # the three left queued have waited long enough for the sweep
                    OutboundEmail.objects.filter(status=EmailStatus.QUEUED).update(
                        next_attempt_at=timezone.now() - timedelta(seconds=1)
                    )
                broker.send_task("emails.tasks.requeue_due_emails")
                assert wait_for(lambda: len(sink.messages) == 4, timeout=60), worker.log.name
                assert wait_for(lambda: {s for _, s in outbox()} == {EmailStatus.SENT}, timeout=10)
                # The sweep again, and a stray duplicate message, send nothing more.
                with scopes_disabled():
                    first = OutboundEmail.objects.get(to_email="buyer0@example.com")
                broker.send_task("emails.tasks.requeue_due_emails")
                broker.send_task("emails.tasks.send_email", args=[site.pk, first.pk])
                assert not wait_for(lambda: len(sink.messages) > 4, timeout=3)
            finally:
                worker.stop()
    assert sorted(message["To"] for message in sink.messages) == [f"buyer{n}@example.com" for n in range(4)]
    assert outbox() == [(f"buyer{n}@example.com", EmailStatus.SENT) for n in range(4)]
