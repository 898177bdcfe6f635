"""Reads of the activity app: a contact's activity for their data export, and how far
`last_activity_at` may lag behind the events."""

from datetime import timedelta

from activity.models import ActivityEvent
from contacts.models import Contact

# last_activity_at moves only when it moves forward by more than this, so a busy contact is not
# rewritten on every event; the active-customer rule allows for the lag.
LAST_ACTIVITY_STEP = timedelta(minutes=10)


def activity_of(contact: Contact) -> list[dict]:
    """The contact's activity, oldest first, for their data export (creatorhub.personal_data)."""
    return list(
        ActivityEvent.objects.filter(contact=contact)
        .order_by("occurred_at", "id")
        .values("kind", "occurred_at", "recorded_at", "details")
    )
