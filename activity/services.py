"""Writes of the activity app: recording what contacts did, and forgetting who did it."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Case, DateTimeField, DurationField, Q, Value, When
from django.utils import timezone

from activity.models import NOT_ACTIVITY, ActivityEvent
from activity.selectors import LAST_ACTIVITY_STEP
from contacts.models import Contact
from creatorhub.errors import DomainError
from creatorhub.models import Site


class ActivityError(DomainError):
    pass


@dataclass(frozen=True)
class NewEvent:
    contact: Contact
    kind: str
    occurred_at: datetime
    details: dict = field(default_factory=dict)
    external_id: str = ""


@transaction.atomic
def record_events(site: Site, events: list[NewEvent]) -> int:
    """The single entry for activity: writes the events (a repeated `external_id` is ignored) and
    advances each contact's `last_activity_at`. Returns how many events were new."""
    for event in events:
        if event.contact.site_id != site.pk:
            raise ActivityError("That contact belongs to another site.")
    rows = [
        ActivityEvent(
            site=site,
            contact=e.contact,
            kind=e.kind,
            occurred_at=e.occurred_at,
            details=e.details,
            external_id=e.external_id,
        )
        for e in events
    ]
    before = ActivityEvent.objects.filter(
        external_id__in=[e.external_id for e in events if e.external_id]
    ).count()
    ActivityEvent.objects.bulk_create(rows, ignore_conflicts=True)
    latest: dict[int, datetime] = {}
    for event in events:
        if event.kind not in NOT_ACTIVITY:
            latest[event.contact.pk] = max(latest.get(event.contact.pk, event.occurred_at), event.occurred_at)
    _advance_last_activity(latest)
    with_ids = [e for e in events if e.external_id]
    after = ActivityEvent.objects.filter(external_id__in=[e.external_id for e in with_ids]).count()
    return len(events) - len(with_ids) + (after - before)


def _advance_last_activity(latest: dict[int, datetime]) -> None:
    """One UPDATE for the whole batch: each contact's clock moves to its latest event, when that is
    more than LAST_ACTIVITY_STEP ahead of it."""
    if not latest:
        return
    now = timezone.now()
    # An event stamped in the future does not move the clock ahead.
    moment = Case(
        *(When(pk=pk, then=Value(min(at, now))) for pk, at in latest.items()),
        output_field=DateTimeField(),
    )
    Contact.objects.filter(pk__in=latest).filter(
        Q(last_activity_at__isnull=True)
        | Q(last_activity_at__lt=moment - Value(LAST_ACTIVITY_STEP, output_field=DurationField()))
    ).update(last_activity_at=moment)


def record_one(site: Site, *, contact: Contact, kind: str, occurred_at=None, details=None) -> None:
    """What the lower rooms call through creatorhub.events when a contact does something."""
    record_events(
        site,
        [
            NewEvent(
                contact=contact, kind=kind, occurred_at=occurred_at or timezone.now(), details=details or {}
            )
        ],
    )


def anonymise_activity(contact: Contact, anonymous_id: str) -> None:
    """A deleted contact's events stay, for the site's counts and feed, with nothing that names them:
    no contact, no details, only `anonymous_id` (registered with creatorhub.personal_data)."""
    ActivityEvent.objects.filter(contact=contact).update(contact=None, anonymous_id=anonymous_id, details={})
