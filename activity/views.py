"""Dashboard pages of the activity app under /app/<site>/."""

from urllib.parse import urlencode

from django.contrib import messages
from django.views.generic import TemplateView

from activity.feed import FEED_SIZE, events_page, sentence
from activity.models import ActivityEvent
from activity.usage_api import HISTORY_DAYS, chart_context, current_usage, usage_history
from creatorhub.paging import BadCursor
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

# --- Usage page (the creator's usage against the plan) -------------------------------------------


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


# --- end of the usage page ----------------------------------------------------------------------


# --- Activity page (recent activity across the site's contacts) ---------------------------------


class ActivityView(SitePageMixin, TemplateView):
    """What the site's contacts did, newest first, each row linking to the contact; keyset pages
    (`?before=`), never OFFSET."""

    template_name = "app/activity/activity.html"
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, *args, **kwargs):
        events = ActivityEvent.objects.select_related("contact")
        before = request.GET.get("before", "")
        status = 200
        try:
            page, next_cursor = events_page(events, before=before, size=FEED_SIZE)
        except BadCursor:
            messages.error(request, "This page link is not valid: here is the newest activity.")
            page, next_cursor = events_page(events, size=FEED_SIZE)
            status = 400
        rows = [{"event": event, "sentence": sentence(event)} for event in page]
        context = self.get_context_data(
            rows=rows,
            first_url=request.path if before else None,
            next_url=f"{request.path}?{urlencode({'before': next_cursor})}" if next_cursor else None,
        )
        return self.render_to_response(context, status=status)


# --- end of the activity page -------------------------------------------------------------------
