"""The tenancy core: users, plans, sites, memberships, invitations and site API keys."""

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_scopes import ScopedManager

from creatorhub.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs into the dashboard or the support pages, by email."""

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False,
        help_text="Platform staff: may use the admin and, with the support permission, the support pages.",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    session_epoch = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised by “Log out other sessions”: ends the sessions made before.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]
        permissions = [("support", "Reviews plan usage and overages across sites")]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email

    @property
    def is_support(self) -> bool:
        return self.is_active and self.is_staff and self.has_perm("creatorhub.support")

    def _get_session_auth_hash(self, secret=None):
        """The hash every request checks its session against (Django's, of the password, which is why a
        password change logs out the other sessions), with the session epoch in it: raising the epoch
        logs them out too. At epoch 0 it is Django's own, so sessions made before the epoch existed stay."""
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret)
        return salted_hmac(
            "creatorhub.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Plan(models.Model):
    """A site's limits. Plans are data: platform staff edit them in the admin."""

    name = models.CharField(max_length=80, unique=True)
    contact_limit = models.PositiveIntegerField()
    active_customer_limit = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Per month.")
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["price"]

    def __str__(self):
        return self.name


class Site(models.Model):
    """A tenant: one creator business, addressed by its immutable slug."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="sites")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="Where dates are shown.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = Site.objects.filter(pk=self.pk).values_list("slug", flat=True).first()
            if stored is not None and stored != self.slug:
                raise ValidationError({"slug": "A site's slug never changes."})
        super().save(*args, **kwargs)

    def today(self) -> date:
        """The calendar day it is now where the site is (its time zone): the day of day filters, of
        active customers and of usage."""
        return timezone.now().astimezone(ZoneInfo(self.time_zone)).date()


class SiteOwned(models.Model):
    """Base of every site-owned model: a query outside a site's scope raises instead of leaking rows."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE)

    objects = ScopedManager(site="site")

    class Meta:
        abstract = True


class Membership(SiteOwned):
    """A user's place on a site's team, with one role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "memberships"
        constraints = [models.UniqueConstraint("site", "user", name="membership_unique_site_user")]
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.user} ({self.role}) on {self.site_id}"


class Invitation(SiteOwned):
    """An owner's invitation to join the team; the emailed token is stored hashed."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "invitations"
        ordering = ["-created_at"]
        indexes = [models.Index("site", Lower("email"), name="invitation_site_email")]

    def __str__(self):
        return f"Invitation of {self.email} as {self.role}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now

    def token(self) -> str:
        """The one-time token of the invitation's link, derived from the server's secret key and the
        invitation itself: the worker that emails it works it out again, so it never travels through the
        broker; only its hash is stored."""
        invitation = f"{self.site_id}:{self.email}:{self.created_at.isoformat()}"
        return salted_hmac("creatorhub.invitation", invitation, algorithm="sha256").hexdigest()


class ApiKey(SiteOwned):
    """A site API key: shown once, stored as a SHA-256 hash, carrying the scopes of its role.

    The prefix is unique platform-wide because a request names its key before its site is checked.
    """

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "api_keys"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="apikey_site_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditAction(models.TextChoices):
    """What the audit log records: acts of the team, of API keys and of support staff."""

    OFFER_GRANTED = "offer_granted", "Granted an offer"
    GRANT_REQUESTED = "grant_requested", "Asked to grant an offer"
    OFFER_REVOKED = "offer_revoked", "Revoked an offer"
    PURCHASE_RECORDED = "purchase_recorded", "Recorded a purchase"
    CONTACT_DELETED = "contact_deleted", "Deleted a contact"
    SUBSCRIPTION_CHANGED = "subscription_changed", "Changed a subscription status"
    BULK_ACTION_STARTED = "bulk_action_started", "Started a bulk action on contacts"
    IMPORT_STARTED = "import_started", "Started an import"
    EXPORT_STARTED = "export_started", "Started an export"
    TEMPLATE_EDITED = "template_edited", "Edited an email template"
    TEMPLATE_RESTORED = "template_restored", "Restored an email template's default"
    API_KEY_CREATED = "api_key_created", "Created an API key"
    API_KEY_REVOKED = "api_key_revoked", "Revoked an API key"
    MEMBER_INVITED = "member_invited", "Invited a team member"
    INVITATION_REVOKED = "invitation_revoked", "Revoked an invitation"
    MEMBER_JOINED = "member_joined", "Joined the team"
    MEMBER_ROLE_CHANGED = "member_role_changed", "Changed a team member's role"
    MEMBER_REMOVED = "member_removed", "Removed a team member"
    SUPPORT_SITE_VIEWED = "support_site_viewed", "Support viewed the site's usage"
    SUPPORT_CASE_VIEWED = "support_case_viewed", "Support viewed an overage case"
    SUPPORT_CASE_CHANGED = "support_case_changed", "Support changed an overage case"


class ActorKind(models.TextChoices):
    TEAM = "team", "Team member"
    API_KEY = "api_key", "API key"
    SUPPORT = "support", "Support staff"
    SYSTEM = "system", "CreatorHub"


class AppendOnly(Exception):
    """An audit entry is never changed or deleted."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Audit entries are never changed.")

    def delete(self):
        raise AppendOnly("Audit entries are never deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnly("Audit entries are never changed.")


class AuditEntry(SiteOwned):
    """One act on a site — who, what, when and from where — written in the transaction of the act
    (creatorhub.audit.record). Append-only: the model, its queryset and, on PostgreSQL, a trigger
    refuse every change and deletion (the trigger lets a deleted user or key be forgotten, the label
    stays). No contact's email or name is kept here: a contact is "contact #id"."""

    # A site with an audit log is not deleted (the log outlives nothing it records).
    site = models.ForeignKey(Site, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    actor_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept when they are deleted.")
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="Old and new values, counts.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(_manager_class=models.Manager.from_queryset(AuditEntryQuerySet), site="site")

    class Meta:
        default_related_name = "audit_entries"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["site", "-created_at", "-id"], name="audit_site_created"),
            models.Index(fields=["site", "action", "-created_at", "-id"], name="audit_site_action"),
        ]

    def __str__(self):
        return f"{self.actor_label}: {self.get_action_display()} {self.target_label}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Audit entries are never deleted.")

    @property
    def change_lines(self) -> list[str]:
        """The changes in words: "role: admin → owner", "count: 120"."""

        def shown(value) -> str:
            if value is None or value == "":
                return "—"
            if isinstance(value, list):
                return ", ".join(str(v) for v in value) or "—"
            return str(value)

        lines = []
        for key, value in (self.changes or {}).items():
            name = key.replace("_", " ")
            if isinstance(value, dict) and set(value) == {"old", "new"}:
                if value["old"] != value["new"]:
                    lines.append(f"{name}: {shown(value['old'])} → {shown(value['new'])}")
            elif isinstance(value, dict):
                lines.append(f"{name}: " + ", ".join(f"{k} {shown(v)}" for k, v in value.items()))
            else:
                lines.append(f"{name}: {shown(value)}")
        return lines
