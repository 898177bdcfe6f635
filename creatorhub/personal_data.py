"""The door through which each room says what personal data it holds about a contact: all of it for
an access request (SPEC: a contact's data export), and none of it left behind when the contact is
deleted (erasure). The contacts app owns the contact and calls `export_of` and `erase`; the rooms
above register what they hold in their AppConfig.ready(), so the contacts app imports none of them
(the one door of its kind: each room truly plugs in here).

- `register(name, export=…, erase=…)`: `export(contact) -> JSON-ready data` is added under `name`;
  `erase(contact, anonymous_id)` runs in the deleting transaction, before the contact's row goes, and
  deletes or anonymises the room's rows. Records that must outlive the person — activity that site
  counts rest on, purchases — keep only `anonymous_id`, one random id per erased contact.
"""

from collections.abc import Callable

_parts: dict[str, tuple[Callable, Callable]] = {}


def register(name: str, *, export: Callable, erase: Callable) -> None:
    _parts[name] = (export, erase)


def export_of(contact) -> dict:
    return {name: export(contact) for name, (export, _) in _parts.items()}


def erase(contact, anonymous_id: str) -> None:
    for _, eraser in _parts.values():
        eraser(contact, anonymous_id)
