from django.utils.functional import SimpleLazyObject

from creatorhub.navigation import tabs_for
from creatorhub.selectors import sites_to_switch
from creatorhub.tenancy import request_memberships


def dashboard(request):
    """The site switcher and the tabs, on every dashboard page of a logged-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"user_sites": SimpleLazyObject(lambda: sites_to_switch(request_memberships(request)))}
    site, access = getattr(request, "site", None), getattr(request, "site_access", None)
    if site is not None and access is not None:
        context["nav_tabs"] = tabs_for(site, access.scopes, request.path)
    return context
