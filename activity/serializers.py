"""The activity API's input and output: the events of a batch (POST events/) and the events listed."""

import json
from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from activity.feed import sentence
from activity.models import NOT_ACTIVITY, ActivityEvent, ActivityKind
from creatorhub.api.serializers import ObjectIdField, StrictSerializer

MAX_EVENTS = 1000
MAX_DETAILS_CHARS = 2000  # the details of an event, as JSON
FUTURE_SLACK = timedelta(minutes=5)  # the sender's clock may run a little ahead of ours


@extend_schema_field({"type": "string", "enum": ActivityKind.values}, component_name="ActivityKind")
class ActivityKindField(serializers.ChoiceField):
    """An activity kind, its own `ActivityKind` schema component: a `KindEnum` named after the field would
    collide with the emails' kinds (drf-spectacular warns, and `check --deploy` fails on warnings)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ActivityKind.choices, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 moment with its time zone (a naive time would be read in some zone or other)."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                raise serializers.ValidationError(
                    "Give the time zone too, e.g. 2026-05-04T09:30:00Z or 2026-05-04T11:30:00+02:00."
                )
        return super().to_internal_value(value)


class EventInputSerializer(StrictSerializer):
    """One event of a batch: who (`email` or `contact`, exactly one), what (`kind`) and when."""

    email = serializers.CharField(
        max_length=254, required=False, help_text="The email of one of the site's contacts (any case)."
    )
    contact = ObjectIdField(required=False, help_text="A contact's id.")
    kind = ActivityKindField(
        help_text="What the contact did (offer_granted is CreatorHub's own, not taken here)."
    )
    occurred_at = AwareDateTimeField(
        help_text="When it happened: ISO 8601 with a time zone, at most 5 minutes ahead of now."
    )
    id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=False,
        help_text="Your id of the event: an event whose id was recorded before is ignored.",
    )
    details = serializers.DictField(
        required=False, default=dict, help_text="A small object (up to 2,000 characters as JSON)."
    )

    def validate_occurred_at(self, value):
        if value > timezone.now() + FUTURE_SLACK:
            raise serializers.ValidationError("This is more than 5 minutes in the future.")
        return value

    def validate_details(self, value):
        if len(json.dumps(value, default=str)) > MAX_DETAILS_CHARS:
            raise serializers.ValidationError(f"Keep the details under {MAX_DETAILS_CHARS:,} characters.")
        return value

    def validate(self, data):
        if ("email" in data) == ("contact" in data):
            raise serializers.ValidationError({"contact": ["Give exactly one of `email` and `contact`."]})
        return data

    def validate_kind(self, value):
        if value in NOT_ACTIVITY:
            raise serializers.ValidationError(
                "Grants are recorded by CreatorHub itself: send what the contact did."
            )
        return value


class EventBatchSerializer(StrictSerializer):
    """The body of POST events/ as the schema shows it; a bare list of events is accepted too."""

    events = EventInputSerializer(many=True, max_length=MAX_EVENTS)


class EventsRecordedSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text="The events written.")
    ignored = serializers.IntegerField(help_text="Repeats of an `id` recorded before, not written again.")


class ActivityEventSerializer(serializers.ModelSerializer):
    contact_email = serializers.EmailField(
        source="contact.email", read_only=True, allow_null=True, help_text="None once the contact is deleted."
    )
    kind = ActivityKindField(read_only=True)
    sentence = serializers.SerializerMethodField(help_text="The event as people read it.")

    class Meta:
        model = ActivityEvent
        fields = [
            "id",
            "contact",
            "contact_email",
            "kind",
            "occurred_at",
            "recorded_at",
            "details",
            "external_id",
            "sentence",
        ]
        read_only_fields = fields

    def get_sentence(self, event) -> str:
        return sentence(event)
