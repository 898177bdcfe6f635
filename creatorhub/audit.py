"""The audit log: who did what on a site, when and from where.

Services call `record(site, action, target=…, changes=…)` inside their own transaction, so an act and
its audit entry are written together or not at all. Who acted and from where are not passed down
through every service: the request sets them once (`acting(...)`, in creatorhub.tenancy.SitePageMixin,
creatorhub.api.base.SiteEndpointMixin and the support pages and API) in a context variable, reset when
the request ends. A service that knows its actor better (a job run by a worker, with the starter saved
on the job) passes `user=` or `api_key=`.

A bulk act is one entry: the bulk service records it when the team starts it, and runs the per-contact
services inside `quiet()`, so thousands of contacts do not make thousands of entries.

Personal data: no contact's email or name is written here (an entry outlives the contact, and entries
are never changed): a contact is named "contact #<id>".
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from creatorhub.models import ActorKind, ApiKey, AuditEntry, Site, User

USER_AGENT_LENGTH = 200
LISTED_IDS = 100  # contact ids kept in one entry; a larger act keeps its count and its words


@dataclass(frozen=True)
class Actor:
    """Who acts in this request or task, and from where."""

    user: User | None = None
    api_key: ApiKey | None = None
    support: bool = False
    ip: str | None = None
    user_agent: str = ""

    @property
    def kind(self) -> str:
        if self.api_key is not None:
            return ActorKind.API_KEY
        if self.user is not None:
            return ActorKind.SUPPORT if self.support else ActorKind.TEAM
        return ActorKind.SYSTEM

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"API key “{self.api_key.name}” ({self.api_key.prefix}…)"[:200]
        if self.user is not None:
            return f"{self.user.email} (support)" if self.support else self.user.email
        return "CreatorHub"


_actor: ContextVar[Actor | None] = ContextVar("creatorhub_audit_actor", default=None)  # None: no one
_quiet: ContextVar[bool] = ContextVar("creatorhub_audit_quiet", default=False)


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None  # behind a proxy, the deployment sets it (README)


@contextmanager
def acting(request=None, *, user=None, api_key=None, support: bool = False) -> Iterator[Actor]:
    """Within the block, audit entries name this actor (and the request's address and user agent)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    actor = Actor(
        user=user,
        api_key=api_key,
        support=support,
        ip=_client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH] if request is not None else "",
    )
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def identify(*, user=None, api_key=None) -> None:
    """Names who acts once the API has authenticated the request, inside the `acting` block that
    the request opened (its end resets this too)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    _actor.set(replace(current_actor(), user=user, api_key=api_key))


def current_actor() -> Actor:
    return _actor.get() or Actor()


@contextmanager
def quiet() -> Iterator[None]:
    """For the per-contact steps of a bulk act that was audited once as a whole."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def target_of(obj) -> tuple[str, int | None, str]:
    """(type, id, label) of a model instance; a contact's label names no person."""
    if obj is None:
        return "", None, ""
    kind = obj._meta.model_name
    if obj._meta.label == "contacts.Contact":
        return kind, obj.pk, f"contact #{obj.pk}"
    return kind, obj.pk, str(obj)[:200]


def without_search(description: str, selection: dict) -> str:
    """A selection's words without the texts searched for — the search box's and those of "Name or
    email contains" filters — which may be a person's email or name."""
    for text in _searched(selection.get("filters") or {}) | {selection.get("search") or ""}:
        if text.strip():
            description = description.replace(f"“{text}”", "“…”").replace(f"“{text.strip()}”", "“…”")
    return description


def _searched(filters) -> set[str]:
    """The values of the search filters anywhere in segment filters (`{"all": [...]}`, `{"any": [...]}`)."""
    if isinstance(filters, list):
        return set().union(*(_searched(item) for item in filters))
    if not isinstance(filters, dict):
        return set()
    if filters.get("field") == "search" and isinstance(filters.get("value"), str):
        return {filters["value"]}
    return _searched(filters.get("all", [])) | _searched(filters.get("any", []))


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


def record(
    site: Site,
    action: str,
    *,
    target=None,
    target_label: str = "",
    changes: dict | None = None,
    user: User | None = None,
    api_key: ApiKey | None = None,
    support: bool = False,
) -> AuditEntry | None:
    """Writes one audit entry in the caller's transaction; None inside `quiet()`. `user` or `api_key`
    (with `support` for staff) name the actor when no request does (a job's starter, a script)."""
    from creatorhub.tenancy import site_scope  # tenancy opens `acting` in its page mixin

    if _quiet.get():
        return None
    actor = current_actor()
    if user is not None or api_key is not None:
        same = (api_key is not None and _pk(api_key) == _pk(actor.api_key)) or (
            api_key is None and actor.api_key is None and _pk(user) == _pk(actor.user)
        )
        if not same:  # else the request's own actor: keep its address
            actor = Actor(user=user, api_key=api_key, support=support)
    kind, pk, label = target_of(target)
    with site_scope(site):
        return AuditEntry.objects.create(
            site=site,
            action=action,
            actor_kind=actor.kind,
            actor_user=actor.user if actor.api_key is None else None,
            actor_api_key=actor.api_key,
            actor_label=actor.label[:200],
            target_type=kind,
            target_id=pk,
            target_label=(target_label or label)[:200],
            changes=changes or {},
            ip=actor.ip,
            user_agent=actor.user_agent[:USER_AGENT_LENGTH],
        )
