"""Reads of the tenancy core that are more than a filter."""

import hashlib
import hmac

from django.db.models import Case, CharField, QuerySet, Value, When

from creatorhub.models import ActorKind, ApiKey, AuditEntry, Invitation, Membership, Site, User
from creatorhub.tenancy import memberships_of, platform_wide


def sites_of_user(user) -> QuerySet[Site]:
    """The sites a user is on, each annotated with the user's `role` there (the API's list of sites)."""
    roles = {membership.site_id: membership.role for membership in memberships_of(user)}
    when = [When(pk=pk, then=Value(name)) for pk, name in roles.items()]
    role = Case(*when, default=Value(""), output_field=CharField())
    return Site.objects.filter(pk__in=roles).annotate(role=role).select_related("plan").order_by("name")


def sites_to_switch(memberships: list[Membership]) -> list[Site]:
    """The sites of a user's memberships (tenancy.memberships_of), by name, each with the user's `role`
    there: the site switcher of every dashboard page and the chooser after login."""
    sites = []
    for membership in memberships:
        membership.site.role = membership.role
        sites.append(membership.site)
    return sites


def hash_secret(secret: str) -> str:
    """API keys and invitation tokens are long random strings: SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The active key behind a secret, or None.

    Audited platform-wide read: a request names its key before its site is known, so the key is looked
    up across sites by its prefix; the caller then checks it against the site of the URL.
    """
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != "chk":
        return None
    with platform_wide(f"API key lookup by its prefix {parts[1]}", routine=True):
        try:  # the prefix is unique: get(), which orders nothing (every API call makes this query)
            api_key = ApiKey.objects.select_related("site__plan").get(prefix=parts[1], revoked_at=None)
        except ApiKey.DoesNotExist:
            return None
    return api_key if hmac.compare_digest(api_key.key_hash, hash_secret(secret)) else None


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation behind an emailed token, usable or not.

    Audited platform-wide read: the token is the only thing the invitee's link carries.
    """
    with platform_wide("invitation lookup by its token", routine=True):
        return (
            Invitation.objects.select_related("site", "invited_by")
            .filter(token_hash=hash_secret(token))
            .first()
        )


def user_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


# -- The audit log ----------------------------------------------------------------------------------------

SUPPORT_ACTOR, SYSTEM_ACTOR = "support", "system"


def audit_actor_choices() -> list[tuple[str, str]]:
    """Who can be picked in the audit log's "by" filter: the team, the API keys, support, CreatorHub.
    Call inside the site's scope. (People who left the team are found by their entries' label only.)"""
    members = Membership.objects.select_related("user").order_by("user__email")
    keys = ApiKey.objects.order_by("name", "pk")
    return [
        ("", "Anyone"),
        *[(f"user:{m.user_id}", m.user.email) for m in members],
        *[(f"key:{k.pk}", f"API key “{k.name}”") for k in keys],
        (SUPPORT_ACTOR, "Support staff"),
        (SYSTEM_ACTOR, "CreatorHub"),
    ]


def audit_entries(entries=None, *, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """The site's audit entries (call inside its scope), of one action and/or one actor when given:
    `user:<id>`, `key:<id>`, `support` or `system` (audit_actor_choices)."""
    entries = AuditEntry.objects.all() if entries is None else entries
    if action:
        entries = entries.filter(action=action)
    kind, _, pk = actor.partition(":")
    if kind == "user" and pk.isdigit():
        entries = entries.filter(actor_user_id=int(pk), actor_kind=ActorKind.TEAM)
    elif kind == "key" and pk.isdigit():
        entries = entries.filter(actor_api_key_id=int(pk))
    elif actor == SUPPORT_ACTOR:
        entries = entries.filter(actor_kind=ActorKind.SUPPORT)
    elif actor == SYSTEM_ACTOR:
        entries = entries.filter(actor_kind=ActorKind.SYSTEM)
    return entries
