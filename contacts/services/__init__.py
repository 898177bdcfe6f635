"""Writes of the contacts app, one module per use case: contacts and their tags (`people`), the
subscription state machine and the providers' bounces (`consent`), sign-up forms and their submissions
(`signup_forms`), and the counters' fold (`counters`). The names below are the app's public writes,
which the rooms above call as `contacts.services.subscribe(...)`."""

from contacts.services.consent import (
    REASON_WEIGHT,
    Consent,
    confirm_subscription,
    raise_to_subscribed,
    record_delivery_event,
    start_double_opt_in,
    subscribe,
    unsubscribe,
)
from contacts.services.counters import fold_contact_counts
from contacts.services.people import (
    MAX_TAGS_PER_CALL,
    add_tags,
    change_tags,
    clean_email,
    clean_tag_names,
    create_contact,
    delete_contact,
    get_or_create_contact,
    remove_tags,
    tags_named,
    update_contact,
)
from contacts.services.signup_forms import FormOutcome, archive_form, create_form, submit_form, update_form

__all__ = [
    "MAX_TAGS_PER_CALL",
    "REASON_WEIGHT",
    "Consent",
    "FormOutcome",
    "add_tags",
    "archive_form",
    "change_tags",
    "clean_email",
    "clean_tag_names",
    "confirm_subscription",
    "create_contact",
    "create_form",
    "delete_contact",
    "fold_contact_counts",
    "get_or_create_contact",
    "raise_to_subscribed",
    "record_delivery_event",
    "remove_tags",
    "start_double_opt_in",
    "submit_form",
    "subscribe",
    "tags_named",
    "unsubscribe",
    "update_contact",
    "update_form",
]
