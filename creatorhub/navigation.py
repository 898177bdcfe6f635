"""The dashboard's tabs. A tab shows when the role has its scope and its app has mounted its page."""

from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, reverse

from creatorhub.roles import Scope


@dataclass(frozen=True)
class Tab:
    label: str
    url_name: str
    scope: str
    also: tuple[str, ...] = ()  # other sections of the dashboard that belong to this tab


TABS = (
    Tab("Overview", "site-home", Scope.SITE_READ),
    Tab("Contacts", "contacts", Scope.CONTACTS_READ, also=("imports", "exports")),
    Tab("Activity", "activity", Scope.CONTACTS_READ),
    Tab("Offers", "offers", Scope.OFFERS_READ, also=("products", "grant-jobs")),
    Tab("Emails", "emails", Scope.EMAILS_READ),
    Tab("Forms", "forms", Scope.FORMS_READ),
    Tab("Usage", "usage", Scope.USAGE_READ),
    Tab("Settings", "team", Scope.TEAM_READ),
    Tab("Audit log", "audit-log", Scope.AUDIT_READ),
)


@cache
def _mounted(url_name: str) -> bool:
    try:
        reverse(url_name, kwargs={"site": "x"})
    except NoReverseMatch:
        return False
    return True


def _section(path: str) -> str:
    """The part of a dashboard path after /app/<site>/: "settings" for /app/ana/settings/team/."""
    parts = path.split("/")
    return parts[3] if len(parts) > 3 else ""


def tabs_for(site, scopes: frozenset[str], path: str) -> list[dict]:
    tabs = []
    for tab in TABS:
        if tab.scope not in scopes or not _mounted(tab.url_name):
            continue
        url = reverse(tab.url_name, kwargs={"site": site.slug})
        current = _section(path) in (_section(url), *tab.also)
        tabs.append({"label": tab.label, "url": url, "current": current})
    return tabs
