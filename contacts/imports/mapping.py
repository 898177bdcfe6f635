"""What each column of an import becomes: the email, the name (or a first and a last name, joined),
tags, the person's consent (a status, an unsubscribe reason, its dates and IP address: see
contacts.imports.statuses), a custom field, or nothing. A mapping is a list with one target per column.

The exports of Kajabi, Mailchimp, ConvertKit (Kit), Ghost, Substack and CreatorHub itself are
recognised by their headers: each of their columns is mapped as that platform means it, their status
columns included, and their bookkeeping columns (ids, ratings, geodata) are not imported. In any file,
the usual spellings of email, name and tags are recognised, and so is a consent column, by its header
and its values (a column of words such as "unsubscribed" or "cleaned" is a status column whatever its
header); every other named column becomes a custom field.
"""

import re
from dataclasses import dataclass, field

from contacts.imports import statuses
from contacts.imports.errors import ContactImportError
from contacts.serializers import MAX_CUSTOM_FIELDS

EMAIL, NAME, FIRST_NAME, LAST_NAME, TAGS, SKIP = "email", "name", "first_name", "last_name", "tags", "skip"
STATUS, UNSUBSCRIBED, RECEIVES, REASON = "status", "unsubscribed", "receives_emails", "unsubscribe_reason"
SUBSCRIBED_AT, UNSUBSCRIBED_AT, BOUNCED_AT, CONSENT_IP = (
    "subscribed_at",
    "unsubscribed_at",
    "bounced_at",
    "consent_ip",
)
FIELD = "field:"  # "field:city" is the custom field "city"
LABELS = {
    EMAIL: "Email",
    NAME: "Name",
    FIRST_NAME: "First name",
    LAST_NAME: "Last name",
    TAGS: "Tags",
    STATUS: "Subscription status",
    UNSUBSCRIBED: "Unsubscribed (yes or no)",
    RECEIVES: "Receives emails (yes or no)",
    REASON: "Unsubscribe reason",
    SUBSCRIBED_AT: "Date subscribed",
    UNSUBSCRIBED_AT: "Date unsubscribed",
    BOUNCED_AT: "Date bounced (cleaned)",
    CONSENT_IP: "IP address of the consent",
    SKIP: "Not imported",
}
CONSENT_TARGETS = (
    STATUS,
    UNSUBSCRIBED,
    RECEIVES,
    REASON,
    SUBSCRIBED_AT,
    UNSUBSCRIBED_AT,
    BOUNCED_AT,
    CONSENT_IP,
)
# Targets that several columns may have: tags are joined; statuses are weighed together (any that says
# the person left wins); of several dates or IP addresses of the consent (Mailchimp's opt-in and
# confirmation), the last one filled counts.
MANY_COLUMNS = (
    TAGS,
    SKIP,
    STATUS,
    UNSUBSCRIBED,
    RECEIVES,
    SUBSCRIBED_AT,
    UNSUBSCRIBED_AT,
    BOUNCED_AT,
    CONSENT_IP,
)
FIELD_KEY_MAX = 64
LABELLED = re.compile(r"\s*\([a-z0-9_]+\)$")  # Kajabi's "Phone Number (phone_number)"
SAMPLE_ROWS = 50  # rows read to recognise columns by their values

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
# Consent columns, by header; each is taken only when the file's first values read as its target's.
CONSENT_ALIASES = {
    **dict.fromkeys(
        [
            "status",
            "subscription status",
            "subscriber status",
            "member status",
            "email status",
            "marketing status",
            "email marketing status",
            "newsletter status",
            "subscribed",
            "is subscribed",
            "email subscribed",
            "newsletter",
            "accepts marketing",
            "accepts email marketing",
            "email opt in",
            "marketing emails",
            "marketing consent",
        ],
        STATUS,
    ),
    **dict.fromkeys(
        ["unsubscribed", "is unsubscribed", "email disabled", "emails disabled", "do not email", "opted out"],
        UNSUBSCRIBED,
    ),
    **dict.fromkeys(["subscribed to emails", "receives emails", "emails enabled", "email enabled"], RECEIVES),
    **dict.fromkeys(
        ["unsubscribe reason", "unsub reason", "unsubscribed reason", "reason unsubscribed"], REASON
    ),
    **dict.fromkeys(
        [
            "subscribed at",
            "subscribed on",
            "date subscribed",
            "subscription date",
            "opt in date",
            "optin date",
            "opt in time",
            "optin time",
            "confirm time",
            "confirmed at",
            "consent date",
        ],
        SUBSCRIBED_AT,
    ),
    **dict.fromkeys(
        ["unsubscribed at", "unsubscribed on", "date unsubscribed", "unsubscribe date", "unsub time"],
        UNSUBSCRIBED_AT,
    ),
    **dict.fromkeys(["bounced at", "date bounced", "bounce date", "cleaned at", "clean time"], BOUNCED_AT),
    **dict.fromkeys(["consent ip", "optin ip", "opt in ip", "confirm ip", "signup ip"], CONSENT_IP),
}
VALUE_READERS = {
    STATUS: statuses.read_status,
    UNSUBSCRIBED: statuses.read_unsubscribed,
    RECEIVES: statuses.read_receives,
    SUBSCRIBED_AT: statuses.read_time,
    UNSUBSCRIBED_AT: statuses.read_time,
    BOUNCED_AT: statuses.read_time,
    CONSENT_IP: statuses.read_ip,
}


