"""Hot queries that the ORM builds once and that run again with the values of each request.

Building a query costs the ORM more than PostgreSQL takes to run it (the contacts benchmark's API pages
need this; docs/performance.md has the figures). A query whose shape stays the same (the same site,
filters, page size and day) is built once per process with stand-ins where its values go, and run with
each request's values.
The caller names the shape in `key`: everything the SQL depends on but the stand-ins' values. The
stand-ins are values no request sends (see STAND_IN_ID), found again among the built query's parameters.

Used by the contacts list's pages (creatorhub.api.pagination.SameShape), a page's active-customer
flags (audience.selectors.read_active_customer_flags) and the Overview's figures
(usage.selectors.overview).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections
from django.db.models import QuerySet

KEPT = 2000  # built queries kept per process; all are dropped when there are more (a few MB at most)

STAND_IN_ID = -(10**15)  # ids count up from 1
STAND_IN_MOMENT = datetime(1001, 1, 1, 0, 0, 0, 1, tzinfo=UTC)  # nothing in CreatorHub is that old


@dataclass(frozen=True)
class Built:
    model: type
    db: str  # the database alias it was built for
    sql: str
    params: tuple
    slots: tuple[int, ...]  # where each stand-in sits in params

    def params_with(self, values) -> list:
        """The parameters, each stand-in replaced by the value in its place in `values`."""
        params = list(self.params)
        for slot, value in zip(self.slots, values, strict=True):
            params[slot] = value
        return params

    def rows(self, values=()) -> list:
        """The model's instances that the query gives with `values` (annotations as attributes)."""
        manager = self.model._default_manager  # through its scope check (django-scopes)
        return list(manager.raw(self.sql, self.params_with(values), using=self.db))

    def values(self, values=()) -> list[dict]:
        """The rows that the query (a `values()` queryset) gives with `values`, as dicts."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params_with(values))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_built: dict[tuple, Built] = {}


def built(key: tuple, build: Callable[[], QuerySet], stand_ins: list, *, keep: bool = True) -> Built:
    """The query of shape `key`: the one built before, or `build()`'s, whose parameters hold each of
    `stand_ins` once (a list stand-in is one parameter: an array). Not `keep`: built for this time only."""
    found = _built.get(key) if keep else None
    if found is None:
        queryset = build()
        sql, params = queryset.query.sql_with_params()
        slots = tuple(_slot(params, stand_in) for stand_in in stand_ins)
        found = Built(queryset.model, queryset.db, sql, tuple(params), slots)
        if keep:
            if len(_built) >= KEPT:
                _built.clear()
            _built[key] = found
    return found


def _slot(params, stand_in) -> int:
    places = [n for n, param in enumerate(params) if type(param) is type(stand_in) and param == stand_in]
    if len(places) != 1:
        raise ValueError(f"The stand-in {stand_in!r} is {len(places)} times among the query's parameters.")
    return places[0]


def forget() -> None:
    """Drops every built query, as a new process starts (the benchmarks' figures of a first view)."""
    _built.clear()
