"""Demo usage for `manage.py seed_demo` (after the activity demo's logins): 90 days of daily usage behind
the usage page, and Ben Codes over its plan's 1,000 active customers, so support has a case."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from activity.models import ActivityEvent
from activity.services import NewEvent, record_events
from contacts.models import Contact, ContactOrigin
from creatorhub.rls import as_owner
from creatorhub.tenancy import site_scope
from offers.models import Access, AccessSource
from offers.services import catalog
from usage.models import UsageSnapshot
from usage.services import compute_usage

DAYS = 90
BEN_CUSTOMERS = 1_150


def seed(sites: dict, team: dict, stdout) -> None:
    now = timezone.now()
    ana, ben = sites["ana-yoga"], sites["ben-codes"]
    with site_scope(ana), transaction.atomic():
        if UsageSnapshot.objects.exists():
            return
        # The demo's customers bought and were granted their offers two months ago.
        Access.objects.update(created_at=now - timedelta(days=60))
        _daily_usage(ana)
    with site_scope(ben), transaction.atomic():
        offer = catalog.create_offer(ben, title="Python Bootcamp", price=99)
        Contact.objects.bulk_create(
            [
                Contact(
                    site=ben,
                    email=f"student{n}@example.com",
                    name=f"Student {n}",
                    origin=ContactOrigin.PURCHASE,
                    is_customer=True,
                    created_at=now - timedelta(days=DAYS + 10),
                )
                for n in range(BEN_CUSTOMERS)
            ],
            batch_size=1000,
        )
        students = list(Contact.objects.all())
        Access.objects.bulk_create(
            [
                Access(
                    site=ben, contact=s, offer=offer, source=AccessSource.PURCHASE, created_at=s.created_at
                )
                for s in students
            ],
            batch_size=1000,
        )
        # More and more students log in: none three months ago, all of them now.
        events = []
        for number, student in enumerate(students):
            first = int(DAYS * number / len(students) * 0.6)
            events += [
                NewEvent(contact=student, kind="login", occurred_at=now - timedelta(days=d, hours=3))
                for d in range(1, DAYS - first, 9)
            ]
        record_events(ben, events)
        _analyse_new_rows()
        _daily_usage(ben)
    stdout.write(f"  {DAYS} days of usage; {ben.name} is over its plan's active customer limit")


def _analyse_new_rows() -> None:
    """A new database's tables have no statistics before autovacuum's first pass, and PostgreSQL plans
    the active-customer count over them as if they were empty: one query a day of 90 would take a
    second. The demo has just written its rows, so it analyses their tables, as their owner (the app
    role may not: PostgreSQL would only warn, and keep the old plans)."""
    if connection.vendor != "postgresql":
        return
    with as_owner(connection.alias), connection.cursor() as cursor:
        for model in (Contact, Access, ActivityEvent):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _daily_usage(site) -> None:
    today = site.today()
    for back in range(DAYS, 0, -1):
        compute_usage(site, day=today - timedelta(days=back))
