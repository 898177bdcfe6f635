from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from creatorhub.api.serializers import ObjectIdField, StrictSerializer
from emails.models import EmailKind, OutboundEmail
from emails.rendering import MAX_BODY, MAX_SUBJECT


class OutboundEmailSerializer(serializers.ModelSerializer):
    """One entry of the email log. `error` holds the failure, or the reason of a suppression."""

    class Meta:
        model = OutboundEmail
        fields = [
            "id",
            "kind",
            "to_email",
            "subject",
            "status",
            "error",
            "attempts",
            "created_at",
            "sent_at",
            "contact",
        ]
        read_only_fields = fields


class EmailTemplateSerializer(serializers.Serializer):
    """A kind of automated email as the site has it: its own template, or the shipped default."""

    kind = serializers.ChoiceField(choices=EmailKind.choices)
    name = serializers.CharField()
    subject = serializers.CharField()
    body_text = serializers.CharField()
    body_html = serializers.CharField()
    is_default = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True)
    variables = serializers.ListField(child=serializers.CharField(), help_text="What the template may use.")


@extend_schema_serializer(many=False)  # the list action answers one object, not an array of them
class EmailTemplateListSerializer(serializers.Serializer):
    results = EmailTemplateSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class EmailTemplateInputSerializer(StrictSerializer):
    subject = serializers.CharField(max_length=MAX_SUBJECT)
    body_text = serializers.CharField(max_length=MAX_BODY)
    body_html = serializers.CharField(max_length=MAX_BODY)


class PreviewInputSerializer(StrictSerializer):
    contact = ObjectIdField(
        required=False, allow_null=True, help_text="One of the site's contacts; the sample contact without."
    )


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    html = serializers.CharField()
