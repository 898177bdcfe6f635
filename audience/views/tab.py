"""The Contacts tab: the default and saved segments as tabs with their counts, the filter
builder, search, the contacts newest first by cursor, and actions on a selection of them.

What the tab shows lives in its URL — `?segment=<key>&filters=<json>&q=<search>&before=<cursor>`, the
filters being on top of the segment's — so a view is a link and the back button works. Every form is
plain HTML (GET for what only reads) and works without JavaScript; htmx only swaps the builder and its
count in place. Counts of the tabs and of the view are audience.segments' counts (from the counters, or
cached); the exact count of any selection is taken where it matters (the delete confirmation).

An action on a selection — ticked rows, the whole page, or "all N matching" (the segment selection) — has
a step page that says what it will do to how many contacts and asks what it needs (the tag, the offer,
the consent statement), then starts a bulk action or a grant job (audience.views.bulk). Each action
declares the scope it needs (creatorhub.roles); the template hides what the role may not do and the view
refuses it (403). Saving the view as a segment is audience.views.segments.
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from audience import segments
from audience.forms import (
    FilterBuilder,
    SegmentForm,
    field_options,
    filter_choices,
    filters_from_text,
)
from audience.selectors import read_tags_and_offers, with_tags_and_offers
from contacts.errors import SegmentError
from contacts.models import BulkActionKind, Segment
from contacts.templatetags.contacts import ROW_FIELDS
from creatorhub.paging import BadCursor, keyset_page
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

NO_FILTERS = {"all": []}


# -- What the tab shows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """The contacts the tab shows: a segment, cleaned filters on top of it, and a search."""

    segment: segments.ResolvedSegment
    extra: dict
    q: str = ""

    @property
    def filters(self) -> dict:
        """The segment's filters (clean: see ResolvedSegment) and the extra ones."""
        return {"all": self.segment.filters["all"] + self.extra["all"]}

    @property
    def filters_json(self) -> str:
        return json.dumps(self.extra, ensure_ascii=False, separators=(",", ":")) if self.extra["all"] else ""

    @property
    def narrowed(self) -> bool:
        return bool(self.extra["all"] or self.q)

    def params(self, **more) -> dict:
        params = {
            "segment": "" if self.segment.key == "all" else self.segment.key,
            "filters": self.filters_json,
            "q": self.q,
            **more,
        }
        return {key: value for key, value in params.items() if value}

    def selection(self) -> dict:
        """All the contacts it matches, as bulk actions and grant jobs take a selection."""
        selection = {"segment": self.segment.key, "search": self.q}
        if self.extra["all"]:
            selection["filters"] = self.extra
        return selection

    def count(self, site) -> int:
        return segments.count(site, filters=self.filters, search=self.q)


def segment_of(key: str) -> segments.ResolvedSegment:
    """The default or saved segment of `key` in the site's scope: another site's (or none) is a 404."""
    try:
        return segments.resolve(key or "all")
    except SegmentError:
        raise Http404("No such segment.") from None


def shown_from(site, data) -> tuple[Shown, str | None]:
    """What the request asks to show and, when its filters cannot be used, why (they are left out)."""
    segment = segment_of(str(data.get("segment", "")).strip())
    q = str(data.get("q", "")).replace("\x00", "").strip()[: segments.MAX_SEARCH]
    try:
        extra = filters_from_text(data.get("filters", ""))
        extra = segments.clean(site, extra) if extra is not None else NO_FILTERS
    except SegmentError as error:
        return Shown(segment, NO_FILTERS, q), error.message
    return Shown(segment, extra, q), None


def tab_url(site, shown: Shown, **more) -> str:
    params = shown.params(**more)
    path = reverse("contacts", kwargs={"site": site.slug})
    return f"{path}?{urlencode(params)}" if params else path


def segment_url(site, segment: Segment) -> str:
    """The tab of a saved segment."""
    return f"{reverse('contacts', kwargs={'site': site.slug})}?{urlencode({'segment': segment.pk})}"


