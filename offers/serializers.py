from rest_framework import serializers

from creatorhub.api.serializers import ObjectIdField, StrictSerializer
from offers.models import Access, GrantJob, Lesson, Offer, Product, Purchase


class LessonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lesson
        fields = ["id", "title", "position", "body"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    lessons = LessonSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "title", "description", "lessons", "created_at"]
        read_only_fields = fields


class ProductInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    lessons = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=500,
        help_text="Lesson titles, in order.",
    )


class ProductUpdateInput(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class LessonInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="")


class OfferSerializer(serializers.ModelSerializer):
    products = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Offer
        fields = ["id", "title", "description", "price", "currency", "products", "created_at", "archived_at"]
        read_only_fields = fields


class OfferInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    products = serializers.ListField(child=ObjectIdField(), required=False, max_length=200)


class GrantInput(StrictSerializer):
    contact_ids = serializers.ListField(child=ObjectIdField(), required=False, max_length=100_000)
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=100_000
    )
    segment = serializers.CharField(
        required=False,
        max_length=20,
        help_text="`all`, `customers`, `subscribed` or a saved segment's id: everyone it matches.",
    )
    filters = serializers.JSONField(
        required=False, help_text="Segment filters (see segments/), alone or on top of `segment`."
    )
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    send_grant_email = serializers.BooleanField(default=True)

    def validate(self, data):
        given = [key for key in ("contact_ids", "emails", "segment") if data.get(key)]
        if data.get("filters") and "segment" not in given:
            given.append("filters")
        if len(given) != 1:
            raise serializers.ValidationError("Give exactly one of contact_ids, emails or segment.")
        return data


class AccessSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="contact.email", read_only=True)
    granted_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = Access
        fields = [
            "id",
            "contact",
            "email",
            "offer",
            "source",
            "purchase",
            "granted_by",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = fields


class GrantJobSerializer(serializers.ModelSerializer):
    accesses = serializers.SerializerMethodField(help_text="The accesses this grant created (first 1,000).")

    class Meta:
        model = GrantJob
        fields = [
            "id",
            "offer",
            "status",
            "target",
            "send_grant_email",
            "total",
            "granted",
            "skipped",
            "failed",
            "skips",
            "errors",
            "accesses",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_accesses(self, job) -> list[dict]:
        rows = Access.objects.filter(grant_job=job).select_related("contact").order_by("id")[:1000]
        return [{"id": a.pk, "contact": a.contact_id, "email": a.contact.email} for a in rows]


class RevokeInput(StrictSerializer):
    contact_ids = serializers.ListField(child=ObjectIdField(), min_length=1, max_length=10_000)


class PurchaseInput(StrictSerializer):
    offer = ObjectIdField()
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(max_length=3)
    idempotency_key = serializers.CharField(max_length=200)
    marketing_opt_in = serializers.BooleanField(
        default=False, help_text="The buyer ticked “Subscribe to marketing emails” at checkout."
    )


class PurchaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Purchase
        fields = ["id", "offer", "contact", "email", "amount", "currency", "idempotency_key", "created_at"]
        read_only_fields = fields
