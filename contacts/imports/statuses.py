"""What a file says of each person's consent, and what an import makes of it.

A row states a status through the columns mapped to these targets:
- "Subscription status": words such as subscribed, pending, unsubscribed, bounced, cleaned, complained
  (and the words of the platforms we know), or yes / no (a no does not say that the person left);
- "Unsubscribed (yes or no)": yes means the person turned marketing email off (Substack's email_disabled);
- "Receives emails (yes or no)": no means the person turned marketing email off (Ghost's
  subscribed_to_emails);
- "Date unsubscribed" and "Date bounced (cleaned)": a date there says the person left then (how
  Mailchimp's unsubscribed and cleaned exports say it);
- "Unsubscribe reason": why they left, in our words or the old platform's.
"Date subscribed" and "IP address of the consent" are evidence kept in the consent event.

Then one rule decides, `status_after`, which the merge also writes in SQL (contacts.imports.merge):
- a row saying the person left makes a new contact unsubscribed with that reason, and lowers an existing
  contact the same way; an unsubscribe already recorded with a weightier reason is kept;
- "Subscribe to marketing emails" raises never subscribed and pending contacts to subscribed, except
  rows that the file marks as gone, never subscribed or not confirmed (pending, at the most);
- nothing else changes a status: a file never raises one by itself.
"""

import ipaddress
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from contacts.models import SubscriptionStatus, UnsubscribeReason
from contacts.services import REASON_WEIGHT

SUBSCRIBED = SubscriptionStatus.SUBSCRIBED.value
PENDING = SubscriptionStatus.PENDING.value
NEVER = SubscriptionStatus.NEVER_SUBSCRIBED.value
UNSUBSCRIBED = LEFT = SubscriptionStatus.UNSUBSCRIBED.value
MANUAL, OPTED_OUT = UnsubscribeReason.MANUAL.value, UnsubscribeReason.OPTED_OUT.value
BOUNCED, COMPLAINED = UnsubscribeReason.BOUNCED.value, UnsubscribeReason.COMPLAINED.value

# How far consent goes short of unsubscribed: an import only ever moves a contact up this ladder.
LADDER = (NEVER, PENDING, SUBSCRIBED)


class Status(NamedTuple):
    status: str
    reason: str | None = None


NOTHING_SAID = Status("")  # the row states no status
YES, NO = Status(SUBSCRIBED), Status(UNSUBSCRIBED, OPTED_OUT)

# Words that speak of email consent and nothing else: a column of statuses with one of them in it is a
# status column whatever its header says.
EMAIL_WORDS = {
    "subscribed": Status(SUBSCRIBED),
    "opted in": Status(SUBSCRIBED),
    "never subscribed": Status(NEVER),
    "not subscribed": Status(NEVER),
    "non subscribed": Status(NEVER),
    "nonsubscribed": Status(NEVER),
    "unsubscribed": NO,
    "opted out": NO,
    "bounced": Status(UNSUBSCRIBED, BOUNCED),
    "hard bounce": Status(UNSUBSCRIBED, BOUNCED),
    "hard bounced": Status(UNSUBSCRIBED, BOUNCED),
    "cleaned": Status(UNSUBSCRIBED, BOUNCED),  # Mailchimp: cleaned after hard bounces
    "complained": Status(UNSUBSCRIBED, COMPLAINED),
    "spam complaint": Status(UNSUBSCRIBED, COMPLAINED),
    "marked as spam": Status(UNSUBSCRIBED, COMPLAINED),
    "abuse complaint": Status(UNSUBSCRIBED, COMPLAINED),
}
# Words that are statuses in a column that is one, and may be something else elsewhere (an order's
# "pending", a plan's "active" or "cancelled").
OTHER_WORDS = {
    "opt in": Status(SUBSCRIBED),
    "opt out": NO,
    "optout": NO,
    "pending": Status(PENDING),
    "unconfirmed": Status(PENDING),
    "not confirmed": Status(PENDING),
    "transactional": Status(NEVER),  # Mailchimp: receives only transactional email
    "active": Status(SUBSCRIBED),
    "confirmed": Status(SUBSCRIBED),
    "inactive": Status(PENDING),  # Kit: never confirmed its double opt-in
    "cancelled": NO,  # Kit: unsubscribed
    "canceled": NO,
}
YES_WORDS = {"yes", "y", "true", "t", "1"}
NO_WORDS = {"no", "n", "false", "f", "0"}
STATUS_WORDS = {
    **EMAIL_WORDS,
    **OTHER_WORDS,
    **dict.fromkeys(YES_WORDS, YES),
    # A "no" in a status column does not say that the person left: they may never have been asked.
    **dict.fromkeys(NO_WORDS, Status(NEVER)),
}
KNOWN = "subscribed, pending, never subscribed, unsubscribed, bounced, cleaned, complained (or yes / no)"

