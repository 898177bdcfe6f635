"""Serializers of the contacts app's own API (forms) and the custom fields' rules, which the contacts API
and the importer share."""

from django.conf import settings
from rest_framework import serializers

from contacts.models import Form
from creatorhub.api.serializers import StrictFieldsMixin

MAX_CUSTOM_FIELDS = 50


def validate_custom_fields(value):
    if not isinstance(value, dict):
        raise serializers.ValidationError("Give an object of field names to text values.")
    if len(value) > MAX_CUSTOM_FIELDS:
        raise serializers.ValidationError(f"At most {MAX_CUSTOM_FIELDS} custom fields.")
    for key, item in value.items():
        if not key or len(key) > 64:
            raise serializers.ValidationError("A field name has 1 to 64 characters.")
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise serializers.ValidationError(f"The value of {key!r} must be text, a number or true/false.")
        if isinstance(item, str) and len(item) > 1000:
            raise serializers.ValidationError(f"The value of {key!r} has more than 1,000 characters.")
    return value


class FormSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    public_url = serializers.SerializerMethodField()
    tag_names = serializers.ListField(
        child=serializers.CharField(max_length=100, allow_blank=True),
        required=False,
        max_length=100,
        help_text="Tags added to everyone who submits.",
    )

    class Meta:
        model = Form
        fields = [
            "id",
            "name",
            "slug",
            "double_opt_in",
            "ask_name",
            "tag_names",
            "redirect_url",
            "success_message",
            "public_url",
            "created_at",
            "archived_at",
        ]
        read_only_fields = ["id", "public_url", "created_at", "archived_at"]

    def get_public_url(self, form) -> str:
        return f"{settings.SITE_URL.rstrip('/')}/f/{self.context['site'].slug}/{form.slug}/"
