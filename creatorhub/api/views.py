"""Endpoints of the tenancy core: health, the caller's sites, API keys and the team."""

import redis
from django.conf import settings
from django.db import connection
from django.db.models import CharField, Value
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from creatorhub import selectors, services
from creatorhub.api.base import SiteAPIView, SiteViewSet
from creatorhub.models import ApiKey, AuditAction, AuditEntry, Invitation, Membership, Site
from creatorhub.roles import Scope
from creatorhub.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AuditEntrySerializer,
    CreatedApiKeySerializer,
    InvitationSerializer,
    MemberSerializer,
    SiteSerializer,
)

HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(),
        "database": serializers.CharField(),
        "redis": serializers.CharField(),
    },
)


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HEALTH, 503: HEALTH})  # 503: the database or Redis does not answer
    def get(self, request):
        checks = {"database": _check_database(), "redis": _check_redis()}
        healthy = all(value in ("ok", "not configured") for value in checks.values())
        return Response(
            {"status": "ok" if healthy else "failing", **checks},
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:
        return f"failing: {error.__class__.__name__}"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        return "ok"
    except redis.RedisError as error:
        return f"failing: {error.__class__.__name__}"


class SiteListView(mixins.ListModelMixin, GenericViewSet):
    """The sites the caller may use: a user's memberships, or an API key's own site."""

    serializer_class = SiteSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Site.objects.none()
        user = self.request.user
        api_key = self.request.auth if isinstance(self.request.auth, ApiKey) else None
        if api_key is not None:
            return (
                Site.objects.filter(pk=api_key.site_id)
                .select_related("plan")
                .annotate(role=Value(api_key.role, output_field=CharField()))
            )
        return selectors.sites_of_user(user)


class SiteDetailView(SiteAPIView):
    scope_map = {"GET": Scope.SITE_READ}

    @extend_schema(responses=SiteSerializer)
    def get(self, request, site):
        return Response(SiteSerializer(self.site, context={"access": self.access}).data)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """A site's API keys. Creating one returns its secret once; deleting one revokes it."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    scope_map = {"GET": Scope.KEYS_MANAGE, "POST": Scope.KEYS_MANAGE, "DELETE": Scope.KEYS_MANAGE}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("created_by")

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: CreatedApiKeySerializer})
    def create(self, request, site):
        form = ApiKeyCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        api_key, secret = services.create_api_key(
            self.site, acting_user=self.acting_user, **form.validated_data
        )
        api_key.key = secret
        return Response(CreatedApiKeySerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        services.revoke_api_key(self.site, api_key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """The site's team. Owners change roles (PATCH) and remove members (DELETE)."""

    model = Membership
    serializer_class = MemberSerializer
    scope_map = {"GET": Scope.TEAM_READ, "PATCH": Scope.TEAM_MANAGE, "DELETE": Scope.TEAM_MANAGE}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("user")

    @extend_schema(request=MemberSerializer, responses=MemberSerializer)
    def partial_update(self, request, site, pk):
        form = MemberSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        membership = self.get_object()
        if "role" in form.validated_data:
            membership = services.change_member_role(
                self.site, membership=membership, role=form.validated_data["role"]
            )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        services.remove_member(self.site, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Invitations to the team, emailed with a one-time link. Deleting one revokes it."""

    model = Invitation
    serializer_class = InvitationSerializer
    scope_map = {"GET": Scope.TEAM_MANAGE, "POST": Scope.TEAM_MANAGE, "DELETE": Scope.TEAM_MANAGE}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("invited_by")

    def create(self, request, site):
        form = InvitationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invitation, _token = services.invite_member(
            self.site, acting_user=self.acting_user, **form.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        services.revoke_invitation(self.site, invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditLogViewSet(mixins.ListModelMixin, SiteViewSet):
    """The site's audit log, newest first, cursor-paged; read-only (entries are never changed)."""

    model = AuditEntry
    serializer_class = AuditEntrySerializer
    scope_map = {"GET": Scope.AUDIT_READ}

    def safely_get_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return queryset
        params = self.request.query_params
        action, actor = params.get("action", ""), params.get("actor", "")
        if action and action not in AuditAction.values:
            raise serializers.ValidationError({"action": [f"Unknown action {action!r}."]})
        if actor and actor not in dict(selectors.audit_actor_choices()):
            raise serializers.ValidationError({"actor": ["Give user:<id>, key:<id>, support or system."]})
        return selectors.audit_entries(queryset, action=action, actor=actor)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, enum=AuditAction.values, description="Only this action."),
            OpenApiParameter(
                "actor", str, description="Only this actor: user:<id>, key:<id>, support or system."
            ),
        ]
    )
    def list(self, request, site):
        return super().list(request, site)
