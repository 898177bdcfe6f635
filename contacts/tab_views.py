"""The Contacts tab: the default and saved segments as tabs with their counts, the filter
builder, search, the contacts newest first by cursor, and actions on a selection of them.

What the tab shows lives in its URL — `?segment=<key>&filters=<json>&q=<search>&before=<cursor>`, the
filters being on top of the segment's — so a view is a link and the back button works. Every form is
plain HTML (GET for what only reads) and works without JavaScript; htmx only swaps the builder and its
count in place. Counts of the tabs and of the view are contacts.segments' counts (from the counters, or
cached); the exact count of any selection is taken where it matters (the delete confirmation).

An action on a selection — ticked rows, the whole page, or "all N matching" (the segment selection) — has
a step page that says what it will do to how many contacts and asks what it needs (the tag, the offer,
the consent statement), then starts a contacts.bulk action (its progress page is here) or an offers
grant job (its page is the offers app's). Each action declares the scope it needs (creatorhub.roles);
the template hides what the role may not do and the view refuses it (403).
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from contacts import bulk, segments, services
from contacts.errors import BulkActionError, ContactError, SegmentError
from contacts.forms import (
    ConfirmForm,
    FilterBuilder,
    GrantActionForm,
    OfferActionForm,
    SegmentForm,
    SubscribeActionForm,
    TagActionForm,
    field_options,
    filter_choices,
    filters_from_text,
    selected_ids,
)
from contacts.models import BulkAction, BulkActionKind, Contact, JobStatus, Segment, Tag
from contacts.selectors import read_tags_and_offers, with_tags_and_offers
from creatorhub.errors import DomainError
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
        """All the contacts it matches, as contacts.bulk and the grant jobs take a selection."""
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
OFFER_ACTIONS = ("grant", BulkActionKind.REVOKE_OFFER)  # offered when the offers app is installed


def export_url(site) -> str | None:
    """Where an export of a selection is started (contacts.export_views), when it is mounted."""
    try:
        return reverse("export-create", kwargs={"site": site.slug})
    except NoReverseMatch:
        return None


def actions_for(site, scopes) -> list[dict]:
    """The actions the role may take on a selection, in the order the tab shows them."""
    found = []
    for kind, action in ACTIONS.items():
        if action.scope not in scopes:
            continue
        if kind in OFFER_ACTIONS and not apps.is_installed("offers"):
            continue
        if kind == "export" and export_url(site) is None:
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
        contacts = segments.matching(site, filters=shown.filters, search=shown.q)
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
        # All, Customers, Subscribed and the saved segments, counted with the view (contacts.segments.counts).
        tabs = [segments.resolve(key) for key in segments.DEFAULT_SEGMENTS]
        tabs += [segments.ResolvedSegment.of(segment) for segment in Segment.objects.all()]
        view_count, *tab_counts = segments.counts(
            site, [(shown.filters, shown.q)] + [(tab.filters, "") for tab in tabs]
        )
        context = self.get_context_data(
            tabs=[
                {**tab_link(site, tab, current=tab.key == shown.segment.key), "count": f"{n:,}"}
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


def tab_link(site, segment: segments.ResolvedSegment, *, current: bool) -> dict:
    path = reverse("contacts", kwargs={"site": site.slug})
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


# -- Saved segments -----------------------------------------------------------------------------------


def saved_filters(shown: Shown) -> dict:
    """What "Save as segment" saves: the segment's filters, those on top, and the search as a filter."""
    filters = shown.filters["all"]
    if shown.q:
        filters = [*filters, {"field": "search", "op": "contains", "value": shown.q}]
    return {"all": filters}


