"""The one way other apps send an automated email: `send_automated(...)`, plus its delivery."""

import hashlib
import logging
import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context, Engine
from django.template.loader import get_template
from django.utils import timezone

from contacts.models import Contact
from creatorhub.models import Site
from emails.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def send_automated(
    site: Site, *, kind: str, contact: Contact, context: dict, dedupe_key: str
) -> OutboundEmail:
    """Writes the email into the outbox in the caller's transaction and sends it after commit.

    The same `dedupe_key` twice is one email: the second call returns the first row. `context` must be
    JSON: it is stored and the template is rendered from it when the worker sends.
    """
    from emails.tasks import send_email

    if contact.site_id != site.pk:
        raise ValueError("The contact belongs to another site.")
    full_context = {
        "contact": {"name": contact.name, "email": contact.email},
        "site": {"name": site.name, "slug": site.slug},
        **context,
    }
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                site=site,
                kind=kind,
                contact=contact,
                to_email=contact.email,
                context=full_context,
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        return OutboundEmail.objects.get(dedupe_key=dedupe_key[:200])
    transaction.on_commit(lambda: send_email.delay(site.pk, email.pk))
    return email


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """Subject, text body and HTML body of an automated email; only the HTML is autoescaped."""
    plain = Engine(dirs=settings.TEMPLATES[0]["DIRS"], autoescape=False)
    subject = plain.get_template(f"emails/automated/{kind}.subject.txt").render(
        Context(context, autoescape=False)
    )
    text = plain.get_template(f"emails/automated/{kind}.txt").render(Context(context, autoescape=False))
    html = get_template(f"emails/automated/{kind}.html").render(context)
    return " ".join(subject.split()), text.strip() + "\n", html


def message_id_for(email: OutboundEmail) -> str:
    """Stable per email, so a resend after a crash is recognisable as the same message."""
    digest = hashlib.sha256(f"{email.site_id}:{email.dedupe_key}".encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "creatorhub.localhost"
    return f"<{digest}@{domain}>"


def deliver(site: Site, *, email_id: int, final_attempt: bool) -> str:
    """Sends one queued email, holding its row so no other worker sends it too. Returns what happened:
    "sent", "suppressed", "failed", "retry" (a transient error, recorded) or "skipped" (not queued)."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .select_related("contact")
            .filter(pk=email_id, status=EmailStatus.QUEUED)
            .first()
        )
        if email is None:
            return "skipped"
        if email.contact is not None and email.contact.is_suppressed:
            email.status, email.error = (
                EmailStatus.SUPPRESSED,
                f"The address {email.contact.get_unsubscribe_reason_display().lower()}.",
            )
            email.save(update_fields=["status", "error"])
            return "suppressed"
        email.attempts += 1
        email.message_id = message_id_for(email)
        try:
            subject, text, html = render(email.kind, email.context)
        except Exception as error:
            return _fail(email, f"The template could not be rendered: {error}")
        message = EmailMultiAlternatives(
            subject=subject, body=text, to=[email.to_email], headers={"Message-ID": email.message_id}
        )
        message.attach_alternative(html, "text/html")
        message.metadata = {
            "site": site.slug,
            "email_id": str(email.pk),
        }  # echoed back by providers (anymail)
        try:
            message.send()
        except TRANSIENT_ERRORS as error:
            if final_attempt:
                return _fail(email, f"{error.__class__.__name__}: {error}")
            email.error = f"{error.__class__.__name__}: {error} (attempt {email.attempts}; will retry)"
            email.save(update_fields=["attempts", "error", "message_id"])
            return "retry"
        status = getattr(message, "anymail_status", None)
        email.provider_message_id = (getattr(status, "message_id", None) or "")[:300]
        email.subject, email.status, email.sent_at, email.error = (
            subject[:300],
            EmailStatus.SENT,
            timezone.now(),
            "",
        )
        email.save(
            update_fields=[
                "subject",
                "status",
                "sent_at",
                "error",
                "attempts",
                "message_id",
                "provider_message_id",
            ]
        )
        return "sent"


def _fail(email: OutboundEmail, error: str) -> str:
    email.status, email.error = EmailStatus.FAILED, error
    email.save(update_fields=["status", "error", "attempts", "message_id"])
    logger.warning("Email %s failed: %s", email.pk, error)
    return "failed"
