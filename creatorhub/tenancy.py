"""The one mechanism that scopes every request to its site.

A request to /app/<site>/… or /api/v1/sites/<site>/… resolves the site from the URL, finds the
caller's membership (or API key) inside that site's scope, and runs the handler in the scope, so that
every query on a site-owned model sees that site's rows only. Another site's slug, or an object id of
another site, is a 404; a role without the scope a method needs is a 403.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django_scopes import scope
from django_scopes.state import get_scope

from creatorhub import audit
from creatorhub.models import ApiKey, Membership, Site
from creatorhub.roles import Role, scopes_of

platform_log = logging.getLogger("creatorhub.platform")

_PLATFORM = "_platform"  # the key platform_wide() adds to django-scopes' state, with its reason


def site_scope(site: Site | None):
    """Enter one site's scope. An unknown site gets a scope that matches no rows, never all of them
    (django-scopes treats a None value as "no filter")."""
    return scope(site=site if site is not None else [])


@contextmanager
def platform_wide(reason: str, *, routine: bool = False):
    """THE audited door to every site's rows (the nightly run, support, the admin, seeding,
    schema generation, lookups by a secret that names its site). django-scopes is disabled and the
    database is told so (`app.platform`, creatorhub.rls), and the reason is logged. A bare
    `scopes_disabled()` lifts the ORM's filter only: under row-level security it reads nothing."""
    # A lookup made on every request (an API key by its secret, the user's own sites) is logged at
    # debug, so that the audit lines of real platform-wide work are not drowned.
    platform_log.log(logging.DEBUG if routine else logging.INFO, "Platform-wide: %s", reason)
    with scope(_enabled=False, **{_PLATFORM: reason}):
        yield


def database_tenancy() -> tuple[str, str]:
    """What the database must see now, as the values of (`app.site_id`, `app.platform`), read from
    django-scopes' state: a site's scope gives its id; platform_wide() turns platform on; anything else
    (no scope, site_scope(None), a bare scopes_disabled(), several sites) gives no site at all, so that
    row-level security shows no site-owned row."""
    state = get_scope()
    if not state.get("_enabled", True):
        return ("", "on") if state.get(_PLATFORM) else ("", "")
    site = state.get("site")
    site_id = site.pk if isinstance(site, Site) else site
    if isinstance(site_id, int) and not isinstance(site_id, bool):
        return (str(site_id), "")
    return ("", "")


@dataclass(frozen=True)
class SiteAccess:
    """Who is acting on a site, with which role, and so with which scopes."""

    site: Site
    role: str
    membership: Membership | None = None
    api_key: ApiKey | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return scopes_of(self.role)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


def access_for(site: Site, *, user=None, api_key: ApiKey | None = None) -> SiteAccess | None:
    """The caller's access to `site`, or None when they have none. Call inside the site's scope."""
    if api_key is not None:
        if api_key.site_id != site.pk or not api_key.is_active:
            return None
        return SiteAccess(site=site, role=api_key.role, api_key=api_key)
    if user is None or not user.is_authenticated:
        return None
    membership = Membership.objects.filter(user=user).first()
    if membership is None:
        return None
    return SiteAccess(site=site, role=membership.role, membership=membership)


def required_scope(scope_map: dict[str, str], method: str) -> str | None:
    """The scope a method needs; HEAD and OPTIONS need what GET needs, and OPTIONS (which only says what
    the address allows) nothing but the site's access where there is no GET (None). A view that forgot
    to declare a method's scope is a bug, not an open door."""
    if method == "OPTIONS" and "GET" not in scope_map:
        return None
    method = "GET" if method in ("HEAD", "OPTIONS") else method
    try:
        return scope_map[method]
    except KeyError:
        raise ImproperlyConfigured(f"No scope is declared for {method}.") from None


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their sites (and plans), by site name.

    Audited platform-wide read: a user's memberships span sites. They are read here, at once, so that
    what is returned touches no site-owned table later.
    """
    with platform_wide(f"the sites of user {user.pk}", routine=True):
        return list(Membership.objects.filter(user=user).select_related("site__plan").order_by("site__name"))


def request_memberships(request) -> list[Membership]:
    """The logged-in user's memberships, read once per request: a page finds its site and the user's
    role among them, and its site switcher lists them."""
    if not hasattr(request, "_memberships"):
        request._memberships = memberships_of(request.user)
    return request._memberships


class SitePageMixin(LoginRequiredMixin):
    """For dashboard pages under /app/<site>/: login, membership and scope checks, then the handler and
    the template rendering inside the site's scope."""

    scope_map: dict[str, str] = {}

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        slug = kwargs.get("site", "")
        membership = next((m for m in request_memberships(request) if m.site.slug == slug), None)
        if membership is None:  # no such site, or not the user's: the same answer
            raise Http404("No such site.")
        site = membership.site
        with site_scope(site), audit.acting(request, user=request.user):
            access = SiteAccess(site=site, role=membership.role, membership=membership)
            if request.method.lower() not in self.http_method_names or not hasattr(
                self, request.method.lower()
            ):
                return self.http_method_not_allowed(request, *args, **kwargs)
            needed = required_scope(self.scope_map, request.method)
            if needed is not None and needed not in access.scopes:
                raise PermissionDenied("Your role on this site may not do this.")
            request.site, request.site_access = site, access
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()  # templates read site-owned rows: render them inside the scope
            return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            site=self.request.site,
            site_access=self.request.site_access,
            site_scopes=self.request.site_access.scopes,
        )
        return context


def ensure_same_site(site: Site, *objects, error: type[Exception]) -> None:
    """Services take `site` first and refuse any object of another site (None is skipped)."""
    for obj in objects:
        if obj is not None and obj.site_id != site.pk:
            raise error("That belongs to another site.")