@dataclass(frozen=True)
class Exporter:
    name: str
    signature: frozenset[str]  # headers (lower case) that its exports always have
    columns: dict[str, str] = field(default_factory=dict)  # header (lower case) → target, where not usual
    labelled_keys: bool = False  # custom fields named "Label (key)": the field is the label's


def _skip(*headers: str) -> dict[str, str]:
    return dict.fromkeys(headers, SKIP)


EXPORTERS = (
    Exporter(
        "Mailchimp",  # its own columns are in English; the audience's fields are in its language
        frozenset({"member_rating", "leid", "euid"}),
        {
            **_skip(
                "member_rating",
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
                "unsub_campaign_title",
                "unsub_campaign_id",
                "unsub_reason_other",
                "clean_campaign_title",
                "clean_campaign_id",
            ),
            "optin_time": SUBSCRIBED_AT,
            "optin_ip": CONSENT_IP,
            "confirm_time": SUBSCRIBED_AT,
            "confirm_ip": CONSENT_IP,
            "unsub_time": UNSUBSCRIBED_AT,
            "unsub_reason": REASON,
            "clean_time": BOUNCED_AT,
        },
    ),
    Exporter(
        "Ghost",
        frozenset({"email", "subscribed_to_emails", "stripe_customer_id"}),
        {
            **_skip("id", "stripe_customer_id", "created_at", "deleted_at"),
            "subscribed_to_emails": RECEIVES,
            "tiers": TAGS,
        },
    ),
    Exporter(  # its full data export's email list
        "Substack",
        frozenset({"email", "active_subscription"}),
        {
            **_skip("expiry", "created_at", "first_payment_at", "prefer_digests"),
            "email_disabled": UNSUBSCRIBED,
        },
    ),
    Exporter(  # its paid subscribers (paid, comp, gift)
        "Substack",
        frozenset({"email", "email_disabled", "stripe_connected_customer_id"}),
        {**_skip("expiry", "stripe_connected_customer_id"), "email_disabled": UNSUBSCRIBED},
    ),
    Exporter(
        "ConvertKit",
        frozenset({"email_address", "first_name"}),
        {"state": STATUS, "status": STATUS, "created_at": SUBSCRIBED_AT},
    ),
    Exporter(  # its contacts export carries no status: its unsubscribed contacts come as a list of their own
        "Kajabi",
        frozenset({"name", "first name", "last name", "email"}),
        _skip(
            "id",
            "member id",
            "external user id",
            "created at",
            "member created at",
            "sign in count",
            "last activity",
            "last sign in at",
            "first name (name)",
            "email (email)",
        ),
        labelled_keys=True,
    ),
    Exporter(
        "CreatorHub",
        frozenset({"email", "subscription_status", "unsubscribe_reason", "is_customer"}),
        {
            **_skip("is_customer", "created_at", "last_activity_at"),
            "subscription_status": STATUS,
            "unsubscribe_reason": REASON,
        },
    ),
)


MAILCHIMP_FILE = re.compile(  # subscribed_members_export_….csv, nonsubscribed_email_audience_export_….csv
    r"(?<![a-z])(subscribed|unsubscribed|cleaned|nonsubscribed)_"
    r"(?:members|email_audience|email_segment|segment)_export",
    re.IGNORECASE,
)
MAILCHIMP_FILES = {
    "nonsubscribed": statuses.NEVER,
    "unsubscribed": statuses.OPTED_OUT,
    "cleaned": statuses.BOUNCED,
}


def everyone_in(exporter: str, headers: list[str], filename: str) -> str:
    """What a file says of everyone in it, where the kind of file tells (EveryoneInFile): Mailchimp's
    unsubscribed and cleaned exports by their columns, and its nonsubscribed export by its name."""
    if exporter != "Mailchimp":
        return ""
    lowered = {header.strip().lower() for header in headers}
    if "clean_time" in lowered:
        return statuses.BOUNCED
    if "unsub_time" in lowered:
        return statuses.OPTED_OUT
    named = MAILCHIMP_FILE.search(filename)
    return MAILCHIMP_FILES.get(named[1].lower(), "") if named else ""


