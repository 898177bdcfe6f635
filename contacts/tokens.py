"""Signed links: the double opt-in / resubscription confirmation (expiring) and the unsubscribe link
(lasting, as RFC 8058 expects of a List-Unsubscribe URL)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "contacts.confirm"
UNSUBSCRIBE_SALT = "contacts.unsubscribe"


class BadToken(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Confirmation:
    site_id: int
    contact_id: int
    form_id: int | None
    resubscribe: bool
    status_since: datetime | None  # the contact's status_changed_at when the link was made


def confirmation_token(contact, *, form=None, resubscribe: bool) -> str:
    payload = {
        "s": contact.site_id,
        "c": contact.pk,
        "f": form.pk if form else None,
        "r": int(resubscribe),
        "v": contact.status_changed_at.isoformat(),
    }
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(payload, compress=True)


def read_confirmation_token(token: str) -> Confirmation:
    max_age = settings.CONFIRMATION_MAX_AGE_DAYS * 86400
    try:
        data = signing.TimestampSigner(salt=CONFIRM_SALT).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise BadToken("This confirmation link has expired: sign up again to get a new one.") from None
    except signing.BadSignature:
        raise BadToken("This confirmation link is not valid: check that you copied all of it.") from None
    since = datetime.fromisoformat(data["v"]) if data.get("v") else None
    return Confirmation(
        site_id=data["s"],
        contact_id=data["c"],
        form_id=data["f"],
        resubscribe=bool(data["r"]),
        status_since=since,
    )


def unsubscribe_token(contact) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"s": contact.site_id, "c": contact.pk})


def read_unsubscribe_token(token: str) -> tuple[int, int]:
    """The (site id, contact id) of an unsubscribe link."""
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        return int(data["s"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken("This unsubscribe link is not valid: check that you copied all of it.") from None
