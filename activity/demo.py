"""Demo activity for `manage.py seed_demo`: the customers of Ana's Yoga Studio log in a dozen times over
the last 90 days, so the feed, the timelines and the daily usage have something to show."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from activity.models import ActivityEvent, ActivityKind
from activity.services import NewEvent, record_events
from contacts.models import Contact
from creatorhub.tenancy import site_scope

DAYS = 90


def seed(sites: dict, team: dict, stdout) -> None:
    rng = random.Random(7)  # the same demo every time
    now = timezone.now()
    ana = sites["ana-yoga"]
    with site_scope(ana), transaction.atomic():
        if ActivityEvent.objects.filter(kind=ActivityKind.LOGIN).exists():
            return
        customers = list(Contact.objects.filter(is_customer=True))
        record_events(
            ana,
            [
                NewEvent(
                    contact=c, kind="login", occurred_at=now - timedelta(days=d, hours=rng.randint(0, 20))
                )
                for c in customers
                for d in rng.sample(range(1, DAYS), 12)
            ],
        )
    stdout.write(f"  {DAYS} days of logins by the customers of {ana.name}")
