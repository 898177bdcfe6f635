"""A site's usage against its plan: today's active customers (counted live), a day's figures against
the limit with the warning from 80%, and the daily figures the nightly run stored."""

from datetime import date, timedelta

from creatorhub.models import Site
from usage.models import UsageSnapshot
from usage.selectors.active_customers import active_customers_on

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
