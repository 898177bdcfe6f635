"""Actions on a selection of the Contacts tab — ticked rows, the whole page, or "all N matching" — each
with a step page that says what it will do to how many contacts and asks what it needs (the tag, the
offer, the consent statement), then starts a bulk action (its progress page is here) or a grant job
(its page is offers'), or an export."""

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from audience import segments
from audience.forms import (
    ConfirmForm,
    GrantActionForm,
    OfferActionForm,
    SubscribeActionForm,
    TagActionForm,
    selected_ids,
)
from audience.services import bulk_actions
from audience.services.grant_jobs import start_grant_job
from audience.views.tab import ACTIONS, OFFER_ACTIONS, Shown, pluralize, shown_from, tab_url
from contacts.errors import BulkActionError, SegmentError
from contacts.models import BulkAction, BulkActionKind, Contact, JobStatus, Tag
from creatorhub.errors import DomainError
from creatorhub.forms import add_domain_error
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin
from offers.models import Offer
from offers.services.access import Granter

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
        ids = selected_ids(data, max_ids=bulk_actions.MAX_IDS)
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
        scope = self.action.scope if self.action else Scope.CONTACTS_READ
        self.scope_map = {"GET": scope, "POST": scope}

    def get(self, request, site, kind):
        selected = self.selected(request.GET)
        if not isinstance(selected, Selected):
            return selected
        return self.render_step(selected, self.form())

    def post(self, request, site, kind):
        if self.kind == "export":  # the export is started by audience.views.exports
            return self.http_method_not_allowed(request)
        selected = self.selected(request.POST)
        if not isinstance(selected, Selected):
            return selected
        form = self.form(request.POST)
        if form.is_valid():
            try:
                return self.start(selected, form.cleaned_data)
            except DomainError as error:  # a bulk action's or a grant's refusal, said for people
                add_domain_error(form, error)
        return self.render_step(selected, form, status=400)

    # -- parts

    def selected(self, data):
        """The selection, or the response that says why there is none."""
        if self.action is None:
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
        offers = Offer.objects.order_by("title") if self.kind in OFFER_ACTIONS else None
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
        export_url = reverse("export-create", kwargs={"site": site.slug})
        try:
            _, words = bulk_actions.clean_selection(site, selected.target)
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
            post_url=export_url if self.kind == "export" else self.request.path,
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
        action = bulk_actions.start_bulk_action(
            site, kind=self.kind, selection=selected.target, params=params, acting_user=request.user
        )
        messages.success(request, done_message(action, offer=data.get("offer")))
        return redirect("bulk-action", site=site.slug, pk=action.pk)

    def start_grant(self, selected: Selected, data: dict):
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
        if "offer" in action.params:
            offer = Offer.objects.filter(pk=action.params["offer"]).first()
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
