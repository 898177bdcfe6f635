"""The creator's usage against the plan: `GET /api/v1/sites/<site>/usage/` (owners: usage:read), and the
figures the usage page shows (`current_usage`, `usage_history`)."""

from datetime import date, timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from activity.models import UsageSnapshot
from activity.selectors import active_customers_on
from creatorhub.api.base import SiteAPIView
from creatorhub.models import Site
from creatorhub.roles import Scope
from creatorhub.serializers import PlanSerializer

HISTORY_DAYS = 90
WARNING_PERCENT = 80


def current_usage(site: Site, day: date | None = None) -> dict:
    """Today's active customers (counted live) against the plan's limit. Call inside the site's scope.
    The warning starts at 80% of the limit; over the limit means above it. Nothing is ever blocked."""
    day = day or site.today()
    active = active_customers_on(site, day)
    limit = site.plan.active_customer_limit
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


def chart_context(history: list[UsageSnapshot], limit: int, *, title: str) -> dict:
    """What templates/app/usage/_chart.html needs: the SVG geometry, a text summary for its <title>,
    and the rows of its table (numbers formatted as people read them)."""
    from activity.forecast import usage_chart

    chart = usage_chart([(s.day, s.active_customers) for s in history], limit, days=HISTORY_DAYS)
    if history:
        first, last = history[0], history[-1]
        summary = (
            f"{title}: {first.active_customers:,} on {first.day:%b %-d}, {last.active_customers:,} on "
            f"{last.day:%b %-d, %Y}, against a limit of {limit:,}"
        )
    else:
        summary = f"{title}: no daily figures yet"
    rows = [
        {"day": s.day, "active": f"{s.active_customers:,}", "limit": f"{s.active_customer_limit:,}"}
        for s in reversed(history)
    ]
    return {
        "chart": chart,
        "chart_title": title,
        "chart_summary": summary,
        "chart_rows": rows,
        "chart_limit": f"{limit:,}",
    }
