"""The activity API under /api/v1/sites/<site>/: recording events in batches, and listing them."""

import django_filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from activity.models import ActivityEvent, ActivityKind
from activity.serializers import (
    MAX_EVENTS,
    ActivityEventSerializer,
    EventBatchSerializer,
    EventInputSerializer,
    EventsRecordedSerializer,
)
from activity.services import NewEvent, record_events
from contacts.models import Contact
from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope


class EventFilter(django_filters.FilterSet):
    contact = django_filters.NumberFilter(field_name="contact_id", help_text="A contact's id.")
    kind = django_filters.ChoiceFilter(choices=ActivityKind.choices)

    class Meta:
        model = ActivityEvent
        fields = ["contact", "kind"]


BATCH_ERROR_EXAMPLE = {
    "code": "invalid",
    "message": "2 of 3 events are not valid: none was recorded.",
    "fields": {
        "events": {
            "0": {"kind": ['"signup" is not a valid choice.']},
            "2": {"email": ["No contact of this site has this email."]},
        }
    },
}


class EventViewSet(mixins.ListModelMixin, SiteViewSet):
    """A site's activity events, newest first (keyset paging on `occurred_at`). Filters: `contact`,
    `kind`."""

    model = ActivityEvent
    serializer_class = ActivityEventSerializer
    filterset_class = EventFilter
    keyset_field = "occurred_at"
    scope_map = {"GET": Scope.CONTACTS_READ, "POST": Scope.EVENTS_WRITE}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("contact")

    @extend_schema(
        request=EventBatchSerializer,
        responses={
            201: EventsRecordedSerializer,
            400: OpenApiResponse(
                description="Nothing was recorded: the errors of each bad event, by its index.",
                examples=[OpenApiExample("Two bad events", value=BATCH_ERROR_EXAMPLE)],
            ),
        },
    )
    def create(self, request, site):
        """Records a batch of up to 1,000 events: `{"events": [...]}` or a bare list `[...]`.

        Each event names its contact by `email` (one of the site's contacts, any case) or by `contact`
        (its id) — exactly one — and gives `kind`, `occurred_at` (ISO 8601 with a time zone, at most
        5 minutes ahead), and optionally `id` (your id of the event: a repeat is ignored) and `details`
        (a small object).

        The batch is validated as a whole: when any event is not valid, none is recorded and the 400
        lists each bad event by its index (from 0) with its field errors:
        `{"code": "invalid", "message": "...", "fields": {"events": {"3": {"kind": ["..."]}}}}`.
        An email or a contact id that is not one of this site's contacts is such an error.

        201: `{"recorded": n, "ignored": m}`, m being the repeats of an `id` recorded before.
        """
        items = self._batch(request.data)
        valid, errors = {}, {}
        for index, item in enumerate(items):
            form = EventInputSerializer(data=item)
            if form.is_valid():
                valid[index] = form.validated_data
            else:
                errors[index] = form.errors
        contacts = self._contacts_of(valid, errors)
        if errors:
            raise ValidationError(
                {
                    "non_field_errors": [
                        f"{len(errors)} of {len(items)} events are not valid: none was recorded."
                    ],
                    "events": {str(index): errors[index] for index in sorted(errors)},
                }
            )
        events = [
            NewEvent(
                contact=contacts[index],
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                details=data["details"],
                external_id=data.get("id", ""),
            )
            for index, data in valid.items()
        ]
        recorded = record_events(self.site, events)
        return Response(
            EventsRecordedSerializer({"recorded": recorded, "ignored": len(events) - recorded}).data,
            status=status.HTTP_201_CREATED,
        )

    @staticmethod
    def _batch(data) -> list:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {"events"})
            if unknown:
                raise ValidationError({name: ["This field is not known."] for name in unknown})
            data = data.get("events")
        if not isinstance(data, list):
            raise ValidationError({"events": ['Give a list of events, as `{"events": [...]}` or `[...]`.']})
        if not data:
            raise ValidationError({"events": ["Give at least one event."]})
        if len(data) > MAX_EVENTS:
            raise ValidationError(
                {"events": [f"At most {MAX_EVENTS:,} events at a time; this batch has {len(data):,}."]}
            )
        return data

    @staticmethod
    def _contacts_of(valid: dict[int, dict], errors: dict) -> dict[int, Contact]:
        """{index: contact} of the valid events, in two queries (ids, emails), both inside the site's
        scope: another site's contact is not found. An event whose contact is not found becomes an error
        (and leaves `valid`)."""
        ids = {data["contact"] for data in valid.values() if "contact" in data}
        emails = {data["email"].strip().lower() for data in valid.values() if "email" in data}
        by_id = {c.pk: c for c in Contact.objects.filter(pk__in=ids)} if ids else {}
        by_email = {}
        if emails:
            by_email = {c.email.lower(): c for c in Contact.objects.filter(email__lower__in=emails)}
        found = {}
        for index, data in list(valid.items()):
            if "contact" in data:
                contact = by_id.get(data["contact"])
                missing = {"contact": ["No contact of this site has this id."]}
            else:
                contact = by_email.get(data["email"].strip().lower())
                missing = {"email": ["No contact of this site has this email."]}
            if contact is None:
                errors[index] = missing
                del valid[index]
            else:
                found[index] = contact
        return found
