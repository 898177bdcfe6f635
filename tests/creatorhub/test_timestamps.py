"""Timestamps are read by psycopg's C loader on PostgreSQL (creatorhub.timestamps), with the very values
Django's own loader gives: aware, in UTC, to the microsecond."""

import datetime

import pytest
from django.db import connection
from django_scopes import scope

from contacts.models import Contact
from creatorhub.timestamps import UtcTimestampLoader
from tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TIMESTAMPTZ = 1184


def test_a_postgresql_connection_reads_timestamps_with_the_c_loader():
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ, 0) is UtcTimestampLoader
    with connection.cursor() as cursor:  # Django's cursor keeps it: it has the connection's time zone
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, 0) is UtcTimestampLoader


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2025, 3, 30, 1, 59, 59, 999_999, tzinfo=datetime.UTC),
        datetime.datetime(1999, 12, 31, 23, 0, 0, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        datetime.datetime(2038, 1, 19, 3, 14, 8, tzinfo=datetime.UTC),
    ],
)
def test_timestamps_come_back_aware_in_utc_to_the_microsecond(site, moment):
    with scope(site=site):
        contact = ContactFactory(site=site, last_activity_at=moment)
        read = Contact.objects.get(pk=contact.pk).last_activity_at
    assert read == moment
    assert read.tzinfo is datetime.UTC
    assert read.isoformat() == moment.astimezone(datetime.UTC).isoformat()


def test_a_null_timestamp_stays_none(site):
    with scope(site=site):
        contact = ContactFactory(site=site, last_activity_at=None)
        assert Contact.objects.get(pk=contact.pk).last_activity_at is None
