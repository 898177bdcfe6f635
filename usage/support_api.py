"""The support API under /api/v1/support/: overage cases and a site's usage with its forecast, for
platform support staff. Sites, plans, usage figures and cases only: never contacts."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from creatorhub import audit
from creatorhub.models import AuditAction, Site, User
from creatorhub.serializers import PlanSerializer
from creatorhub.tenancy import platform_wide, site_scope
from usage.models import OverageCase, OverageCaseEntry, OverageOutcome, OverageStatus
from usage.serializers import HistoryDaySerializer
from usage.services import change_case
from usage.support_views import (
    NOT_RESOLVED,
    STATUS_FILTERS,
    overage_queue,
    site_usage_context,
    support_users,
)


class IsSupportStaff(BasePermission):
    message = "Only platform support staff may use the support API."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_support", False))  # an API key's caller is no staff


class SupportAPIView(APIView):
    """THE AUDITED DOOR of the support API: the one API base class whose handlers run with django-scopes
    disabled (platform-wide work).

    Session users only (site API keys are refused); anonymous callers get a 401, anyone who is not
    support staff (`user.is_support`) a 403. With scopes disabled, every query names its site itself;
    support endpoints read Site, Plan, UsageSnapshot, OverageCase and OverageCaseEntry only, never
    contacts, and write through services inside `site_scope(case.site)`.
    """

    permission_classes = [IsSupportStaff]

    def dispatch(self, request, *args, **kwargs):
        with (
            platform_wide(f"support API {request.method} {request.path}"),
            audit.acting(request, support=True),
        ):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        audit.identify(user=request.user)  # support staff, once authenticated


class SupportSiteSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)

    class Meta:
        model = Site
        fields = ["slug", "name", "time_zone", "plan"]


class SupportUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]


STATUS_HELP = "open, contacted or resolved"  # plain strings: "status" names other enums in the schema


class CaseEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    from_status = serializers.CharField(read_only=True, help_text=f"{STATUS_HELP}, or blank")
    to_status = serializers.CharField(read_only=True, help_text=f"{STATUS_HELP}, or blank")

    class Meta:
        model = OverageCaseEntry
        fields = ["at", "author", "text", "from_status", "to_status"]


class CaseSerializer(serializers.ModelSerializer):
    site = SupportSiteSerializer(read_only=True)
    assignee = SupportUserSerializer(read_only=True, allow_null=True)
    over_by = serializers.IntegerField(read_only=True, help_text="Active customers above the limit.")
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)

    class Meta:
        model = OverageCase
        fields = [
            "id",
            "site",
            "status",
            "outcome",
            "opened_on",
            "last_over_on",
            "active_customers",
            "peak_active_customers",
            "active_customer_limit",
            "over_by",
            "assignee",
            "created_at",
            "updated_at",
            "resolved_at",
        ]


class CaseDetailSerializer(CaseSerializer):
    entries = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "entries"]

    @extend_schema_field(CaseEntrySerializer(many=True))
    def get_entries(self, case) -> list[dict]:
        rows = case.entries.filter(site_id=case.site_id).select_related("author")
        return CaseEntrySerializer(rows, many=True).data


class CaseListSerializer(serializers.Serializer):
    results = CaseSerializer(many=True)


class CaseChangeSerializer(serializers.Serializer):
    status = serializers.CharField(required=False, help_text=STATUS_HELP)
    outcome = serializers.ChoiceField(choices=OverageOutcome.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = support_users()

    def validate_status(self, value):
        if value not in OverageStatus.values:
            raise serializers.ValidationError("The status is open, contacted or resolved.")
        return value


class ForecastSerializer(serializers.Serializer):
    crosses_on = serializers.DateField(
        allow_null=True, help_text="The first day the trend is over the limit."
    )
    reason = serializers.ChoiceField(choices=["rising", "flat", "falling", "already_over", "not_enough_data"])
    message = serializers.CharField()
    slope_per_day = serializers.FloatField(allow_null=True)
    days_used = serializers.IntegerField()
    limit = serializers.IntegerField()


class SiteUsageSerializer(serializers.Serializer):
    site = SupportSiteSerializer()
    history = HistoryDaySerializer(many=True)
    forecast = ForecastSerializer()


class CaseListView(SupportAPIView):
    @extend_schema(
        responses={200: CaseListSerializer},
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=[value for value, _ in STATUS_FILTERS if value],
                description="Default: the cases not resolved.",
            )
        ],
        operation_id="support_cases_list",
    )
    def get(self, request):
        status = request.query_params.get("status", NOT_RESOLVED)
        if status not in dict(STATUS_FILTERS):
            raise serializers.ValidationError({"status": ["Use open, contacted, resolved or all."]})
        cases = overage_queue(status)[:500]
        return Response({"results": CaseSerializer(cases, many=True).data})


class CaseDetailView(SupportAPIView):
    def _case(self, pk) -> OverageCase:
        return get_object_or_404(OverageCase.objects.select_related("site__plan", "assignee"), pk=pk)

    @extend_schema(responses={200: CaseDetailSerializer}, operation_id="support_cases_retrieve")
    def get(self, request, pk):
        case = self._case(pk)
        audit.record(
            case.site, AuditAction.SUPPORT_CASE_VIEWED, target=case, target_label=f"Overage case #{pk}"
        )
        return Response(CaseDetailSerializer(case).data)

    @extend_schema(
        request=CaseChangeSerializer,
        responses={200: CaseDetailSerializer},
        operation_id="support_cases_update",
    )
    def patch(self, request, pk):
        case = self._case(pk)
        form = CaseChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        with site_scope(case.site):
            change_case(
                case.site,
                case=case,
                acting_user=request.user,
                status=data.get("status") or None,
                outcome=data.get("outcome", ""),
                note=data.get("note", ""),
                assignee=data.get("assignee"),
            )
        return Response(CaseDetailSerializer(self._case(pk)).data)


class SiteUsageView(SupportAPIView):
    @extend_schema(responses={200: SiteUsageSerializer}, operation_id="support_site_usage")
    def get(self, request, slug):
        site = get_object_or_404(Site.objects.select_related("plan"), slug=slug)
        audit.record(site, AuditAction.SUPPORT_SITE_VIEWED, target=site)
        usage = site_usage_context(site)
        body = {"site": site, "history": usage["history"], "forecast": usage["forecast"].as_dict()}
        return Response(SiteUsageSerializer(body).data)