class SegmentCreateView(ContactTabPage):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site):
        shown, problem = shown_from(request.site, request.POST)
        form = SegmentForm(request.POST)
        if problem:
            form.add_error(None, problem)
        elif form.is_valid():
            try:
                segment = services.create_segment(
                    request.site,
                    name=form.cleaned_data["name"],
                    filters=saved_filters(shown),
                    by_user=request.user,
                )
            except (ContactError, SegmentError) as error:
                form.add_error("name" if error.field == "name" else None, error.message)
            else:
                n = segments.count(request.site, filters=segment.filters)
                messages.success(request, f"Saved the segment “{segment.name}”: {pluralize(n, 'contact')}.")
                return redirect(segment_url(request.site, segment))
        return self.render_tab(shown, save_form=form, status=400)


class SegmentEditView(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """Rename a saved segment and edit its filters, with the same builder as the tab."""

    template_name = "app/contacts/segment_edit.html"
    scope_map = {"GET": Scope.CONTACTS_WRITE, "POST": Scope.CONTACTS_WRITE}

    def get(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        builder = FilterBuilder.from_filters(segment.filters)
        return self.render_page(segment, SegmentForm(initial={"name": segment.name}), builder)

    def post(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        form = SegmentForm(request.POST)
        builder = FilterBuilder.from_data(request.POST)
        command = request.POST.get("builder", "save")
        if command != "save":  # a button of the builder, without JavaScript
            builder.edit(command, request.POST)
            return self.render_page(segment, form, builder)
        if form.is_valid():
            try:
                services.update_segment(
                    request.site, segment=segment, name=form.cleaned_data["name"], filters=builder.filters()
                )
            except (ContactError, SegmentError) as error:
                form.add_error("name" if error.field == "name" else None, error.message)
            else:
                messages.success(request, f"Saved the segment “{segment.name}”.")
                return redirect(segment_url(request.site, segment))
        segment.refresh_from_db()
        return self.render_page(segment, form, builder, status=400)

    def render_page(self, segment, form, builder, *, status=200):
        context = builder_context(self.request.site, builder, shown=None, draft=True)
        return self.render_to_response(
            self.get_context_data(segment=segment, form=form, builder_for="segment", **context), status=status
        )


class SegmentDeleteView(SitePageMixin, View):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        name = segment.name
        services.delete_segment(request.site, segment=segment)
        messages.success(request, f"Deleted the segment “{name}”. No contact was changed.")
        return redirect("contacts", site=site)


# -- Actions on a selection ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Selected:
    """The contacts an action is for: chosen ids, or all that the shown view matches."""

    shown: Shown
    ids: list[int] | None  # None: all matching

    @property
    def target(self) -> dict:
        return {"contact_ids": self.ids} if self.ids is not None else self.shown.selection()


def selected_from(site, data) -> tuple[Selected | None, str | None]:
    """The selection a form of the tab carries, or why it cannot be used. Ids of contacts that are not
    this site's are a 404, as in a URL; an empty selection is (None, None)."""
    shown, problem = shown_from(site, data)
    if problem:
        return None, problem
    if data.get("matching"):
        return Selected(shown, None), None
    try:
        ids = selected_ids(data, max_ids=bulk.MAX_IDS)
    except BulkActionError as error:
        return None, error.message
    if not ids:
        return None, None
    if Contact.objects.filter(pk__in=ids).count() != len(ids):
        raise Http404("No such contact on this site.")
    return Selected(shown, ids), None


class BulkStartView(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """An action's step page (GET: what it does to how many, and what it needs) and its start (POST)."""

    template_name = "app/contacts/bulk.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.kind = kwargs.get("kind", "")
        self.action = ACTIONS.get(self.kind)
        if self.kind in OFFER_ACTIONS and not apps.is_installed("offers"):
            self.action = None
        scope = self.action.scope if self.action else Scope.CONTACTS_READ
        self.scope_map = {"GET": scope, "POST": scope}

    def get(self, request, site, kind):
        selected = self.selected(request.GET)
        if not isinstance(selected, Selected):
            return selected
        return self.render_step(selected, self.form())

    def post(self, request, site, kind):
        if self.kind == "export":  # the export is started by contacts.export_views
            return self.http_method_not_allowed(request)
        selected = self.selected(request.POST)
        if not isinstance(selected, Selected):
            return selected
        form = self.form(request.POST)
        if form.is_valid():
            try:
                return self.start(selected, form.cleaned_data)
            except DomainError as error:  # a bulk action's or a grant's refusal, said for people
                form.add_error(error.field if error.field in form.fields else None, error.message)
        return self.render_step(selected, form, status=400)

    # -- parts

    def selected(self, data):
        """The selection, or the response that says why there is none."""
        if self.action is None or (self.kind == "export" and export_url(self.request.site) is None):
            raise Http404("No such action.")
        selected, problem = selected_from(self.request.site, data)
        if problem:
            return self.render_problem(problem)
        if selected is None:
            shown, _ = shown_from(self.request.site, data)
            messages.error(
                self.request, "Select contacts first: tick them in the list, or tick “all matching”."
            )
            return redirect(tab_url(self.request.site, shown))
        return selected

    def form(self, data=None):
        offers = (
            apps.get_model("offers", "Offer").objects.order_by("title")
            if self.kind in OFFER_ACTIONS
            else None
        )
        if self.kind == "grant":
            return GrantActionForm(data, offers=offers.filter(archived_at=None))
        if self.kind == BulkActionKind.REVOKE_OFFER:
            return OfferActionForm(data, offers=offers)
        if self.kind in (BulkActionKind.ADD_TAG, BulkActionKind.REMOVE_TAG):
            return TagActionForm(data)
        if self.kind == BulkActionKind.SUBSCRIBE:
            return SubscribeActionForm(data)
        return ConfirmForm(data)

    def render_step(self, selected: Selected, form, *, status=200):
        site = self.request.site
        try:
            _, words = bulk.clean_selection(site, selected.target)
        except (BulkActionError, SegmentError) as error:
            return self.render_problem(error.message)
        if selected.ids is not None:
            n = len(selected.ids)
        elif self.kind == BulkActionKind.DELETE:  # exact, for the confirmation
            n = segments.matching(site, filters=selected.shown.filters, search=selected.shown.q).count()
        else:
            n = selected.shown.count(site)
        named = self.named(selected)
        context = self.get_context_data(
            kind=self.kind,
            action=self.action,
            selected=selected,
            shown=selected.shown,
            words=words,
            n=n,
            n_text=f"{n:,}",
            named=named,
            named_more=n - len(named or []),
            form=form,
            back_url=tab_url(site, selected.shown),
            post_url=export_url(site) if self.kind == "export" else self.request.path,
            tags=list(Tag.objects.order_by("name").values_list("name", flat=True))
            if self.kind in (BulkActionKind.ADD_TAG, BulkActionKind.REMOVE_TAG)
            else [],
        )
        return self.render_to_response(context, status=status)

    def named(self, selected: Selected, *, up_to: int = 10) -> list[str] | None:
        """The first chosen contacts by name, to say whom the action is for (None for all matching)."""
        if selected.ids is None:
            return None
        chosen = Contact.objects.filter(pk__in=selected.ids).order_by("-created_at", "-id")[:up_to]
        return [contact.display_name for contact in chosen]

    def render_problem(self, problem: str):
        """The step page with only what is wrong with the selection (a hand-made link), status 400."""
        context = self.get_context_data(
            action=self.action,
            problem=problem,
            back_url=reverse("contacts", kwargs={"site": self.request.site.slug}),
        )
        return self.render_to_response(context, status=400)

    def start(self, selected: Selected, data: dict):
        request, site = self.request, self.request.site
        if self.kind == "grant":
            return self.start_grant(selected, data)
        params = {}
        if self.kind in (BulkActionKind.ADD_TAG, BulkActionKind.REMOVE_TAG):
            params = {"tag": data["tag"]}
        elif self.kind == BulkActionKind.SUBSCRIBE:
            params = {"consent": data["consent"]}
        elif self.kind == BulkActionKind.REVOKE_OFFER:
            params = {"offer": data["offer"].pk}
        action = bulk.start_bulk_action(
            site, kind=self.kind, selection=selected.target, params=params, by_user=request.user
        )
        messages.success(request, done_message(action, offer=data.get("offer")))
        return redirect("bulk-action", site=site.slug, pk=action.pk)

    def start_grant(self, selected: Selected, data: dict):
        # The offers room's grant jobs take the same selections (the page is where rooms meet).
        from offers.services.access import Granter
        from offers.services.grant_jobs import start_grant_job

        offer = data["offer"]
        job = start_grant_job(
            self.request.site,
            offer=offer,
            target=selected.target,
            send_grant_email=data["send_grant_email"],
            by=Granter(user=self.request.user),
        )
        words = (
            pluralize(len(selected.ids), "selected contact")
            if selected.ids is not None
            else job.target.get("description", "")
        )
        messages.success(self.request, f"Granting “{offer.title}” to {words}.")
        return redirect("grant-job", site=self.request.site.slug, pk=job.pk)


def done_message(action: BulkAction, *, offer=None) -> str:
    """What an action did, in words, once it ran (or that it runs on, when it was large)."""
    if action.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        started = pluralize(action.total, "contact")
        return f"{action.get_kind_display()}: started for {started}. This page shows its progress."
    if action.status == JobStatus.FAILED:
        return (
            f"{action.get_kind_display()} stopped after {action.done:,} of {action.total:,}: {action.error}"
        )
    n = pluralize(action.changed, "contact")
    tag = action.params.get("tag", "")
    said = {
        BulkActionKind.ADD_TAG: f"Tagged {n} “{tag}”",
        BulkActionKind.REMOVE_TAG: f"Removed the tag “{tag}” from {n}",
        BulkActionKind.SUBSCRIBE: f"Subscribed {n} to marketing email",
        BulkActionKind.UNSUBSCRIBE: f"Unsubscribed {n} from marketing email",
        BulkActionKind.REVOKE_OFFER: f"Revoked “{offer}” from {n}; nothing was sent",
        BulkActionKind.DELETE: f"Deleted {n} with their consent history",
    }[action.kind]
    if action.skipped:
        reasons = "; ".join(f"{reason}: {count:,}" for reason, count in action.skipped_reasons.items())
        said += f". Skipped {action.skipped:,} ({reasons})"
    return said + "."


CHANGED_LABELS = {
    BulkActionKind.ADD_TAG: "Tagged",
    BulkActionKind.REMOVE_TAG: "Untagged",
    BulkActionKind.SUBSCRIBE: "Subscribed",
    BulkActionKind.UNSUBSCRIBE: "Unsubscribed",
    BulkActionKind.REVOKE_OFFER: "Revoked",
    BulkActionKind.DELETE: "Deleted",
}


class BulkActionView(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """An action's progress and result. While it runs, htmx asks for the progress part every two
    seconds (the request carries HX-Request) and gets the partial alone."""

    template_name = "app/contacts/bulk_action.html"
    partial_template_name = "app/contacts/_bulk_progress.html"
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site, pk):
        action = get_object_or_404(BulkAction.objects.select_related("created_by"), pk=pk)
        offer = None
        if "offer" in action.params and apps.is_installed("offers"):
            offer = apps.get_model("offers", "Offer").objects.filter(pk=action.params["offer"]).first()
        context = self.get_context_data(
            action=action,
            offer=offer,
            changed_label=CHANGED_LABELS.get(action.kind, "Changed"),
            polling=action.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        )
        if request.htmx:
            self.template_name = self.partial_template_name
        response = self.render_to_response(context)
        patch_vary_headers(response, ["HX-Request"])
        return response
