"""What each column of an import becomes: the email, the name (or a first and a last name, joined),
tags, a custom field, or nothing. A mapping is a list with one target per column.

The exports of Kajabi, Mailchimp, ConvertKit (Kit), Ghost and Substack are recognised by their headers:
their columns need no changes, and their bookkeeping columns (ids, dates, ratings, their own
subscription flags: SPEC §2 lets only "Subscribe to marketing emails" change a status) are not
imported. In any file, the usual spellings of email, name and tags are recognised; every other named
column becomes a custom field.
"""

import re
from dataclasses import dataclass

from contacts.imports.errors import ContactImportError
from contacts.serializers import MAX_CUSTOM_FIELDS

EMAIL, NAME, FIRST_NAME, LAST_NAME, TAGS, SKIP = "email", "name", "first_name", "last_name", "tags", "skip"
FIELD = "field:"  # "field:city" is the custom field "city"
LABELS = {
    EMAIL: "Email",
    NAME: "Name",
    FIRST_NAME: "First name",
    LAST_NAME: "Last name",
    TAGS: "Tags",
    SKIP: "Not imported",
}
ONE_COLUMN_EACH = (EMAIL, NAME, FIRST_NAME, LAST_NAME)
FIELD_KEY_MAX = 64

# Headers, simplified (lower case, words only), of the columns that are not custom fields.
ALIASES = {
    **dict.fromkeys(
        ["email", "email address", "emailaddress", "e mail", "e mail address", "mail", "primary email"], EMAIL
    ),
    **dict.fromkeys(["name", "full name", "fullname", "display name", "contact name"], NAME),
    **dict.fromkeys(["first name", "firstname", "first", "given name", "forename", "fname"], FIRST_NAME),
    **dict.fromkeys(["last name", "lastname", "last", "surname", "family name", "lname"], LAST_NAME),
    **dict.fromkeys(["tags", "tag", "labels", "label"], TAGS),
}


@dataclass(frozen=True)
class Exporter:
    name: str
    signature: frozenset[str]  # headers (lower case) that its exports always have
    skip: frozenset[str] = frozenset()  # its bookkeeping columns


MAILCHIMP_BOOKKEEPING = (
    "member_rating",
    "optin_time",
    "optin_ip",
    "confirm_time",
    "confirm_ip",
    "last_changed",
    "latitude",
    "longitude",
    "gmtoff",
    "dstoff",
    "timezone",
    "cc",
    "region",
    "leid",
    "euid",
    "unsub_time",
    "unsub_campaign_title",
    "unsub_campaign_id",
    "unsub_reason",
    "unsub_reason_other",
    "clean_time",
    "clean_campaign_title",
    "clean_campaign_id",
)
GHOST_BOOKKEEPING = (
    "id",
    "subscribed_to_emails",
    "complimentary_plan",
    "stripe_customer_id",
    "created_at",
    "deleted_at",
    "tiers",
)
SUBSTACK_BOOKKEEPING = (
    "active_subscription",
    "expiry",
    "email_disabled",
    "created_at",
    "first_payment_at",
    "prefer_digests",
)
EXPORTERS = (
    Exporter(
        "Mailchimp", frozenset({"email address", "member_rating", "leid"}), frozenset(MAILCHIMP_BOOKKEEPING)
    ),
    Exporter(
        "Ghost",
        frozenset({"email", "subscribed_to_emails", "stripe_customer_id"}),
        frozenset(GHOST_BOOKKEEPING),
    ),
    Exporter("Substack", frozenset({"email", "active_subscription"}), frozenset(SUBSTACK_BOOKKEEPING)),
    Exporter("ConvertKit", frozenset({"email_address", "first_name"}), frozenset({"state", "created_at"})),
    Exporter(
        "Kajabi", frozenset({"name", "first name", "last name", "email"}), frozenset({"id", "created at"})
    ),
)