def simplify(header: str) -> str:
    return statuses.words(header)


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


def recognise(headers: list[str], sample: list[list[str]], is_email) -> tuple[str, list[str]]:
    """The export the headers come from ("" when none is known) and the mapping they suggest, with the
    first rows (`sample`) telling consent columns by their values, and the email column when no header
    names it (Mailchimp writes its column names in the audience's language)."""
    lowered = [header.strip().lower() for header in headers]
    exporter = next((e for e in EXPORTERS if e.signature <= set(lowered)), None)
    targets, taken = [], set()
    for n, (header, low) in enumerate(zip(headers, lowered, strict=True)):
        values = [cells[n].strip() for cells in sample if len(cells) > n and cells[n].strip()]
        known = exporter.columns.get(low) if exporter else None
        if known in VALUE_READERS:  # the platform's consent column, unless its values say otherwise
            known = _consent_column(known, values, reads=VALUE_READERS[known])
        named = LABELLED.sub("", header) if exporter and exporter.labelled_keys else header
        key = field_key(named.removeprefix(FIELD))  # "field:city" is how our own export names one
        for target in (known, _suggest(header, values), FIELD + key if key else None, SKIP):
            if target and (target in MANY_COLUMNS or target not in taken):
                break
        taken.add(target)
        targets.append(target)
    if EMAIL not in targets and EMAIL in (found := recognise_values(len(headers), sample, is_email)):
        targets[found.index(EMAIL)] = EMAIL
    return (exporter.name if exporter else ""), targets


def _suggest(header: str, values: list[str]) -> str | None:
    """The usual meaning of a header. A consent column is told by its header or, where its values speak
    of email consent and nothing else ("unsubscribed", "cleaned"), by them alone."""
    simple = simplify(header)
    if alias := ALIASES.get(simple):
        return alias
    if consent := CONSENT_ALIASES.get(simple):
        return _consent_column(consent, values, reads=_says_email_consent if consent == STATUS else None)
    if (
        values
        and all(statuses.read_status(value) is not None for value in values)
        and any(statuses.words(value) in statuses.EMAIL_WORDS for value in values)
    ):
        return STATUS
    return None


def _says_email_consent(value: str) -> statuses.Status | None:
    """A status that cannot be an order's or a plan's (not "pending", "active" or "cancelled")."""
    key = statuses.words(value)
    if key in statuses.EMAIL_WORDS or key in statuses.YES_WORDS or key in statuses.NO_WORDS:
        return statuses.read_status(value)
    return None


DATED = {STATUS: SUBSCRIBED_AT, UNSUBSCRIBED: UNSUBSCRIBED_AT}  # "Subscribed: 2024-11-02"


def _consent_column(target: str, values: list[str], *, reads=None) -> str | None:
    """A column named as consent: that target when one of its first values reads as it (the others are
    then their rows' errors, not a reason to ignore the column); a date of that event when they are
    dates; None (not consent: a "Status" of order numbers) when nothing reads."""
    reads = reads or VALUE_READERS.get(target)
    if reads is None or not values or any(reads(value) is not None for value in values):
        return target
    if target in DATED and all(statuses.read_time(value) for value in values):
        return DATED[target]
    return None


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
    """The mapping, checked: one target per column, exactly one email column, at most one column for
    each target but tags, dates subscribed and consent IP addresses, custom field names that are words
    and not used twice."""
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
    for target in {t for t in cleaned if t not in MANY_COLUMNS}:
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


def reads_consent(targets: list[str]) -> bool:
    """Whether a mapping reads anything of the people's consent."""
    return any(target in CONSENT_TARGETS for target in targets)


def describe(target: str) -> str:
    """ "Email", "Custom field “city”" — for people."""
    if target.startswith(FIELD):
        return f"Custom field “{target.removeprefix(FIELD)}”"
    return LABELS[target]


def choices_for(header: str) -> list:
    """What a column may become, on the mapping page, in groups: the contact (with its own custom
    field), their consent, or nothing."""
    key = field_key(header.removeprefix(FIELD))
    contact = [(target, LABELS[target]) for target in (EMAIL, NAME, FIRST_NAME, LAST_NAME, TAGS)]
    if key:
        contact.append((FIELD + key, describe(FIELD + key)))
    consent = [(target, LABELS[target]) for target in CONSENT_TARGETS]
    return [("The contact", contact), ("Their consent to marketing email", consent), (SKIP, LABELS[SKIP])]
