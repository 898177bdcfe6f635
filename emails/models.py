"""The outbox of automated (transactional) emails."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from creatorhub.models import SiteOwned, User


class EmailKind(models.TextChoices):
    PURCHASE_CONFIRMATION = "purchase_confirmation", "Purchase Confirmation"
    OFFER_GRANT_CONFIRMATION = "offer_grant_confirmation", "Offer Grant Confirmation"
    MEMBER_WELCOME = "member_welcome", "Member Welcome"
    DOUBLE_OPT_IN = "double_opt_in", "Double Opt-in Confirmation"
    RESUBSCRIPTION = "resubscription", "Resubscription Confirmation"
    MEMBER_PASSWORD_RESET = "member_password_reset", "Member Password Reset"


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"


class EmailTemplate(SiteOwned):
    """A site's own version of an automated email. Without one, the shipped default is used."""

    kind = models.CharField(max_length=40, choices=EmailKind.choices)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        default_related_name = "email_templates"
        constraints = [models.UniqueConstraint("site", "kind", name="emailtemplate_unique_kind")]

    def __str__(self):
        return self.get_kind_display()


class OutboundEmail(SiteOwned):
    """One automated email, written in the transaction of its cause and sent once by a worker.

    `dedupe_key` names the cause (e.g. "double_opt_in:form:3:contact:17:2026-11-25"): writing the same
    key twice is one email.
    """

    kind = models.CharField(max_length=40, choices=EmailKind.choices)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    to_email = models.EmailField(max_length=254)
    context = models.JSONField(default=dict, help_text="What the template is rendered with.")
    dedupe_key = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    subject = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts to send it so far.")
    next_attempt_at = models.DateTimeField(
        default=timezone.now,
        help_text="While queued: when the sweep may send it (after a retry's back-off, or a worker's claim).",
    )
    message_id = models.CharField(max_length=300, blank=True)
    provider_message_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "outbound_emails"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint("site", "dedupe_key", name="outboundemail_unique_key")]
        indexes = [
            models.Index(fields=["site", "-created_at", "-id"], name="outboundemail_site_newest"),
            models.Index(fields=["site", "contact", "-created_at"], name="outboundemail_site_contact"),
            # The email log filtered by status, and the Overview's emails of the last 30 days by status.
            models.Index(fields=["site", "status", "-created_at", "-id"], name="outboundemail_site_status"),
            models.Index(
                fields=["site", "next_attempt_at"],
                name="outboundemail_site_due",
                condition=Q(status=EmailStatus.QUEUED),
            ),
            # The sweep looks for due emails of every site.
            models.Index(
                fields=["next_attempt_at"], name="outboundemail_due", condition=Q(status=EmailStatus.QUEUED)
            ),
            # Providers' webhooks name an email by the provider's id before its site is known.
            models.Index(
                fields=["provider_message_id"],
                name="outboundemail_provider_id",
                condition=~Q(provider_message_id=""),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to_email} ({self.status})"
