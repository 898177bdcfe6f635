"""The creator's usage against the plan: `GET /api/v1/sites/<site>/usage/` (owners: usage:read), and the
figures the usage page shows (`current_usage`, `usage_history`)."""

from datetime import date, timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from activity.models import UsageSnapshot
from activity.selectors import active_customers_on
from creatorhub import charts
from creatorhub.api.base import SiteAPIView
from creatorhub.models import Site
from creatorhub.roles import Scope
from creatorhub.serializers import PlanSerializer

HISTORY_DAYS = 90
WARNING_PERCENT = 80


def current_usage(site: Site, day: date | None = None) -> dict:
    """Today's active customers (counted live) against the plan's limit. Call inside the site's scope."""
    day = day or site.today()
    return usage_against_limit(active_customers_on(site, day), site.plan.active_customer_limit, day=day)


def usage_against_limit(active: int, limit: int, *, day: date) -> dict:
    """`active` customers on `day` against the plan's `limit`, as the usage page and the Overview show it
    (templates/app/usage/_limit_alert.html). The warning starts at 80% of the limit; over the limit means
    above it. Nothing is ever blocked."""
    over = active > limit
    return {
        "day": day,
        "active_customers": active,
        "active_customer_limit": limit,
        "share": round(active / limit, 4) if limit else 0.0,
        "percent": int(active * 100 // limit) if limit else 0,
        "warning": bool(limit) and active * 100 >= WARNING_PERCENT * limit and not over,
        "over_limit": over,
    }


def usage_history(site: Site, today: date | None = None, *, days: int = HISTORY_DAYS) -> list[UsageSnapshot]:
    """The site's daily snapshots of the `days` finished days before `today`, oldest first (the nightly
    task stores a day once it has ended). The site is named in the filter, so this also reads right
    where scopes are disabled (support pages)."""
    today = today or site.today()
    rows = UsageSnapshot.objects.filter(site=site, day__gte=today - timedelta(days=days), day__lt=today)
    return list(rows.order_by("day"))


class HistoryDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    active_customers = serializers.IntegerField()
    active_customer_limit = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    day = serializers.DateField()
    active_customers = serializers.IntegerField()
    active_customer_limit = serializers.IntegerField()
    share = serializers.FloatField(help_text="Active customers over the limit: 0.84 is 84%.")
    warning = serializers.BooleanField(help_text="From 80% of the limit, up to the limit.")
    over_limit = serializers.BooleanField(help_text="Above the limit. Nothing is blocked.")
    plan = PlanSerializer()
    history = HistoryDaySerializer(
        many=True, help_text="The daily figures of the last 90 days, oldest first."
    )


class UsageView(SiteAPIView):
    scope_map = {"GET": Scope.USAGE_READ}

    @extend_schema(responses={200: UsageSerializer}, operation_id="site_usage")
    def get(self, request, site):
        usage = current_usage(self.site)
        usage.pop("percent")
        body = {**usage, "plan": self.site.plan, "history": usage_history(self.site, usage["day"])}
        return Response(UsageSerializer(body).data)


def chart_context(history: list[UsageSnapshot], limit: int, *, title: str, chart_id: str) -> dict:
    """What templates/app/_line_chart.html needs to draw `history` (from `usage_history`) against the
    plan's current `limit`; its table also gives each day's limit, which changes with the plan."""
    return charts.chart_context(
        [(s.day, s.active_customers) for s in history],
        days=HISTORY_DAYS,
        title=title,
        series_label="active customers",
        limit=limit,
        limit_label="Plan limit",
        daily_limits={s.day: s.active_customer_limit for s in history},
        chart_id=chart_id,
        empty_text="No daily figures yet: they are computed each night.",
    )
