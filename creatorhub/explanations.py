"""The door through which upper rooms add to what is said about a contact — its explanation and its
true/false fields in the API — without the contacts app importing them (DESIGN §1; the same pattern as
creatorhub.events). Nothing registered (an app not installed), nothing added.

An app registers, in its AppConfig.ready():

- `register(name, explain)`: `explain(contact) -> {"value", "reason", "record"}`, added to
  `contacts.selectors.explain(contact)` under `name` (the activity app: "active_customer");
- `register_flag(name, values)`: `values(site, contacts) -> {contact id: value}` for a list of the
  site's contacts in one query, read by the contacts API for a page of contacts (the activity app:
  "is_active_customer");
- `register_condition(name, build)`: `build(site) -> Q` on Contact, a condition the segment compiler
  (contacts.segments) offers as a filter (the activity app: "active_customer", today's rule);
- `register_timeline(page)`: `page(contact, before="") -> (rows, next cursor or None)`, the contact's
  activity, newest first, for the contact page (the activity app: each row has `occurred_at`, `kind`
  and `sentence`). `timeline_of` answers None when no app registered one.
"""

from collections.abc import Callable, Iterable

_explainers: dict[str, Callable] = {}
_flags: dict[str, Callable] = {}
_conditions: dict[str, Callable] = {}
_timeline: Callable | None = None


def register(name: str, explain: Callable) -> None:
    _explainers[name] = explain


def extra_explanations(contact) -> dict:
    """{name: {"value", "reason", "record"}} of every registered part, for this contact."""
    return {name: explain(contact) for name, explain in _explainers.items()}


def register_flag(name: str, values: Callable) -> None:
    _flags[name] = values


def flags_of(site, contacts: Iterable) -> dict[int, dict]:
    """{contact id: {flag name: value}} for these contacts of `site`: one call (one query) per
    registered flag."""
    contacts = list(contacts)
    found: dict[int, dict] = {contact.pk: {} for contact in contacts}
    if not contacts:
        return found
    for name, values in _flags.items():
        answers = values(site, contacts)
        for pk in found:
            found[pk][name] = answers.get(pk)
    return found


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
