"""The audience API's serializers: contacts as the Contacts tab shows them, segments, bulk actions,
exports and grants."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audience.segments import count, describe
from audience.selectors import explain, read_active_customer_flags, read_tags_and_offers
from contacts.models import (
    BulkAction,
    BulkActionKind,
    ConsentEvent,
    Contact,
    Export,
    ExportFileDeleted,
    JobStatus,
    UnsubscribeReason,
)
from contacts.serializers import validate_custom_fields
from creatorhub.api.serializers import ObjectIdField, StrictSerializer


class ContactListSerializer(serializers.ListSerializer):
    """A page of contacts. What a row shows from other tables (its tags, the offers it holds, whether it
    is an active customer today) is read for the whole page at once, as plain values (page_of); each row
    is ContactSerializer.row."""

    def to_representation(self, data):
        contacts = list(data.all() if hasattr(data, "all") else data)
        page_of(self.context["site"], contacts)
        zone = timezone.get_current_timezone()
        return [self.child.row(contact, zone) for contact in contacts]


@dataclass(frozen=True)
class OnPage:
    """What a contact's row shows from other tables."""

    tags: list[str]
    offers: list[int]
    is_active_customer: bool


def page_of(site, contacts: list[Contact]) -> None:
    """Sets `on_page` on each of `contacts`: their tags and offers (read with them by
    with_tags_and_offers, else now) and whether they are active customers (read with a contact shown
    alone, else now)."""
    read_tags_and_offers(contacts)
    read_active_customer_flags(site, contacts)
    for contact in contacts:
        contact.on_page = OnPage(contact.tag_names, contact.offer_ids, contact.is_active_customer)


class ContactSerializer(serializers.ModelSerializer):
    """The API's contact. Tags, offers and `is_active_customer` come from page_of: a contact shown
    alone is a page of one."""

    tags = serializers.SerializerMethodField()
    is_active_customer = serializers.SerializerMethodField(
        help_text="A customer with activity in the 30 days ending today."
    )
    offers = serializers.SerializerMethodField(help_text="The ids of the offers the contact holds.")

    class Meta:
        model = Contact
        fields = [
            "id",
            "email",
            "name",
            "subscription_status",
            "unsubscribe_reason",
            "status_changed_at",
            "is_customer",
            "is_active_customer",
            "tags",
            "offers",
            "fields",
            "origin",
            "created_at",
            "last_activity_at",
        ]
        read_only_fields = fields
        list_serializer_class = ContactListSerializer

    def to_representation(self, contact):
        if not hasattr(contact, "on_page"):
            page_of(self.context["site"], [contact])
        return super().to_representation(contact)

    def row(self, contact, zone) -> dict:
        """The contact of a page (after page_of), as to_representation gives it (a test holds the two
        equal), written out rather than DRF's field by field, for the contacts benchmark's API pages.
        `zone`: the current time zone, which DRF's date field looks up again for every value."""
        on_page = contact.on_page

        def moment(value) -> str | None:  # DRF's ISO 8601, UTC written "Z"
            if value is None:
                return None
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return {
            "id": contact.pk,
            "email": contact.email,
            "name": contact.name,
            "subscription_status": contact.subscription_status,
            "unsubscribe_reason": contact.unsubscribe_reason,
            "status_changed_at": moment(contact.status_changed_at),
            "is_customer": contact.is_customer,
            "is_active_customer": on_page.is_active_customer,
            "tags": on_page.tags,
            "offers": on_page.offers,
            "fields": contact.fields,
            "origin": contact.origin,
            "created_at": moment(contact.created_at),
            "last_activity_at": moment(contact.last_activity_at),
        }

    def get_is_active_customer(self, contact) -> bool | None:
        return contact.on_page.is_active_customer

    def get_tags(self, contact) -> list[str]:
        return contact.on_page.tags

    def get_offers(self, contact) -> list[int]:
        return contact.on_page.offers


class ContactDetailSerializer(ContactSerializer):
    explanation = serializers.SerializerMethodField()

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "explanation"]
        read_only_fields = fields

    def get_explanation(self, contact) -> dict:
        return explain(contact)


class ContactCreateSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    fields = serializers.JSONField(required=False, default=dict, validators=[validate_custom_fields])
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=100
    )
    consent = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=False,
        help_text="How the person agreed to marketing email. Given, the contact is created subscribed.",
    )


class ContactUpdateSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    fields = serializers.JSONField(required=False, validators=[validate_custom_fields])