# Reasons, in our words or the platforms'. A reason we do not know (a person's answer to an
# unsubscribe survey, "The emails are spam…" among them) is kept in the consent event's note, and the
# person is taken to have opted out: it is their own choice, not a complaint to their provider.
REASON_WORDS = {
    "manual": MANUAL,
    "team": MANUAL,
    "admin": MANUAL,
    "by admin": MANUAL,
    "n a unsubscribed by an admin": MANUAL,  # Mailchimp's UNSUB_REASON, in its two spellings
    "n a unsubscribed by admin": MANUAL,
    "opted out": OPTED_OUT,
    "opt out": OPTED_OUT,
    "bounced": BOUNCED,
    "bounce": BOUNCED,
    "hard bounce": BOUNCED,
    "cleaned": BOUNCED,
    "complained": COMPLAINED,
    "complaint": COMPLAINED,
    "spam": COMPLAINED,
    "spam complaint": COMPLAINED,
    "abuse": COMPLAINED,
    "abuse complaint": COMPLAINED,
}


def words(value: str) -> str:
    """Lower case, words only: "Opted-Out" → "opted out"."""
    return " ".join(re.findall(r"[^\W_]+", value.lower()))


# The readers of a cell that is not empty: what it states, or None when it is not such a value.


@lru_cache(maxsize=4096)  # a column holds a few values a million times
def read_status(value: str) -> Status | None:
    """A cell of a status column."""
    return STATUS_WORDS.get(words(value))


@lru_cache(maxsize=4096)
def read_unsubscribed(value: str) -> Status | None:
    """A cell of a yes / no "unsubscribed" column (Substack's email_disabled): yes is an opt-out, no says
    nothing more."""
    key = words(value)
    return NO if key in YES_WORDS else NOTHING_SAID if key in NO_WORDS else None


@lru_cache(maxsize=4096)
def read_receives(value: str) -> Status | None:
    """A cell of a yes / no "receives emails" column (Ghost's subscribed_to_emails, which the person
    turns off): no is an opt-out, yes says they are subscribed."""
    key = words(value)
    return YES if key in YES_WORDS else NO if key in NO_WORDS else None


@lru_cache(maxsize=4096)
def read_reason(value: str) -> str | None:
    """The unsubscribe reason a text names, or None."""
    return REASON_WORDS.get(words(value))


def names_a_reason(value: str) -> bool:
    """Whether a text is one of our reasons' names (not a person's own words)."""
    return words(value) in REASON_WORDS


# What a whole file may say of everyone in it (Import.everyone): Mailchimp's unsubscribed, cleaned and
# nonsubscribed exports, or a platform's list of the people who unsubscribed, which carries no status
# column (Kajabi's).
EVERYONE = {
    NEVER: Status(NEVER),
    OPTED_OUT: NO,
    MANUAL: Status(UNSUBSCRIBED, MANUAL),
    BOUNCED: Status(UNSUBSCRIBED, BOUNCED),
    COMPLAINED: Status(UNSUBSCRIBED, COMPLAINED),
}


OFFSET_WORDS = re.compile(r"\s*(?:\bUTC|\bGMT|Z)$", re.IGNORECASE)
SPACED_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def read_time(value: str) -> datetime | None:
    """An ISO 8601 date or time ("2024-11-02", "2024-11-02 18:22:11", "…T18:22:11.000Z", "… UTC",
    "… +0100"); a time without an offset is UTC, as the platforms' exports write them. None when not
    one."""
    text = SPACED_OFFSET.sub(r"\1", OFFSET_WORDS.sub("+00:00", value.strip()))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_ip(value: str) -> str | None:
    """An IPv4 or IPv6 address (one with a zone, "fe80::1%eth0", is no address of the internet)."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


def target(stated: Status, *, subscribe: bool) -> Status:
    """What a row asks for: the status of a new contact made from it, and the most it may do to an
    existing one (see `status_after`)."""
    if stated.status == UNSUBSCRIBED:
        return stated
    if not subscribe:
        return Status(NEVER)
    if stated.status in (PENDING, NEVER):
        return Status(stated.status)
    return Status(SUBSCRIBED)


def status_after(current: Status, asked: Status) -> Status:
    """An existing contact's status once a row asking for `asked` (see `target`) is imported."""
    if asked.status == UNSUBSCRIBED:
        if current.status == UNSUBSCRIBED and REASON_WEIGHT[current.reason] >= REASON_WEIGHT[asked.reason]:
            return current
        return asked
    if current.status in LADDER and LADDER.index(asked.status) > LADDER.index(current.status):
        return Status(asked.status)
    return current


def combine(said: list[Status], *, reason: str | None, reason_given: bool) -> Status:
    """What a row states, from its status columns and the file's own statement (`said`) and its reason
    column: any statement that the person left wins, with the weightiest reason named (a reason
    column names the reason of a plain "unsubscribed", and a filled one says by itself that they
    left); else the most cautious of the others (never subscribed, then pending, then subscribed)."""
    if len(said) == 1 and not reason_given:
        return said[0]
    leaving = [s for s in said if s.status == UNSUBSCRIBED]
    if leaving or reason_given:
        named = [s for s in leaving if s.reason != OPTED_OUT]
        if reason_given or len(named) < len(leaving):
            named.append(Status(UNSUBSCRIBED, reason or OPTED_OUT))
        return max(named, key=lambda s: REASON_WEIGHT[s.reason])
    for status in LADDER:
        if Status(status) in said:
            return Status(status)
    return NOTHING_SAID


def label(status: str, reason: str | None = None) -> str:
    """ "Subscribed", "Unsubscribed: hard bounce" — for people."""
    text = SubscriptionStatus(status).label
    return f"{text}: {UnsubscribeReason(reason).label.lower()}" if reason else text
