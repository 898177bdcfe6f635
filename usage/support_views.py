"""Support pages under /support/: the overage queue, a site's usage and a case, for platform support
staff. They see sites, plans, usage figures and overage cases, never contacts: this module
reads Site, Plan, UsageSnapshot, OverageCase and OverageCaseEntry (and support's own audit entries) only."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import F, IntegerField, Q, QuerySet
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from creatorhub import audit
from creatorhub.forms import add_domain_error
from creatorhub.models import ActorKind, AuditAction, AuditEntry, Site, User
from creatorhub.tenancy import platform_wide, site_scope
from usage.forecast import forecast
from usage.models import OverageCase, OverageOutcome, OverageStatus
from usage.selectors.plan import HISTORY_DAYS, usage_history
from usage.services import OverageError, change_case
from usage.views import chart_context

NOT_RESOLVED = ""
STATUS_FILTERS = [(NOT_RESOLVED, "Not resolved"), *OverageStatus.choices, ("all", "All")]


class SupportPageMixin(LoginRequiredMixin):
    """THE AUDITED DOOR of the support pages: the one place where a page runs with django-scopes
    disabled (platform-wide work).

    Anonymous visitors go to the login page; anyone who is not support staff (`user.is_support`:
    is_staff with the `creatorhub.support` permission) gets a 403, before anything is read. The handler
    and the template then run with scopes disabled, so every query must name its site itself. Support
    code reads Site, Plan, UsageSnapshot, OverageCase and OverageCaseEntry only, never contacts; a write
    goes through a service inside `site_scope(case.site)`.
    """

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_support:
            raise PermissionDenied("Only platform support staff may see the support pages.")
        with (
            platform_wide(f"support page {request.path} for {request.user}"),
            audit.acting(request, user=request.user, support=True),
        ):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response


def support_users() -> QuerySet[User]:
    """Who may be assigned a case: active staff with the support permission (or superusers). A lazy
    query: nothing is read until it is used."""
    granted = {"codename": "support", "content_type__app_label": "creatorhub"}
    direct = Q(**{f"user_permissions__{key}": value for key, value in granted.items()})
    by_group = Q(**{f"groups__permissions__{key}": value for key, value in granted.items()})
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | direct | by_group)
        .distinct()
        .order_by("email")
    )


def overage_queue(status: str = NOT_RESOLVED) -> QuerySet[OverageCase]:
    """Cases sorted by how far over (active customers - limit, most first). Call with scopes disabled."""
    over_by = Cast(F("active_customers"), IntegerField()) - Cast(F("active_customer_limit"), IntegerField())
    cases = OverageCase.objects.select_related("site__plan", "assignee").annotate(over=over_by)
    if status == NOT_RESOLVED:
        cases = cases.exclude(status=OverageStatus.RESOLVED)
    elif status in OverageStatus.values:
        cases = cases.filter(status=status)
    return cases.order_by("-over", "opened_on", "pk")


class QueueView(SupportPageMixin, TemplateView):
    template_name = "support/queue.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", NOT_RESOLVED)
        if status not in dict(STATUS_FILTERS):
            status = NOT_RESOLVED
        return super().get_context_data(
            cases=overage_queue(status), status=status, status_filters=STATUS_FILTERS, **kwargs
        )


def site_usage_context(site: Site) -> dict:
    """A site's plan, its 90 days of usage (chart and table) and when its trend crosses the limit."""
    history = usage_history(site)
    limit = site.plan.active_customer_limit
    outlook = forecast([(s.day, s.active_customers) for s in history], limit)
    return {
        "history": history,
        "forecast": outlook,
        **chart_context(
            history,
            limit,
            title=f"Active customers of {site.name}, last {HISTORY_DAYS} days",
            chart_id="site-usage",
        ),
    }


SUPPORT_AUDIT_SHOWN = 50


def support_audit_entries(site: Site) -> list[AuditEntry]:
    """The newest audit entries of support's own acts on a site (its owners see them too)."""
    return list(AuditEntry.objects.filter(site=site, actor_kind=ActorKind.SUPPORT)[:SUPPORT_AUDIT_SHOWN])


class SiteView(SupportPageMixin, TemplateView):
    template_name = "support/site.html"

    def get_context_data(self, **kwargs):
        target = get_object_or_404(Site.objects.select_related("plan"), slug=self.kwargs["slug"])
        cases = (
            OverageCase.objects.filter(site=target).select_related("assignee").order_by("-opened_on", "-pk")
        )
        audit.record(target, AuditAction.SUPPORT_SITE_VIEWED, target=target)
        return super().get_context_data(
            target=target,
            cases=cases,
            support_audit=support_audit_entries(target),
            **site_usage_context(target),
            **kwargs,
        )


class CaseForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did or agreed with the creator.",
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Keep the status"), *OverageStatus.choices]
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "—"), *OverageOutcome.choices],
        help_text="Needed to resolve the case.",
    )
    assignee = forms.ModelChoiceField(
        label="Assign to", required=False, queryset=User.objects.none(), empty_label="Keep the assignee"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = support_users()
        self.fields["assignee"].label_from_instance = lambda user: user.email


class CaseView(SupportPageMixin, TemplateView):
    template_name = "support/case.html"

    def get_case(self) -> OverageCase:
        return get_object_or_404(
            OverageCase.objects.select_related("site__plan", "assignee"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        case = kwargs.pop("case", None) or self.get_case()
        kwargs.setdefault("form", CaseForm())
        entries = case.entries.filter(site=case.site).select_related("author")
        return super().get_context_data(case=case, entries=entries, target=case.site, **kwargs)

    def get(self, request, pk):
        case = self.get_case()
        audit.record(
            case.site, AuditAction.SUPPORT_CASE_VIEWED, target=case, target_label=f"Overage case #{pk}"
        )
        return self.render_to_response(self.get_context_data(case=case))

    def post(self, request, pk):
        case = self.get_case()
        form = CaseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with site_scope(case.site):
                    change_case(
                        case.site,
                        case=case,
                        acting_user=request.user,
                        status=data["status"] or None,
                        outcome=data["outcome"],
                        note=data["note"],
                        assignee=data["assignee"],
                    )
            except OverageError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "The case is updated.")
                return redirect("support-case", pk=case.pk)
        return self.render_to_response(self.get_context_data(case=case, form=form), status=400)
