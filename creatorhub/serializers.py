from rest_framework import serializers

from creatorhub.models import ApiKey, AuditEntry, Invitation, Membership, Plan, Site
from creatorhub.roles import Role


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["name", "contact_limit", "active_customer_limit", "price", "currency"]


class SiteSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)
    role = serializers.SerializerMethodField(help_text="Your role on the site (or your API key's).")

    class Meta:
        model = Site
        fields = ["slug", "name", "time_zone", "plan", "role", "created_at"]

    def get_role(self, site) -> str | None:
        access = self.context.get("access")
        return access.role if access is not None else getattr(site, "role", None)


class ApiKeySerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "created_by", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ADMIN)


class CreatedApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at"]
        read_only_fields = ["id", "email", "name", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]


class AuditEntrySerializer(serializers.ModelSerializer):
    """One audit entry: who (`actor_kind`, `actor`, and the user's or key's id while they exist), what
    (`action`, `target_type`, `target_id`, `target`), when, from where (`ip`, `user_agent`) and the
    `changes` (old and new values, counts)."""

    actor = serializers.CharField(source="actor_label", read_only=True)
    target = serializers.CharField(source="target_label", read_only=True)
    changes = serializers.JSONField(read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "action",
            "actor_kind",
            "actor",
            "actor_user",
            "actor_api_key",
            "target_type",
            "target_id",
            "target",
            "changes",
            "ip",
            "user_agent",
        ]
        read_only_fields = fields
