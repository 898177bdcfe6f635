"""The door through which contacts and offers report what a contact did — a login, a lesson completed,
a form submitted, a purchase — without importing the activity app (contacts sits below it).
The activity app opens it in its AppConfig.ready(); the report is written in the caller's transaction."""

from collections.abc import Callable
from datetime import datetime

_recorder: Callable | None = None


def open_door(recorder: Callable) -> None:
    global _recorder
    _recorder = recorder


def contact_did(
    site, *, contact, kind: str, occurred_at: datetime | None = None, details: dict | None = None
):
    if _recorder is not None:
        _recorder(site, contact=contact, kind=kind, occurred_at=occurred_at, details=details or {})
