"""The door through which upper rooms add to what is said about a contact — its explanation and its
true/false fields in the API — without the contacts app importing them (the same pattern as
creatorhub.events). Nothing registered (an app not installed), nothing added.

An app registers, in its AppConfig.ready():

- `register(name, explain)`: `explain(contact) -> {"value", "reason", "record"}`, added to
  `contacts.selectors.explain(contact)` under `name` (the usage app: "active_customer");
- `register_flag(name, condition)`: `condition(site) -> Q` on Contact, true for the contacts that have
  the flag, written contact by contact (EXISTS on its own rows, no subquery over the whole site), so that
  the contacts API reads the flag of a contact with it (`flag_annotations`, `flags_of`) and those of a
  page in one query after it (`read_flags`) (the usage app: "is_active_customer");
- `register_condition(name, build)`: `build(site) -> Q` on Contact, a condition the segment compiler
  (contacts.segments) offers as a filter (the usage app: "active_customer", today's rule);
- `register_timeline(page)`: `page(contact, before="") -> (rows, next cursor or None)`, the contact's
  activity, newest first, for the contact page (the activity app: each row has `occurred_at`, `kind`
  and `sentence`). `timeline_of` answers None when no app registered one.
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL

from creatorhub.compiled import STAND_IN_ID, built

_explainers: dict[str, Callable] = {}
_flags: dict[str, Callable] = {}
_same_while: dict[str, Callable | None] = {}
_conditions: dict[str, Callable] = {}
_timeline: Callable | None = None


def register(name: str, explain: Callable) -> None:
    _explainers[name] = explain


def extra_explanations(contact) -> dict:
    """{name: {"value", "reason", "record"}} of every registered part, for this contact."""
    return {name: explain(contact) for name, explain in _explainers.items()}


def register_flag(name: str, values: Callable, *, same_while: Callable | None = None) -> None:
    """`same_while(site) -> a hashable`: the flag's condition for the site stays the same while it does
    (the usage app: the site's day), so the query that reads a page's flags is compiled once."""
    _flags[name] = values
    _same_while[name] = same_while


def flag_annotations(site) -> dict:
    """{flag name: its boolean expression} to annotate a query of the site's contacts with."""
    return {
        name: ExpressionWrapper(condition(site), output_field=BooleanField())
        for name, condition in _flags.items()
    }


def flags_of(contact) -> dict:
    """{flag name: value} of a contact read with flag_annotations (or read_flags)."""
    return {name: getattr(contact, name) for name in _flags}


def read_flags(site, contacts: list) -> None:
    """Sets the flags on a page of the site's contacts that were read without them, in one query over
    their ids. Not in the page's own query: there PostgreSQL plans each flag's subqueries for all the
    rows the index could give rather than the page's 51, and may hash them over the whole site (97 ms a
    page at 100,000 contacts, against 0.5 ms). The query is built by the ORM once per site and day
    (`same_while`, creatorhub.compiled): building it cost five times as much as running it.

    PostgreSQL takes the page's ids as one array parameter: psycopg parses a query once and keeps it
    when it has at most 50 parameters (0.7 ms a page otherwise). SQLite, which has no arrays, takes one
    parameter an id."""
    if not contacts or not _flags or hasattr(contacts[0], next(iter(_flags))):
        return
    ids = [contact.pk for contact in contacts]
    model = type(contacts[0])
    connection = connections[model._default_manager.db]
    one_array = connection.vendor == "postgresql"
    stand_ins = [[STAND_IN_ID]] if one_array else [STAND_IN_ID - n for n in range(len(ids))]
    same = tuple(None if key is None else key(site) for key in _same_while.values())
    query = built(
        ("flags", site.pk, model, connection.alias, same, None if one_array else len(ids)),
        lambda: _flag_rows(site, model, connection, stand_ins),
        stand_ins,
        keep=None not in same,
    )
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params_with([ids] if one_array else ids))
        found = {pk: values for pk, *values in cursor.fetchall()}
    unset = (False,) * len(_flags)  # a contact deleted since the page was read
    for contact in contacts:
        for name, value in zip(_flags, found.get(contact.pk, unset), strict=True):
            setattr(contact, name, bool(value))  # SQLite answers 0 or 1


def _flag_rows(site, model, connection, stand_ins: list):
    """(id, flag, …) of the contacts whose ids are `stand_ins` (one array of them on PostgreSQL)."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        pk = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
        ids = RawSQL(f"{pk} = ANY(%s)", stand_ins, output_field=BooleanField())  # noqa: S611 (model's names)
    else:
        ids = Q(pk__in=stand_ins)
    return model._default_manager.filter(ids).annotate(**flag_annotations(site)).values_list("pk", *_flags)


def register_condition(name: str, build: Callable) -> None:
    _conditions[name] = build


def condition_of(name: str) -> Callable | None:
    """The registered `build(site) -> Q` of `name`, or None when no app registered it."""
    return _conditions.get(name)


def register_timeline(page: Callable) -> None:
    global _timeline
    _timeline = page


def timeline_of(contact, *, before: str = "") -> tuple[list, str | None] | None:
    """One page of the contact's activity after the cursor `before`, and the next page's cursor."""
    return None if _timeline is None else _timeline(contact, before=before)
