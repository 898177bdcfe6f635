"""Dashboard pages of the tenancy core: the site chooser, the team and API keys. (A site's Overview is
the usage app's: it reads the other apps' figures.)"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import TemplateView

from creatorhub import selectors, services
from creatorhub.errors import DomainError
from creatorhub.forms import ApiKeyForm, AuditFilterForm, InviteForm, NewAccountForm, RoleForm
from creatorhub.models import ApiKey, Invitation, Membership
from creatorhub.paging import FilteredLogView
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin, request_memberships, site_scope


class AppHomeView(LoginRequiredMixin, TemplateView):
    """Straight to the user's site when there is one; a chooser when there are several."""

    template_name = "app/choose_site.html"

    def get(self, request, *args, **kwargs):
        sites = selectors.sites_to_switch(request_memberships(request))
        if len(sites) == 1:
            return redirect("site-home", site=sites[0].slug)
        return self.render_to_response(self.get_context_data(sites=sites))


class TeamView(SitePageMixin, TemplateView):
    template_name = "app/team.html"
    scope_map = {"GET": Scope.TEAM_READ, "POST": Scope.TEAM_MANAGE}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("invite_form", InviteForm())
        members = Membership.objects.select_related("user").order_by("created_at")
        pending = Invitation.objects.filter(accepted_at=None, revoked_at=None).select_related("invited_by")
        return super().get_context_data(members=members, invitations=pending, role_form=RoleForm(), **kwargs)

    def post(self, request, site):
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                services.invite_member(request.site, acting_user=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("team", site=site)
        return self.render_to_response(self.get_context_data(invite_form=form), status=400)


class ChangeRoleView(SitePageMixin, View):
    scope_map = {"POST": Scope.TEAM_MANAGE}

    def post(self, request, site, pk):
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a role: owner, admin or assistant.")
            return redirect("team", site=site)
        try:
            services.change_member_role(request.site, membership=membership, role=form.cleaned_data["role"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{membership.user.email} is now {form.cleaned_data['role']}.")
        return redirect("team", site=site)


class RemoveMemberView(SitePageMixin, View):
    scope_map = {"POST": Scope.TEAM_MANAGE}

    def post(self, request, site, pk):
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
        try:
            revoked = services.remove_member(request.site, membership=membership)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            text = f"{membership.user.email} was removed from the team."
            if revoked:
                text += (
                    f" The API keys they made no longer work: {', '.join(f'“{k.name}”' for k in revoked)}."
                )
            messages.success(request, text)
        return redirect("team", site=site)


class RevokeInvitationView(SitePageMixin, View):
    scope_map = {"POST": Scope.TEAM_MANAGE}

    def post(self, request, site, pk):
        invitation = get_object_or_404(Invitation, pk=pk)
        services.revoke_invitation(request.site, invitation=invitation)
        messages.success(request, f"The invitation of {invitation.email} was revoked.")
        return redirect("team", site=site)


class ApiKeysView(SitePageMixin, TemplateView):
    template_name = "app/api_keys.html"
    scope_map = {"GET": Scope.KEYS_MANAGE, "POST": Scope.KEYS_MANAGE}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ApiKeyForm())
        return super().get_context_data(api_keys=ApiKey.objects.select_related("created_by"), **kwargs)

    def post(self, request, site):
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                api_key, secret = services.create_api_key(
                    request.site, acting_user=request.user, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                # The secret is rendered once, in this response, and never stored.
                return self.render_to_response(self.get_context_data(new_key=api_key, secret=secret))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RevokeApiKeyView(SitePageMixin, View):
    scope_map = {"POST": Scope.KEYS_MANAGE}

    def post(self, request, site, pk):
        api_key = get_object_or_404(ApiKey, pk=pk)
        services.revoke_api_key(request.site, api_key=api_key)
        messages.success(request, f"The key “{api_key.name}” was revoked; requests with it now fail.")
        return redirect("api-keys", site=site)


class AuditLogView(SitePageMixin, FilteredLogView):
    """The site's audit log, newest first, for owners: who did what, when and from where. Filters:
    `action`, `actor`; paged by `?cursor=`."""

    template_name = "app/audit/log.html"
    scope_map = {"GET": Scope.AUDIT_READ}

    noun = "entries"

    def filter_form(self):
        return AuditFilterForm(self.request.GET, actors=selectors.audit_actor_choices())

    def rows(self, chosen: dict):
        return selectors.audit_entries(**chosen).select_related("actor_user", "actor_api_key")


class AcceptInvitationView(View):
    """The page behind an invitation email's link: join with your account, or create one."""

    template_name = "app/accept_invitation.html"

    def dispatch(self, request, token):
        invitation = selectors.invitation_for_token(token)
        if invitation is None:
            return render(request, self.template_name, {"invalid": True}, status=404)
        with site_scope(invitation.site):
            return super().dispatch(request, invitation)

    def get(self, request, invitation, form=None, status=200):
        has_account = selectors.user_exists(invitation.email)
        return render(
            request,
            self.template_name,
            {
                "invitation": invitation,
                "has_account": has_account,
                "form": form or (None if has_account else NewAccountForm()),
            },
            status=status,
        )

    def post(self, request, invitation):
        form = None
        try:
            if request.user.is_authenticated:
                membership = services.accept_invitation(invitation=invitation, user=request.user)
            else:
                form = NewAccountForm(request.POST)
                if not form.is_valid():
                    return self.get(request, invitation, form=form, status=400)
                membership = services.accept_invitation(
                    invitation=invitation,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password"],
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        except DomainError as error:
            if form is not None and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                messages.error(request, error.message)
            return self.get(request, invitation, form=form, status=400)
        messages.success(request, f"Welcome to {invitation.site.name}.")
        return redirect("site-home", site=invitation.site.slug)