def pluralize(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# -- The builder's parts ------------------------------------------------------------------------------


def builder_context(site, builder: FilterBuilder, *, shown: Shown | None, draft: bool) -> dict:
    """What _filters.html draws: the conditions with their choices, "Add a filter", and the count of
    what they match (on the tab: on top of the segment, with the search; on a segment's page: alone)."""
    choices = filter_choices(builder.fields)
    context = {
        "groups": builder.prepared(choices),
        "reason_choices": choices["reason"],
        "field_options": field_options(),
        "focus_add": builder.focus_add,
        "shown": shown,
    }
    context.update(draft_count(site, builder, shown=shown) if draft else {})
    return context


def draft_count(site, builder: FilterBuilder, *, shown: Shown | None) -> dict:
    """The count of the builder's conditions as they are, or why it cannot be counted yet."""
    try:
        extra = segments.clean(site, builder.filters())
    except SegmentError as error:
        return {"count": None, "problem": error.message}
    base = shown.segment.filters["all"] if shown else []
    search = shown.q if shown else ""
    n = segments.count(site, filters={"all": base + extra["all"]}, search=search)
    return {"count": n, "count_text": f"{n:,}", "problem": None}


class BuilderPartsMixin:
    """The two small endpoints htmx calls while the builder is used: the builder again after one of its
    buttons, and the count of its conditions after an input changed."""

    def builder_shown(self, request) -> Shown | None:
        """On the tab the builder's form carries the segment and the search; on a segment's page, not."""
        if request.GET.get("builder_for") != "tab":
            return None
        shown, _ = shown_from(request.site, request.GET)
        return shown


class BuilderView(BuilderPartsMixin, SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    template_name = "app/contacts/_filters.html"
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site):
        builder = FilterBuilder.from_data(request.GET)
        builder.edit(request.GET.get("builder", ""), request.GET)
        shown = self.builder_shown(request)
        context = builder_context(request.site, builder, shown=shown, draft=True)
        return self.render_to_response(
            self.get_context_data(builder_for=request.GET.get("builder_for"), **context)
        )


class CountView(BuilderPartsMixin, SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    template_name = "app/contacts/_count.html"
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site):
        builder = FilterBuilder.from_data(request.GET)
        shown = self.builder_shown(request)
        context = draft_count(request.site, builder, shown=shown)
        return self.render_to_response(self.get_context_data(shown=shown, **context))


# -- The tab ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """An action on a selection: its words, the scope it needs, and the form of what it asks."""

    label: str
    scope: str
    verb: str  # the step page's button: "Add the tag to 12 contacts"


ACTIONS = {
    "grant": Action("Grant an offer", Scope.OFFERS_GRANT, "Grant the offer to"),
    BulkActionKind.REVOKE_OFFER: Action("Revoke an offer", Scope.OFFERS_GRANT, "Revoke the offer from"),
    BulkActionKind.ADD_TAG: Action("Add a tag", Scope.CONTACTS_TAG, "Add the tag to"),
    BulkActionKind.REMOVE_TAG: Action("Remove a tag", Scope.CONTACTS_TAG, "Remove the tag from"),
    BulkActionKind.SUBSCRIBE: Action("Subscribe", Scope.CONTACTS_WRITE, "Subscribe"),
    BulkActionKind.UNSUBSCRIBE: Action("Unsubscribe", Scope.CONTACTS_WRITE, "Unsubscribe"),
    "export": Action("Export CSV", Scope.EXPORTS_RUN, "Export"),
    BulkActionKind.DELETE: Action("Delete", Scope.CONTACTS_WRITE, "Delete"),
}
OFFER_ACTIONS = ("grant", BulkActionKind.REVOKE_OFFER)


def actions_for(site, scopes) -> list[dict]:
    """The actions the role may take on a selection, in the order the tab shows them."""
    found = []
    for kind, action in ACTIONS.items():
        if action.scope not in scopes:
            continue
        url = reverse("contacts-bulk", kwargs={"site": site.slug, "kind": kind})
        found.append({"kind": kind, "label": action.label, "url": url})
    return found


class ContactTabPage(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """The Contacts tab. Its saving of a segment subclasses it, to show the tab again with the form's
    errors (status 400)."""

    template_name = "app/contacts/list.html"

    def render_tab(self, shown: Shown, *, builder=None, draft=False, save_form=None, status=200, **kwargs):
        request, site = self.request, self.request.site
        contacts = segments.matching(site, filters=shown.filters, search=shown.q).only(*ROW_FIELDS)
        contacts = with_tags_and_offers(contacts, offers=False)
        before = request.GET.get("before", "") if request.method == "GET" else ""
        try:
            page, next_cursor = keyset_page(contacts, cursor=before)
        except BadCursor:
            messages.error(request, "This page link is not valid: here are the newest contacts.")
            page, next_cursor = keyset_page(contacts)
            before, status = "", 400
        read_tags_and_offers(page, offers=False)
        builder = builder or FilterBuilder.from_filters(shown.extra)
        # All, Customers, Subscribed and the saved segments, counted with the view (audience.segments.counts).
        tabs = [segments.resolve(key) for key in segments.DEFAULT_SEGMENTS]
        tabs += [segments.ResolvedSegment.of(segment) for segment in Segment.objects.all()]
        view_count, *tab_counts = segments.counts(
            site, [(shown.filters, shown.q)] + [(tab.filters, "") for tab in tabs]
        )
        path = reverse("contacts", kwargs={"site": site.slug})
        context = self.get_context_data(
            tabs=[
                {**tab_link(path, tab, current=tab.key == shown.segment.key), "count": f"{n:,}"}
                for tab, n in zip(tabs, tab_counts, strict=True)
            ],
            contacts=page,
            view_count=view_count,
            view_count_text=f"{view_count:,}",
            first_url=tab_url(site, shown) if before else None,
            next_url=tab_url(site, shown, before=next_cursor) if next_cursor else None,
            clear_url=tab_url(site, Shown(shown.segment, NO_FILTERS, shown.q)),
            clear_search_url=tab_url(site, Shown(shown.segment, shown.extra)),
            segment_phrases=segments.describe(shown.segment.filters) if shown.segment.saved else [],
            save_form=save_form or SegmentForm(),
            actions=actions_for(site, request.site_access.scopes),
            builder_open=draft or bool(shown.extra["all"]),
            **builder_context(site, builder, shown=shown, draft=draft),
            **kwargs,
        )
        if not draft:
            context.update(count=view_count, count_text=f"{view_count:,}", problem=None)
        return self.render_to_response(context, status=status)


def tab_link(path: str, segment: segments.ResolvedSegment, *, current: bool) -> dict:
    """The tab of `segment` on the Contacts tab at `path`."""
    return {
        "name": segment.name,
        "url": path if segment.key == "all" else f"{path}?{urlencode({'segment': segment.key})}",
        "current": current,
    }


class ContactListView(ContactTabPage):
    """The tab itself. Without JavaScript the builder's buttons come here too (`builder=…`): the page is
    drawn again with the builder as edited (a draft), and "Apply" sends to the URL of the new filters."""

    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site):
        shown, problem = shown_from(request.site, request.GET)
        status = 200
        if problem:
            messages.error(
                request, f"These filters cannot be used: {problem} Showing “{shown.segment.name}”."
            )
            status = 400
        command = request.GET.get("builder")
        if not command:
            return self.render_tab(shown, status=status)
        builder = FilterBuilder.from_data(request.GET)
        builder.edit(command, request.GET)
        if command == "apply":
            try:
                extra = segments.clean(request.site, builder.filters())
            except SegmentError as error:
                return self.render_tab(
                    shown, builder=builder, draft=True, builder_error=error.message, status=400
                )
            return redirect(tab_url(request.site, Shown(shown.segment, extra, shown.q)))
        return self.render_tab(shown, builder=builder, draft=True, status=status)
