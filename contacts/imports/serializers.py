import json

from django.urls import reverse
from rest_framework import serializers

from contacts.imports.mapping import describe
from contacts.models import EveryoneInFile, Import, SubscriptionStatus, UnsubscribeReason
from creatorhub.api.serializers import StrictSerializer

ERRORS_SHOWN = 100


class ImportInput(StrictSerializer):
    """Multipart: the file, and how to import it."""

    file = serializers.FileField(
        help_text="A CSV file (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252)."
    )
    subscribe = serializers.BooleanField(
        default=False,
        help_text="Subscribe to marketing emails: raises never subscribed and pending contacts to "
        "subscribed; never resubscribes anyone who unsubscribed, bounced or complained.",
    )
    consent = serializers.CharField(
        max_length=300,
        required=False,
        default="",
        help_text="Required with `subscribe`: how the people in the file agreed to marketing email.",
    )
    everyone = serializers.ChoiceField(
        choices=EveryoneInFile.choices,
        required=False,
        default="",
        help_text="What the file says of everyone in it: a list of people who never subscribed, "
        "unsubscribed (opted_out, manual), bounced or complained. Mailchimp's unsubscribed, cleaned and "
        "nonsubscribed exports are recognised by themselves.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        required=False,
        default=list,
        help_text="Tags added to every contact of the file (repeat the field, or separate with commas).",
    )
    mapping = serializers.JSONField(
        required=False,
        help_text='What columns become, by column name: {"E-post": "email", "Telefon": "field:phone", '
        '"Estado": "status", "Notes": "skip"}; targets: email, name, first_name, last_name, tags, '
        "status (subscribed, pending, never subscribed, unsubscribed, bounced, cleaned, complained, or "
        "yes/no), unsubscribed (yes/no: yes is an opt-out), receives_emails (yes/no: no is an opt-out), "
        "unsubscribe_reason, subscribed_at, unsubscribed_at, bounced_at (a date there marks the row "
        "unsubscribed or bounced), consent_ip, field:<name>, skip. "
        "Columns not named keep what their header (and, for consent, their values) suggests.",
    )

    def validate_tags(self, value) -> list[str]:
        return [name.strip() for item in value for name in item.split(",") if name.strip()]

    def validate_mapping(self, value) -> dict:
        if isinstance(value, str):  # a multipart field arrives as text
            try:
                value = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("Give a JSON object of column name to target.") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise serializers.ValidationError("Give a JSON object of column name to target.")
        return value

    def validate(self, data):
        if data["subscribe"] and not data["consent"].strip():
            raise serializers.ValidationError(
                {"consent": ["Say how the people in this file agreed to receive marketing emails."]}
            )
        return data


class OutcomeSerializer(serializers.Serializer):
    """What an import did to the contacts that end with one status."""

    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    reason = serializers.ChoiceField(choices=UnsubscribeReason.choices, allow_null=True)
    label = serializers.CharField(help_text="The status in words: “Unsubscribed: hard bounce”.")
    created = serializers.IntegerField(help_text="New contacts.")
    updated = serializers.IntegerField(help_text="Existing contacts.")
    status_changed = serializers.IntegerField(help_text="Existing contacts whose status the import changed.")


class ImportSerializer(serializers.ModelSerializer):
    """The API's import: `status`, `total`, `created`, `updated`, `skipped`, `progress` (percent of the
    file read), and on the single import the first errors (row, column, message) with the report."""

    url = serializers.SerializerMethodField()
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    skipped = serializers.IntegerField(source="skipped_count", read_only=True)
    mapping = serializers.SerializerMethodField(help_text="What each column became, in file order.")
    error_report = serializers.SerializerMethodField(help_text="Every row not imported, as CSV.")
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    outcome = OutcomeSerializer(
        many=True,
        read_only=True,
        help_text="Once done, one entry per status the contacts may end with: how many were created and "
        "updated, and how many of the updated ones had their status changed.",
    )

    class Meta:
        model = Import
        fields = [
            "id",
            "url",
            "status",
            "filename",
            "size",
            "encoding",
            "delimiter",
            "exporter",
            "mapping",
            "subscribe",
            "consent",
            "everyone",
            "tags",
            "total",
            "created",
            "updated",
            "skipped",
            "outcome",
            "progress",
            "failure",
            "error_report",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, imp) -> str:
        return self._absolute("contacts-api:import-detail", imp)

    def get_mapping(self, imp) -> list[dict]:
        return [
            {"column": column, "to": target, "label": describe(target)}
            for column, target in zip(imp.headers, imp.mapping, strict=True)
        ]

    def get_error_report(self, imp) -> str | None:
        return self._absolute("contacts-api:import-report", imp) if imp.skipped_count else None

    def _absolute(self, name, imp) -> str:
        path = reverse(name, kwargs={"site": self.context["site"].slug, "pk": imp.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportDetailSerializer(ImportSerializer):
    errors = serializers.SerializerMethodField(help_text=f"The first {ERRORS_SHOWN} rows not imported.")

    class Meta(ImportSerializer.Meta):
        fields = [*ImportSerializer.Meta.fields, "errors"]
        read_only_fields = fields

    def get_errors(self, imp) -> list[dict]:
        rows = imp.row_errors.order_by("row", "id").values("row", "column", "message")[:ERRORS_SHOWN]
        return list(rows)
