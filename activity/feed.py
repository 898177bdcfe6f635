"""Activity as people read it: one sentence per event ("Ana completed Breathing in Yoga Basics"), and the
keyset pages of events (newest first on (-occurred_at, -id), never OFFSET) that the contact page and the
site's activity page show."""

from django.db.models import Q

from activity.models import ActivityEvent, ActivityKind
from creatorhub.paging import BadCursor, encode_cursor, forwards_from

TIMELINE_SIZE = 20
FEED_SIZE = 50


def _text(details: dict, key: str) -> str:
    value = details.get(key) if isinstance(details, dict) else None
    return value.strip() if isinstance(value, str) else ""


def sentence(event: ActivityEvent, *, who: str | None = None) -> str:
    """What the contact did, in a sentence; `who` defaults to the contact's name (or email). The details
    recorded by the member area, forms and purchases name the lesson, course, form or offer; events from
    the API may not, and get the plain sentence of their kind."""
    who = who or (event.contact.display_name if event.contact_id else "A deleted contact")
    details = event.details or {}
    kind = event.kind
    if kind == ActivityKind.LOGIN:
        return f"{who} logged in"
    if kind == ActivityKind.LESSON_COMPLETED:
        lesson, product = _text(details, "lesson"), _text(details, "product")
        if lesson:
            return f"{who} completed {lesson} in {product}" if product else f"{who} completed {lesson}"
        return f"{who} completed a lesson"
    if kind == ActivityKind.COURSE_COMPLETED:
        product = _text(details, "product")
        return f"{who} completed the course {product}" if product else f"{who} completed a course"
    if kind == ActivityKind.FORM_SUBMITTED:
        form = _text(details, "form")
        return f"{who} submitted the form “{form}”" if form else f"{who} submitted a form"
    if kind == ActivityKind.PURCHASED:
        offer = _text(details, "offer")
        return f"{who} bought {offer}" if offer else f"{who} made a purchase"
    if kind == ActivityKind.OPTED_IN:
        return f"{who} opted in"
    if kind == ActivityKind.OFFER_GRANTED:
        offer = _text(details, "offer")
        return f"{who} was granted {offer}" if offer else f"{who} was granted an offer"
    return f"{who} had other activity"


def events_page(queryset, *, before: str = "", size: int) -> tuple[list[ActivityEvent], str | None]:
    """One page of events after the cursor `before` (BadCursor when it is not one of ours), newest
    first, and the cursor of the next page (None on the last)."""
    rows = queryset.order_by("-occurred_at", "-id")
    if before:
        moment, pk = forwards_from(before)
        rows = rows.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=pk))
    page = list(rows[: size + 1])
    return page[:size], (encode_cursor(page[size - 1], "occurred_at") if len(page) > size else None)


def contact_timeline(contact, *, before: str = "") -> tuple[list[dict], str | None]:
    """The contact page's Activity section (audience.views.contact): 20 events, newest
    first; a cursor that is not valid shows the newest."""
    events = ActivityEvent.objects.filter(contact=contact)
    try:
        page, next_cursor = events_page(events, before=before, size=TIMELINE_SIZE)
    except BadCursor:
        page, next_cursor = events_page(events, size=TIMELINE_SIZE)
    who = contact.display_name
    rows = [
        {"id": e.pk, "occurred_at": e.occurred_at, "kind": e.kind, "sentence": sentence(e, who=who)}
        for e in page
    ]
    return rows, next_cursor
