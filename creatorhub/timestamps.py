"""Reading PostgreSQL timestamps at C speed.

Django reads every `timestamptz` value with a subclass of psycopg's pure-Python loader (it sets the
value's time zone to the connection's), and a page of 50 contacts has 200 of them. Kept for the contacts
benchmark's API pages (docs/performance.md). When the connection and its session are both in
UTC, which is Django's setting whenever USE_TZ is on and the database has no TIME_ZONE of its own,
psycopg's C loader gives the very same values (aware, `datetime.timezone.utc`); `UtcTimestampLoader`
lends it to each connection, with the `timezone` attribute Django checks when it opens a cursor.
"""

import datetime

from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.pq import Format

_C_LOADER = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)  # C when psycopg[binary]


class UtcTimestampLoader(Loader):
    timezone = datetime.UTC  # Django's create_cursor compares it with the connection's

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = _C_LOADER(oid, context).load

    def load(self, data):
        return self._load(data)


def install_loader(sender, connection, **kwargs) -> None:
    """connection_created: a PostgreSQL connection whose session Django keeps in UTC reads timestamps
    with psycopg's own loader."""
    if connection.vendor != "postgresql" or connection.timezone != datetime.UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestampLoader)