class SubscribeSerializer(StrictSerializer):
    consent = serializers.CharField(max_length=300, help_text="How the person agreed to marketing email.")


class UnsubscribeSerializer(StrictSerializer):
    reason = serializers.ChoiceField(
        choices=[UnsubscribeReason.MANUAL, UnsubscribeReason.OPTED_OUT],
        default=UnsubscribeReason.MANUAL,
        help_text="manual: the team unsubscribes them; opted_out: they asked (e.g. in your own app).",
    )


class TagsSerializer(StrictSerializer):
    add = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=100
    )
    remove = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=100
    )

    def validate(self, data):
        if not data["add"] and not data["remove"]:
            raise serializers.ValidationError("Give tags to `add` or to `remove`.")
        return data


class ConsentEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    form = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "occurred_at",
            "original_at",
            "from_status",
            "from_reason",
            "to_status",
            "to_reason",
            "source",
            "note",
            "actor",
            "form",
            "ip",
            "user_agent",
        ]
        read_only_fields = fields

    def get_actor(self, event) -> str | None:
        if event.actor_user_id:
            return event.actor_user.email
        if event.actor_api_key_id:
            return f"API key “{event.actor_api_key.name}”"
        return None


class SegmentSerializer(serializers.Serializer):
    """A default segment (`id` all, customers or subscribed) or a saved one (`id` a number)."""

    id = serializers.CharField(source="key")
    name = serializers.CharField()
    filters = serializers.JSONField()
    description = serializers.SerializerMethodField(help_text="The filters in words, one phrase each.")
    is_default = serializers.SerializerMethodField()
    count = serializers.SerializerMethodField(
        help_text="How many contacts it matches (kept for up to a minute: counts of big sites are cached)."
    )

    def get_description(self, segment) -> list[str]:
        return describe(segment.filters)

    def get_is_default(self, segment) -> bool:
        return segment.saved is None

    def get_count(self, segment) -> int:
        return count(self.context["site"], filters=segment.filters)


class SegmentInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    filters = serializers.JSONField(help_text='{"all": [filter or {"any": [filter, …]}, …]}')


class SegmentUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    filters = serializers.JSONField(required=False)


class SegmentPreviewInput(StrictSerializer):
    filters = serializers.JSONField()
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class SelectionInput(StrictSerializer):
    """Chosen contacts (`contact_ids`), or all that a segment matches (`segment`, and/or `filters` on
    top, with `search`)."""

    contact_ids = serializers.ListField(child=ObjectIdField(), required=False, max_length=10_000)
    segment = serializers.CharField(max_length=20, required=False)
    filters = serializers.JSONField(required=False)
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, data):
        if bool(data.get("contact_ids")) == bool({"segment", "filters"} & set(data)):
            raise serializers.ValidationError("Give `contact_ids`, or a `segment` and/or `filters`.")
        return data


class BulkActionInput(SelectionInput):
    kind = serializers.ChoiceField(choices=BulkActionKind.choices)
    tag = serializers.CharField(max_length=100, required=False, help_text="For add_tag and remove_tag.")
    consent = serializers.CharField(
        max_length=300, required=False, help_text="For subscribe: how these contacts gave their consent."
    )
    offer = ObjectIdField(required=False, help_text="For revoke_offer: the offer's id.")


class BulkActionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = BulkAction
        fields = [
            "id",
            "kind",
            "params",
            "description",
            "status",
            "total",
            "done",
            "changed",
            "skipped",
            "skipped_reasons",
            "error",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ExportSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="The CSV file, once the export is done and until it is deleted. With object storage it "
        "answers with a redirect to a link that works for a few minutes."
    )
    file_deleted_because = serializers.SerializerMethodField(
        help_text="Why the file was deleted: it expired, or a contact it may hold was deleted."
    )

    class Meta:
        model = Export
        fields = [
            "id",
            "segment_name",
            "status",
            "total",
            "written",
            "error",
            "download_url",
            "expires_at",
            "file_deleted_at",
            "file_deleted_because",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ExportFileDeleted.choices, allow_null=True))
    def get_file_deleted_because(self, export) -> str | None:
        return export.file_deleted_because or None

    def get_download_url(self, export) -> str | None:
        if export.status != JobStatus.DONE or export.file_deleted_at:
            return None
        path = reverse(
            "audience-api:export-download", kwargs={"site": self.context["site"].slug, "pk": export.pk}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
