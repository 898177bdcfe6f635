"""The nightly usage task run by a real Celery worker on Redis, against the test database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_scopes import scope, scopes_disabled

from activity.models import ActivityKind
from activity.services import NewEvent, record_events
from offers.services.access import grant_offer
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, SiteFactory
from tests.support.live_worker import (
    SmtpSink,
    Worker,
    broker_client,
    wait_for,
)
from usage.models import UsageSnapshot
from usage.selectors.active_customers import window_of

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def snapshots():
    with scopes_disabled():
        return sorted(
            (s.site.slug, s.day, s.active_customers, s.customers)
            for s in UsageSnapshot.objects.select_related("site")
        )


def test_a_real_worker_computes_every_sites_usage_for_the_day(time_machine):
    day = date(2025, 6, 15)
    time_machine.move_to(datetime(2025, 6, 1, tzinfo=UTC), tick=False)
    broker = broker_client()  # an empty queue, before the grants queue their emails
    sites = {
        "auckland": SiteFactory(slug="auckland", time_zone="Pacific/Auckland"),
        "la": SiteFactory(slug="la", time_zone="America/Los_Angeles"),
        "utc": SiteFactory(slug="utc", time_zone="UTC"),
    }
    for n, (slug, site) in enumerate(sites.items()):
        _, end = window_of(site, day)
        with scope(site=site):
            offer = create_offer(site, title="Course")
            people = [ContactFactory(site=site, email=f"p{i}@{slug}.example") for i in range(n + 2)]
            for person in people:
                grant_offer(site, offer=offer, contact=person, send_grant_email=False)
            active = people[: n + 1]
            moment = end - timedelta(hours=2)
            events = [NewEvent(contact=p, kind=ActivityKind.LOGIN, occurred_at=moment) for p in active]
            record_events(site, events)
    time_machine.move_to(datetime(2025, 6, 20, tzinfo=UTC), tick=False)
    with SmtpSink() as sink:
        worker = Worker(smtp_port=sink.port).start()
        try:
            broker.send_task("usage.tasks.nightly_usage", kwargs={"day": day.isoformat()})
            done = wait_for(lambda: len(snapshots()) == 3, timeout=90)
            assert done, f"the worker wrote no snapshots: see its log {worker.log.name}"
        finally:
            worker.stop()
    assert snapshots() == [("auckland", day, 1, 2), ("la", day, 2, 3), ("utc", day, 3, 4)]
