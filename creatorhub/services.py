"""Writes of the tenancy core: sites, the team, API keys and dashboard accounts. One function per use
case, `site` first."""

import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from creatorhub import audit
from creatorhub.errors import ApiKeyError, TeamError
from creatorhub.models import ApiKey, AuditAction, Invitation, Membership, Plan, Site, User
from creatorhub.roles import Role
from creatorhub.selectors import hash_secret
from creatorhub.tasks import send_invitation_email, send_password_reset_email
from creatorhub.tenancy import ensure_same_site, site_scope

API_KEY_USE_STEP = timedelta(minutes=5)


_check_site = partial(ensure_same_site, error=TeamError)


@transaction.atomic
def create_site(*, name: str, slug: str, plan: Plan, owner: User, time_zone: str = "UTC") -> Site:
    if Site.objects.filter(slug=slug).exists():
        raise TeamError("That address is taken; choose another.", field="slug")
    site = Site.objects.create(name=name, slug=slug, plan=plan, time_zone=time_zone)
    Membership.objects.create(site=site, user=owner, role=Role.OWNER)
    return site


@transaction.atomic
def invite_member(site: Site, *, email: str, role: str, acting_user: User) -> tuple[Invitation, str]:
    """Invites a person to the team; returns the invitation and its one-time token (emailed after
    commit). A pending invitation of the same email is replaced."""
    if role not in Role.values:
        raise TeamError("Choose a role: owner, admin or assistant.", field="role")
    if Membership.objects.filter(site=site, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already on this site's team.", field="email")
    now = timezone.now()
    Invitation.objects.filter(site=site, email__iexact=email, accepted_at=None, revoked_at=None).update(
        revoked_at=now
    )
    invitation = Invitation(
        site=site,
        email=email,
        role=role,
        invited_by=acting_user,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    token = invitation.token()
    invitation.token_hash = hash_secret(token)
    invitation.save()
    audit.record(
        site,
        AuditAction.MEMBER_INVITED,
        target=invitation,
        target_label=email,
        changes={"role": role},
        user=acting_user,
    )
    # Robust: a broker down must not fail the invitation, which is made; the team page lists it pending,
    # and inviting the same email again sends a new link.
    transaction.on_commit(lambda: send_invitation_email.delay(site.pk, invitation.pk), robust=True)
    return invitation, token


@transaction.atomic
def revoke_invitation(site: Site, *, invitation: Invitation) -> None:
    _check_site(site, invitation)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(site, AuditAction.INVITATION_REVOKED, target=invitation, target_label=invitation.email)


@transaction.atomic
def accept_invitation(
    *, invitation: Invitation, user: User | None = None, name: str = "", password: str = ""
) -> Membership:
    """Puts the invitee on the team. A logged-in user accepts with their own account (whose email must
    match); a newcomer creates an account with a password of their own."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)  # one acceptance only
    if not invitation.is_usable():
        raise TeamError("This invitation has expired or was already used. Ask the owner for a new one.")
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise TeamError("An account with this email exists: log in to accept.")
        user = User(email=invitation.email, name=name)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise TeamError(" ".join(error.messages), field="password") from None
        user.set_password(password)
        user.save()
    elif user.email.lower() != invitation.email.lower():
        raise TeamError(f"This invitation is for {invitation.email}; you are logged in as {user.email}.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(site=invitation.site, user=user, role=invitation.role)
    except IntegrityError:
        raise TeamError("You are already on this site's team.") from None
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        invitation.site,
        AuditAction.MEMBER_JOINED,
        target=membership,
        target_label=user.email,
        changes={"role": invitation.role, "invited_by": getattr(invitation.invited_by, "email", None)},
        user=user,
    )
    return membership


def _owners_left_after(site: Site, membership: Membership) -> int:
    return Membership.objects.filter(site=site, role=Role.OWNER).exclude(pk=membership.pk).count()


@transaction.atomic
def change_member_role(site: Site, *, membership: Membership, role: str) -> Membership:
    _check_site(site, membership)
    if role not in Role.values:
        raise TeamError("Choose a role: owner, admin or assistant.", field="role")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and _owners_left_after(site, membership) == 0:
        raise TeamError("A site keeps at least one owner: make someone else owner first.", field="role")
    before, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    audit.record(
        site,
        AuditAction.MEMBER_ROLE_CHANGED,
        target=membership,
        target_label=membership.user.email,
        changes={"role": {"old": before, "new": role}},
    )
    return membership


@transaction.atomic
def remove_member(site: Site, *, membership: Membership) -> list[ApiKey]:
    """Takes the person off the team; the API keys they made for this site stop working with them (a key
    outliving its maker would keep their access). Returns the keys revoked."""
    _check_site(site, membership)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.OWNER and _owners_left_after(site, membership) == 0:
        raise TeamError("A site keeps at least one owner: make someone else owner first.")
    audit.record(
        site,
        AuditAction.MEMBER_REMOVED,
        target=membership,
        target_label=membership.user.email,
        changes={"role": {"old": membership.role, "new": None}},
    )
    membership.delete()
    return [
        revoke_api_key(site, api_key=api_key)
        for api_key in ApiKey.objects.filter(created_by=membership.user, revoked_at__isnull=True)
    ]


@transaction.atomic
def create_api_key(site: Site, *, name: str, role: str, acting_user: User | None) -> tuple[ApiKey, str]:
    """Creates a key and returns it with its secret, which is shown once and never stored."""
    if not name.strip():
        raise ApiKeyError("Give the key a name, such as the integration that will use it.", field="name")
    if role not in Role.values:
        raise ApiKeyError("Choose a role: owner, admin or assistant.", field="role")
    prefix = secrets.token_hex(6)
    secret = f"chk_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        site=site,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_secret(secret),
        role=role,
        created_by=acting_user,
    )
    audit.record(site, AuditAction.API_KEY_CREATED, target=api_key, changes={"role": role}, user=acting_user)
    return api_key, secret


@transaction.atomic
def revoke_api_key(site: Site, *, api_key: ApiKey) -> ApiKey:
    if api_key.site_id != site.pk:
        raise ApiKeyError("That key belongs to another site.")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(site, AuditAction.API_KEY_REVOKED, target=api_key)
    return api_key


def record_api_key_use(*, api_key: ApiKey) -> None:
    """Remembers when a key was last used, at most once per few minutes so busy keys are not rewritten
    on every request."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_USE_STEP:
        with site_scope(api_key.site):  # the key's own site, whichever URL it was sent to
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def request_password_reset(*, email: str) -> None:
    """Emails a link to set a new password to the active dashboard account of this email. An unknown
    address gets nothing, and the caller answers alike, so nobody learns who has an account. The worker
    makes the link: no token travels through the broker."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is not None:
        # Robust: with the broker down, the page still answers; asking again sends a link.
        transaction.on_commit(lambda: send_password_reset_email.delay(user.pk), robust=True)


@transaction.atomic
def log_out_other_sessions(*, user: User) -> None:
    """Ends every session of the account: a new session epoch changes the hash each session is checked
    against (User._get_session_auth_hash). The caller keeps its own with update_session_auth_hash."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
