"""The offers API under /api/v1/sites/<site>/: offers, products, grant jobs, accesses and purchases. Granting
an offer to contacts is audience.api.OfferGrantsView (it takes segments)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope
from offers.models import Access, GrantJob, Offer, Product, Purchase
from offers.serializers import (
    AccessSerializer,
    GrantJobSerializer,
    LessonInput,
    OfferInput,
    OfferSerializer,
    ProductInput,
    ProductSerializer,
    ProductUpdateInput,
    PurchaseInput,
    PurchaseSerializer,
    RevokeInput,
)
from offers.services import access as access_services
from offers.services import catalog


class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """A site's offers. Deleting one archives it: it can no longer be granted or bought."""

    model = Offer
    serializer_class = OfferSerializer
    scope_map = {
        "GET": Scope.OFFERS_READ,
        "POST": Scope.OFFERS_WRITE,
        "PATCH": Scope.OFFERS_WRITE,
        "DELETE": Scope.OFFERS_WRITE,
    }
    action_scopes = {"revocations": {"POST": Scope.OFFERS_GRANT}}

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related("products")

    @extend_schema(request=OfferInput, responses={201: OfferSerializer})
    def create(self, request, site):
        data = self.valid_input(OfferInput)
        offer = catalog.create_offer(
            self.site,
            title=data["title"],
            description=data.get("description", ""),
            price=data.get("price", 0),
            currency=data.get("currency", "USD"),
            product_ids=data.get("products", []),
        )
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OfferInput, responses=OfferSerializer)
    def partial_update(self, request, site, pk):
        data = self.valid_input(OfferInput, partial=True)
        offer = catalog.update_offer(
            self.site,
            offer=self.get_object(),
            title=data.get("title"),
            description=data.get("description"),
            price=data.get("price"),
            currency=data.get("currency"),
            product_ids=data.get("products"),
        )
        return Response(OfferSerializer(self.get_queryset().get(pk=offer.pk)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        catalog.archive_offer(self.site, offer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RevokeInput, responses={200: None})
    @action(detail=True, methods=["post"])
    def revocations(self, request, site, pk):
        """Revokes the offer from these contacts (history stays; nothing is sent)."""
        data = self.valid_input(RevokeInput)
        ended = access_services.revoke_offer(
            self.site, offer=self.get_object(), contacts_ids=data["contact_ids"], acting_user=self.acting_user
        )
        return Response({"revoked": ended})


class GrantJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Grants to many contacts, with their progress and result."""

    model = GrantJob
    serializer_class = GrantJobSerializer
    scope_map = {"GET": Scope.OFFERS_READ}


class AccessViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Who holds what. Filters: `contact`, `offer`, `live` (true: not revoked)."""

    model = Access
    serializer_class = AccessSerializer
    scope_map = {"GET": Scope.OFFERS_READ, "POST": Scope.OFFERS_GRANT}
    filterset_fields = ["contact", "offer"]

    def safely_get_queryset(self, queryset):
        queryset = queryset.select_related("contact", "granted_by")
        live = self.request.query_params.get("live")
        if live in ("true", "false"):
            queryset = queryset.filter(revoked_at__isnull=live == "true")
        return queryset

    @extend_schema(request=None, responses=AccessSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, site, pk):
        access = access_services.revoke_access(
            self.site, access=self.get_object(), acting_user=self.acting_user
        )
        return Response(AccessSerializer(self.get_queryset().get(pk=access.pk)).data)


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Courses with their lessons in order. PATCH edits a course's title and description; POST to
    `<id>/lessons/` adds a lesson at the end."""

    model = Product
    serializer_class = ProductSerializer
    scope_map = {"GET": Scope.OFFERS_READ, "POST": Scope.OFFERS_WRITE, "PATCH": Scope.OFFERS_WRITE}

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related("lessons")

    @extend_schema(request=ProductInput, responses={201: ProductSerializer})
    def create(self, request, site):
        data = self.valid_input(ProductInput)
        product = catalog.create_product(
            self.site, title=data["title"], description=data["description"], lesson_titles=data["lessons"]
        )
        return Response(
            ProductSerializer(self.get_queryset().get(pk=product.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=ProductUpdateInput, responses=ProductSerializer)
    def partial_update(self, request, site, pk):
        data = self.valid_input(ProductUpdateInput, partial=True)
        product = catalog.update_product(
            self.site, product=self.get_object(), title=data.get("title"), description=data.get("description")
        )
        return Response(ProductSerializer(self.get_queryset().get(pk=product.pk)).data)

    @extend_schema(request=LessonInput, responses={201: ProductSerializer})
    @action(detail=True, methods=["post"])
    def lessons(self, request, site, pk):
        data = self.valid_input(LessonInput)
        product = self.get_object()
        catalog.add_lesson(self.site, product=product, title=data["title"], body=data["body"])
        return Response(
            ProductSerializer(self.get_queryset().get(pk=product.pk)).data, status=status.HTTP_201_CREATED
        )


class PurchaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Paid checkouts. POST records one; the same `idempotency_key` again returns it (200, not 201)."""

    model = Purchase
    serializer_class = PurchaseSerializer
    scope_map = {"GET": Scope.OFFERS_READ, "POST": Scope.PURCHASES_WRITE}

    @extend_schema(request=PurchaseInput, responses={201: PurchaseSerializer, 200: PurchaseSerializer})
    def create(self, request, site):
        data = self.valid_input(PurchaseInput)
        offer = Offer.objects.filter(pk=data.pop("offer")).first()
        if offer is None:
            raise ValidationError({"offer": ["No offer with this id on this site."]})
        result = access_services.record_purchase(self.site, offer=offer, **data)
        return Response(
            PurchaseSerializer(result.purchase).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
