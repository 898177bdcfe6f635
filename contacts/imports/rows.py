"""A row of an import's file, read with its mapping: the contact it describes, or why it cannot be
imported, each problem with its row number and column. A row with any problem is skipped as a
whole: nothing of it is half-imported."""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email

from contacts.imports import statuses
from contacts.imports.mapping import (
    BOUNCED_AT,
    CONSENT_IP,
    CONSENT_TARGETS,
    EMAIL,
    FIELD,
    FIRST_NAME,
    LAST_NAME,
    NAME,
    REASON,
    RECEIVES,
    STATUS,
    SUBSCRIBED_AT,
    TAGS,
    UNSUBSCRIBED,
    UNSUBSCRIBED_AT,
    reads_consent,
)
from contacts.imports.reading import DAMAGED, Record
from contacts.imports.statuses import BOUNCED, LEFT, Status
from contacts.models import Contact, ImportRowError, Tag
from contacts.services import MAX_TAGS_PER_CALL

EMAIL_MAX = Contact._meta.get_field("email").max_length
NAME_MAX = Contact._meta.get_field("name").max_length
TAG_MAX = Tag._meta.get_field("name").max_length
FIELD_VALUE_MAX = 1000  # as the contacts API allows (contacts.serializers.validate_custom_fields)


class _RememberingEmailValidator(EmailValidator):
    """Django's email validator, remembering the domains it has checked (a file of a million addresses
    has a few thousand domains, and the domain is half the cost), with its lazily compiled pattern
    compiled once (each use of a lazy object costs two calls)."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)

    def validate_domain_part(self, domain_part):
        return _valid_domain(domain_part)


_valid_domain = lru_cache(maxsize=100_000)(validate_email.validate_domain_part)
_validate_email = _RememberingEmailValidator()


def is_email(value: str) -> bool:
    try:
        _validate_email(value)
    except ValidationError:
        return False
    return True


@dataclass(slots=True)
class ContactRow:
    row: int
    email: str
    name: str
    fields: dict
    tags: list[str]
    consent: Status  # what the row asks for (contacts.imports.statuses.target)
    stated_at: datetime | None = None  # when the file says the person agreed, or left
    ip: str | None = None  # where the file says they agreed from
    note: str = ""  # the file's own words, when it says they left


class RowError(NamedTuple):
    row: int
    column: str
    message: str


LEFT_PHRASES = {
    statuses.MANUAL: "unsubscribed by its team",
    statuses.OPTED_OUT: "unsubscribed",
    statuses.BOUNCED: "bounced (cleaned)",
    statuses.COMPLAINED: "marked as spam",
}


class RowReader:
    """Reads the records of one file with one mapping, for an import with or without "Subscribe to
    marketing emails" (`subscribe`). It remembers the emails it has kept, so that a later row with the
    same email, in any case, is reported with the row that was kept, and the first spelling of each tag,
    so that "VIP" and "vip" are one tag. `everyone` is what the file says of everyone in it
    (Import.everyone); `origin` names the file in consent events ("Mailchimp")."""

    def __init__(
        self,
        headers: list[str],
        mapping: list[str],
        *,
        encoding_label: str,
        subscribe: bool = False,
        everyone: str = "",
        origin: str = "The file",
    ):
        self.headers, self.width, self.encoding_label = headers, len(headers), encoding_label
        self.subscribe, self.origin = subscribe, origin
        self.everyone = statuses.EVERYONE.get(everyone)  # what the file says of everyone in it
        self.reads_consent = bool(self.everyone) or reads_consent(mapping)
        self.consent = statuses.target(statuses.NOTHING_SAID, subscribe=subscribe)  # without consent columns
        self.consent_columns = {
            target: [i for i, t in enumerate(mapping) if t == target] for target in CONSENT_TARGETS
        }
        self.email = mapping.index(EMAIL)
        single = {
            target: mapping.index(target) for target in (NAME, FIRST_NAME, LAST_NAME) if target in mapping
        }
        self.name, self.first_name, self.last_name = (single.get(t) for t in (NAME, FIRST_NAME, LAST_NAME))
        self.name_parts = [i for i in (self.first_name, self.last_name) if i is not None]
        self.tags = [i for i, target in enumerate(mapping) if target == TAGS]
        self.fields = [
            (i, target.removeprefix(FIELD)) for i, target in enumerate(mapping) if target.startswith(FIELD)
        ]
        self.kept: dict[str, int] = {}  # email, lower case → the row imported
        self.tag_names: dict[str, str] = {}  # tag, lower case → its first spelling

    def read(self, record: Record) -> ContactRow | list[RowError] | None:
        """The contact row, its problems, or None for a blank row."""
        cells, row = record.cells, record.row
        if cells is None:
            return [RowError(row, "", record.problem)]
        if not any(cells):
            return None
        if len(cells) != self.width:
            if len(cells) < self.width or any(cells[self.width :]):
                return [
                    RowError(row, "", f"This row has {len(cells)} cells; the first row has {self.width}.")
                ]
            cells = cells[: self.width]
        joined = "".join(cells)
        if DAMAGED in joined or "\x00" in joined:
            return self._unreadable(row, cells)
        problems = []
        email = cells[self.email].strip()
        if not email:
            problems.append(self._error(row, self.email, "No email address."))
        elif len(email) > EMAIL_MAX or not is_email(email):
            problems.append(self._error(row, self.email, f"“{email[:100]}” is not a valid email address."))
        name = self._name(cells)
        if len(name) > NAME_MAX:
            column = self.name if self.name is not None and cells[self.name].strip() else self.first_name
            problems.append(self._error(row, column, f"The name is longer than {NAME_MAX} characters."))
        tags = self._tags(row, cells, problems) if self.tags else []
        fields = {}
        for i, key in self.fields:
            value = cells[i].strip()
            if len(value) > FIELD_VALUE_MAX:
                problems.append(self._error(row, i, f"Longer than {FIELD_VALUE_MAX:,} characters."))
            elif value:
                fields[key] = value
        consent = (
            self._consent(row, cells, problems) if self.reads_consent else (self.consent, None, None, "")
        )
        if problems:
            return problems
        key = email.lower()
        kept = self.kept.setdefault(key, row)
        if kept != row:
            return [self._error(row, self.email, ImportRowError.duplicate(email, kept))]
        return ContactRow(row, email, name, fields, tags, *consent)

    def _consent(self, row, cells, problems) -> tuple[Status, datetime | None, str | None, str]:
        """What the row asks for, when the file says it happened, from what address, and the file's words
        when it says the person left."""
        columns = self.consent_columns
        said, reason, reason_text = [self.everyone] if self.everyone else [], None, ""
        for i in columns[STATUS]:
            if (value := cells[i].strip()) and (status := statuses.read_status(value)) is None:
                problems.append(
                    self._error(
                        row, i, f"“{value[:100]}” is not a subscription status: use {statuses.KNOWN}."
                    )
                )
            elif value:
                said.append(status)
        for target, reads in ((UNSUBSCRIBED, statuses.read_unsubscribed), (RECEIVES, statuses.read_receives)):
            for i in columns[target]:
                if (value := cells[i].strip()) and (status := reads(value)) is None:
                    problems.append(self._error(row, i, f"“{value[:100]}” is neither yes nor no."))
                elif value:
                    said.append(status)
        left_at = self._time(row, cells, columns[UNSUBSCRIBED_AT], problems)
        bounced_at = self._time(row, cells, columns[BOUNCED_AT], problems)
        if left_at:
            said.append(statuses.NO)
        if bounced_at:
            said.append(Status(LEFT, BOUNCED))
        for i in columns[REASON]:  # one column at most
            reason_text = " ".join(cells[i].split())
            reason = statuses.read_reason(reason_text) if reason_text else None
        subscribed_at = self._time(row, cells, columns[SUBSCRIBED_AT], problems)
        ip = None
        for i in columns[CONSENT_IP]:
            if (value := cells[i].strip()) and (read := statuses.read_ip(value)) is None:
                problems.append(self._error(row, i, f"“{value[:100]}” is not an IP address."))
            elif value:
                ip = read
        stated = statuses.combine(said, reason=reason, reason_given=bool(reason_text))
        asked = statuses.target(stated, subscribe=self.subscribe)
        if asked.status != LEFT:
            return asked, subscribed_at, ip, ""
        note = f"{self.origin}: {LEFT_PHRASES[asked.reason]}"
        if reason_text and not statuses.names_a_reason(reason_text):
            note += f" — “{reason_text}”"
        return (
            asked,
            (bounced_at if asked.reason == BOUNCED else None) or left_at or bounced_at,
            None,
            note[:300],
        )

    def _time(self, row, cells, columns, problems) -> datetime | None:
        """The last date filled in these columns (None if none)."""
        moment = None
        for i in columns:
            if (value := cells[i].strip()) and (read := statuses.read_time(value)) is None:
                problems.append(
                    self._error(
                        row,
                        i,
                        f"“{value[:100]}” is not a date: write it as 2024-11-02 or 2024-11-02 18:22:11.",
                    )
                )
            elif value:
                moment = read
        return moment

    def _name(self, cells) -> str:
        """The name column, else the first and last names joined; spaces tidied."""
        if self.name is not None and (full := cells[self.name]).strip():
            return " ".join(full.split())
        return " ".join(" ".join([cells[i] for i in self.name_parts]).split())

    def _tags(self, row, cells, problems) -> list[str]:
        tags = {}
        for i in self.tags:
            for piece in cells[i].split(","):
                name = " ".join(piece.replace('"', " ").split())
                if len(name) > TAG_MAX:
                    problems.append(
                        self._error(row, i, f"The tag “{name[:40]}…” is longer than {TAG_MAX} characters.")
                    )
                elif name:
                    spelling = self.tag_names.setdefault(name.lower(), name)
                    tags[spelling] = None
        if len(tags) > MAX_TAGS_PER_CALL:
            problems.append(self._error(row, self.tags[0], f"More than {MAX_TAGS_PER_CALL} tags."))
        return list(tags)

    def _unreadable(self, row, cells) -> list[RowError]:
        errors = []
        for i, cell in enumerate(cells):
            if DAMAGED in cell:
                errors.append(self._error(row, i, f"Has bytes that are not {self.encoding_label} text."))
            if "\x00" in cell:
                errors.append(self._error(row, i, "Has a NUL character."))
        return errors

    def _error(self, row, column_index, message) -> RowError:
        return RowError(row, self.headers[column_index] if column_index is not None else "", message)
