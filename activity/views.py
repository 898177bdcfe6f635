"""Dashboard pages of the activity app under /app/<site>/."""

from urllib.parse import urlencode

from django.contrib import messages
from django.views.generic import TemplateView

from activity.feed import FEED_SIZE, events_page, sentence
from activity.models import ActivityEvent
from creatorhub.paging import BadCursor
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

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
