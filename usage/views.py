"""Dashboard pages of the usage app under /app/<site>/: the site's Overview (its home page) and the
usage page."""

import functools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.views.generic import TemplateView

from creatorhub import charts
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin
from usage.models import UsageSnapshot
from usage.selectors.overview import WINDOW_DAYS, site_overview
from usage.selectors.plan import HISTORY_DAYS, current_usage, usage_history

# The Contacts tab's filter for the contacts added in the last 30 days (audience.segments).
ADDED_LAST_30_DAYS = {"all": [{"field": "added", "op": "after", "value": WINDOW_DAYS}]}


@dataclass(frozen=True)
class FirstStep:
    url_name: str
    scope: str  # shown to the roles that may take it
    action: str
    then: str


FIRST_STEPS = [
    FirstStep(
        "contact-create", Scope.CONTACTS_WRITE, "Add contacts", "one by one, with their name and email."
    ),
    FirstStep(
        "import-create",
        Scope.IMPORTS_RUN,
        "Import a CSV file",
        "of the contacts you already have, from a spreadsheet or another platform.",
    ),
    FirstStep(
        "offer-create", Scope.OFFERS_WRITE, "Create an offer", "a course or a membership to sell or grant."
    ),
    FirstStep(
        "api-keys",
        Scope.KEYS_MANAGE,
        "Connect the API",
        "create an API key for your checkout, your store or your own tools.",
    ),
]


class OverviewView(SitePageMixin, TemplateView):
    """The site at a glance: its figures today and their trend, each linking to the page that shows it,
    what is running now, and, on a new site, the first steps. Every role sees what it may read."""

    template_name = "app/overview.html"
    scope_map = {"GET": Scope.SITE_READ}

    def get_context_data(self, **kwargs):
        site = self.request.site
        scopes = self.request.site_access.scopes
        overview = site_overview(site, scopes=scopes)
        context = {"overview": overview, "links": links(site.slug), "window_days": WINDOW_DAYS}
        if overview.is_new:
            context["first_steps"] = [step for step in FIRST_STEPS if step.scope in scopes]
        if overview.usage is not None:
            context.update(
                chart_context(
                    overview.usage.history,
                    site.plan.active_customer_limit,
                    title=f"Active customers over the last {HISTORY_DAYS} days",
                    chart_id="overview-usage",
                )
            )
        return super().get_context_data(**context, **kwargs)


def links(slug: str) -> dict[str, str]:
    """The pages behind the figures that take a query: a segment of the Contacts tab, the email log
    filtered by outcome."""
    contacts = reverse("contacts", kwargs={"site": slug})
    email_log = reverse("email-log", kwargs={"site": slug})
    added = json.dumps(ADDED_LAST_30_DAYS, separators=(",", ":"))
    return {
        "subscribers": f"{contacts}?segment=subscribed",
        "customers": f"{contacts}?segment=customers",
        "new_contacts": f"{contacts}?{urlencode({'filters': added})}",
        **{status: f"{email_log}?status={status}" for status in ("sent", "failed", "suppressed")},
    }


class UsageView(SitePageMixin, TemplateView):
    """Today's active customers against the plan's limit, the 90-day trend and what counts as active.
    Owners only (usage:read). Being over the limit blocks nothing: the page says so."""

    template_name = "app/usage/usage.html"
    scope_map = {"GET": Scope.USAGE_READ}

    def get_context_data(self, **kwargs):
        site = self.request.site
        usage = current_usage(site)
        history = usage_history(site, usage["day"])
        limit = usage["active_customer_limit"]
        figures = {
            "active": f"{usage['active_customers']:,}",
            "limit": f"{limit:,}",
            "contacts": f"{site.plan.contact_limit:,}",
        }
        return super().get_context_data(
            usage=usage,
            figures=figures,
            plan=site.plan,
            history_days=HISTORY_DAYS,
            **chart_context(
                history, limit, title=f"Active customers over the last {HISTORY_DAYS} days", chart_id="usage"
            ),
            **kwargs,
        )


def chart_context(history: list[UsageSnapshot], limit: int, *, title: str, chart_id: str) -> dict:
    """What templates/app/_line_chart.html needs to draw `history` (from `usage_history`) against the
    plan's current `limit`; its table also gives each day's limit, which changes with the plan. The chart
    of the Overview, the usage page and support's site page."""
    days = tuple((s.day, s.active_customers, s.active_customer_limit) for s in history)
    return dict(_drawn_chart(days, limit, title, chart_id, get_language()))


# A site's snapshots change once a night, and the page is viewed many times a day: each process keeps the
# charts it drew last (a pure function of its arguments, the language included). Drawing one was much of
# the Overview's server time (contacts benchmark, "Overview page").
@functools.lru_cache(maxsize=128)
def _drawn_chart(days: tuple, limit: int, title: str, chart_id: str, language: str | None) -> dict:
    return charts.chart_context(
        [(day, active) for day, active, _ in days],
        days=HISTORY_DAYS,
        title=title,
        series_label="active customers",
        in_words=active_customers_in_words,
        limit=limit,
        limit_label="Plan limit",
        daily_limits={day: day_limit for day, _, day_limit in days},
        chart_id=chart_id,
        empty_text="No daily figures yet: they are computed each night.",
    )


def active_customers_in_words(n: int) -> str:
    return ngettext("%(n)s active customer", "%(n)s active customers", n) % {"n": f"{n:,}"}