def simplify(header: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", header.lower()))


def field_key(header: str) -> str:
    """The custom field a column fills: "Phone Number" → "phone_number"."""
    return "_".join(re.findall(r"[^\W_]+", header.lower()))[:FIELD_KEY_MAX]


def field_keys(targets: list[str]) -> list[str]:
    """The custom fields a mapping fills, in column order."""
    return [target.removeprefix(FIELD) for target in targets if target.startswith(FIELD)]


def headers_for(first_row: list[str], *, has_header: bool) -> list[str]:
    if has_header:
        return [cell.strip() for cell in first_row]
    return [f"Column {n}" for n in range(1, len(first_row) + 1)]


def recognise(headers: list[str]) -> tuple[str, list[str]]:
    """The export the headers come from ("" when none is known) and the mapping they suggest."""
    lowered = [header.strip().lower() for header in headers]
    exporter = next((e for e in EXPORTERS if e.signature <= set(lowered)), None)
    targets, taken = [], set()
    for header, low in zip(headers, lowered, strict=True):
        alias = ALIASES.get(simplify(header))
        key = field_key(header)
        if exporter and low in exporter.skip:
            target = SKIP
        elif alias and (alias == TAGS or alias not in taken):
            target = alias
        elif key and FIELD + key not in taken:
            target = FIELD + key
        else:
            target = SKIP
        taken.add(target)
        targets.append(target)
    return (exporter.name if exporter else ""), targets


def recognise_values(width: int, sample: list[list[str]], is_email) -> list[str]:
    """The mapping of a file without a header: its email column is the one holding email addresses."""
    targets = [SKIP] * width
    for column in range(width):
        values = [cells[column].strip() for cells in sample if len(cells) > column and cells[column].strip()]
        if values and sum(map(is_email, values)) * 2 > len(values):
            targets[column] = EMAIL
            break
    return targets


def from_columns(headers: list[str], given: dict, *, defaults: list[str]) -> list[str]:
    """A mapping given as {column name: target} (the API's), over the recognised one."""
    unknown = sorted(set(given) - set(headers))
    if unknown:
        raise ContactImportError(
            f"The file has no column named {', '.join(map(repr, unknown))}; its columns are "
            f"{', '.join(map(repr, headers))}.",
            field="mapping",
        )
    return [given.get(header, target) for header, target in zip(headers, defaults, strict=True)]


def clean(headers: list[str], targets: list) -> list[str]:
    """The mapping, checked: one target per column, exactly one email column, at most one name, first
    name and last name column, custom field names that are words and not used twice."""
    if not isinstance(targets, list) or len(targets) != len(headers):
        raise ContactImportError("Say what each column of the file becomes.", field="mapping")
    cleaned = []
    for header, target in zip(headers, targets, strict=True):
        target = str(target).strip()
        if target.startswith(FIELD):
            key = field_key(target.removeprefix(FIELD))
            if not key:
                raise ContactImportError(
                    f"Name the custom field of the column “{header}” with letters or digits.", field="mapping"
                )
            target = FIELD + key
        elif target not in LABELS:
            raise ContactImportError(
                f"The column “{header}” cannot become {target!r}: choose one of {', '.join(LABELS)} "
                "or field:<name>.",
                field="mapping",
            )
        cleaned.append(target)
    if EMAIL not in cleaned:
        raise ContactImportError("Choose the column that holds the email addresses.", field="mapping")
    for target in {t for t in cleaned if t != TAGS and t != SKIP}:
        columns = [header for header, t in zip(headers, cleaned, strict=True) if t == target]
        if len(columns) > 1:
            raise ContactImportError(
                f"Only one column can become {describe(target)}: "
                f"{' and '.join(f'“{column}”' for column in columns)} both do.",
                field="mapping",
            )
    if sum(t.startswith(FIELD) for t in cleaned) > MAX_CUSTOM_FIELDS:
        raise ContactImportError(
            f"At most {MAX_CUSTOM_FIELDS} columns can become custom fields: choose “Not imported” for the "
            "others.",
            field="mapping",
        )
    return cleaned


def describe(target: str) -> str:
    """ "Email", "Custom field “city”" — for people."""
    if target.startswith(FIELD):
        return f"Custom field “{target.removeprefix(FIELD)}”"
    return LABELS[target]


def choices_for(header: str) -> list[tuple[str, str]]:
    """What a column may become, on the mapping page: the fixed targets and its own custom field."""
    key = field_key(header)
    choices = [(target, label) for target, label in LABELS.items() if target != SKIP]
    if key:
        choices.append((FIELD + key, describe(FIELD + key)))
    return [*choices, (SKIP, LABELS[SKIP])]
