"""The one way other apps send an automated email: `send_automated(...)`, plus its delivery."""

import hashlib
import logging
import smtplib
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from email.utils import parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q
from django.template import TemplateSyntaxError
from django.utils import timezone

from contacts.models import Contact
from creatorhub import audit
from creatorhub.models import AuditAction, Site, User
from emails import rendering
from emails.errors import TemplateError
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.rendering import Rendered, TemplateParts

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)
FIRST_ATTEMPT_GRACE = timedelta(minutes=2)


def send_automated(
    site: Site, *, kind: str, contact: Contact, context: dict, dedupe_key: str
) -> OutboundEmail:
    """Writes the email into the outbox in the caller's transaction and sends it after commit, through
    the transactional queue, which bulk work never fills (a job's many emails go through
    `send_automated_to_many` and the site's batches instead).

    The same `dedupe_key` twice is one email: the second call returns the first row. `context` must be
    JSON: it is stored and the template is rendered from it when the worker sends.
    """
    from emails.tasks import send_email

    # Its own task sends it at once; the sweep only if that task is lost (broker down).
    email = _outbound(site, kind, contact, context, dedupe_key, due=timezone.now() + FIRST_ATTEMPT_GRACE)
    try:
        with transaction.atomic():
            email.save(force_insert=True)
    except IntegrityError:
        return OutboundEmail.objects.get(dedupe_key=email.dedupe_key)
    # Robust: with the broker down, the failure is logged and the caller's request still succeeds; the
    # row stays queued and the sweep (emails.tasks.requeue_due_emails) sends it later.
    transaction.on_commit(lambda: send_email.delay(site.pk, email.pk), robust=True)
    return email


def send_automated_to_many(site: Site, *, kind: str, emails: list[tuple[Contact, dict, str]]) -> None:
    """`send_automated` for a job's many emails, in one statement: each (contact, context, dedupe_key)
    becomes a bulk email (a key already written is skipped). The job calls `start_sending` after."""
    now = timezone.now()
    rows = [_outbound(site, kind, contact, context, key, due=now) for contact, context, key in emails]
    OutboundEmail.objects.bulk_create(rows, ignore_conflicts=True)


def _outbound(
    site: Site, kind: str, contact: Contact, context: dict, dedupe_key: str, *, due
) -> OutboundEmail:
    if contact.site_id != site.pk:
        raise ValueError("The contact belongs to another site.")
    return OutboundEmail(
        site=site,
        kind=kind,
        contact=contact,
        to_email=contact.email,
        context={
            "contact": {"name": contact.name, "email": contact.email},
            "site": {"name": site.name, "slug": site.slug},
            **context,
        },
        dedupe_key=dedupe_key[:200],
        next_attempt_at=due,
    )


def start_sending(site: Site) -> None:
    """After commit, a batch task sends the site's due emails (bulk work's), continuing while any are due."""
    from emails.tasks import send_due_emails

    transaction.on_commit(lambda: send_due_emails.delay(site.pk), robust=True)


def render(kind: str, context: dict, *, site: Site | None = None) -> Rendered:
    """Subject, text body and HTML body of an automated email (a `Rendered`, which unpacks as a tuple).

    With `site`, the site's own template of `kind` when it has one (looked up in the site's scope: call
    inside it, as the sending task does), else the shipped default (templates/emails/automated/). The
    subject and the text are rendered without autoescaping, the HTML with it.

    What each kind is rendered with (`send_automated` adds `contact` and `site` to the caller's context):

    - purchase_confirmation: contact {name, email}, site {name}, offer {title}, amount, currency, login_url
    - offer_grant_confirmation: contact, site, offer {title}, login_url
    - member_welcome: contact, site, offer {title}, set_password_url (a one-time link; never a password)
    - member_password_reset: contact, site, reset_url
    - double_opt_in, resubscription: contact, site, form {name}, confirm_url

    (emails.rendering.VARIABLES lists the same for the editor.)
    """
    parts, _ = template_parts(kind, site=site)
    return rendering.render_parts(parts, context)


def template_parts(kind: str, *, site: Site | None = None) -> tuple[TemplateParts, EmailTemplate | None]:
    """The sources `render` uses for `kind`, and the site's template when they are its own."""
    custom = EmailTemplate.objects.filter(site=site, kind=kind).first() if site is not None else None
    if custom is not None:
        return TemplateParts(custom.subject, custom.body_text, custom.body_html), custom
    return rendering.default_parts(kind), None


class SiteTemplate(NamedTuple):
    """One kind of automated email as a site has it: its sources, and its own template if any."""

    kind: str
    label: str
    parts: TemplateParts
    custom: EmailTemplate | None

    @property
    def is_default(self) -> bool:
        return self.custom is None


def site_templates(site: Site) -> list[SiteTemplate]:
    """Every kind of automated email, in EmailKind's order, with what the site's emails of it use.
    Call inside the site's scope."""
    custom = {t.kind: t for t in EmailTemplate.objects.filter(site=site).select_related("updated_by")}
    rows = []
    for kind in EmailKind:
        template = custom.get(kind.value)
        parts = (
            TemplateParts(template.subject, template.body_text, template.body_html)
            if template is not None
            else rendering.default_parts(kind.value)
        )
        rows.append(SiteTemplate(kind.value, kind.label, parts, template))
    return rows


def validate_template(site: Site, *, kind: str, subject: str, body_text: str, body_html: str) -> None:
    """Raises TemplateError, naming the part, unless each part compiles and renders with the sample
    context of `kind` using only the variables that kind has."""
    if kind not in EmailKind.values:
        raise TemplateError(f"Unknown email kind: {kind}.", field="kind")
    context = rendering.sample_context(site, kind)
    parts = {"subject": subject, "body_text": body_text, "body_html": body_html}
    for field, source in parts.items():
        limit = rendering.MAX_SUBJECT if field == "subject" else rendering.MAX_BODY
        if not source.strip():
            raise TemplateError("This part of the email cannot be empty.", field=field)
        if len(source) > limit:
            raise TemplateError(f"At most {limit:,} characters.", field=field)
        try:
            rendering.validate_part(source, kind=kind, context=context, html=field == "body_html")
        except TemplateSyntaxError as error:
            raise TemplateError(str(error), field=field) from None


def save_template(
    site: Site, *, kind: str, subject: str, body_text: str, body_html: str, acting_user: User | None
) -> EmailTemplate:
    """Saves the site's own template of `kind`, which the next email of that kind uses. A template that
    does not compile or render with the sample context is refused (TemplateError) and nothing is written."""
    validate_template(site, kind=kind, subject=subject, body_text=body_text, body_html=body_html)
    values = {
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "updated_at": timezone.now(),
        "updated_by": acting_user if acting_user is not None and acting_user.pk else None,
    }
    with transaction.atomic():  # the template and its audit entry
        before = EmailTemplate.objects.filter(site=site, kind=kind).first()
        try:
            with transaction.atomic():
                template, _ = EmailTemplate.objects.update_or_create(site=site, kind=kind, defaults=values)
        except IntegrityError:  # saved at the same moment by someone else: theirs is replaced by this one
            with transaction.atomic():
                template, _ = EmailTemplate.objects.update_or_create(site=site, kind=kind, defaults=values)
        parts = ("subject", "body_text", "body_html")
        audit.record(
            site,
            AuditAction.TEMPLATE_EDITED,
            target=template,
            target_label=EmailKind(kind).label,
            changes={
                "subject": {"old": before.subject if before else None, "new": subject},
                "changed": [p for p in parts if before is None or getattr(before, p) != values[p]],
            },
            user=values["updated_by"],
        )
    return template


def restore_default(site: Site, *, kind: str) -> bool:
    """Deletes the site's template of `kind`: its emails use the shipped default again. Whether there
    was one."""
    if kind not in EmailKind.values:
        raise TemplateError(f"Unknown email kind: {kind}.", field="kind")
    with transaction.atomic():
        template = EmailTemplate.objects.filter(site=site, kind=kind).first()
        if template is None:
            return False
        audit.record(
            site,
            AuditAction.TEMPLATE_RESTORED,
            target=template,
            target_label=EmailKind(kind).label,
            changes={"subject": {"old": template.subject, "new": None}},
        )
        template.delete()
    return True


def preview(site: Site, *, kind: str, contact: Contact | None = None) -> Rendered:
    """The email of `kind` as the site's template (or the default) renders it for `contact` (one of the
    site's contacts), or for the sample contact; the other variables have sample values."""
    if kind not in EmailKind.values:
        raise TemplateError(f"Unknown email kind: {kind}.", field="kind")
    if contact is not None and contact.site_id != site.pk:
        raise TemplateError("The contact belongs to another site.", field="contact")
    person = {"name": contact.name, "email": contact.email} if contact is not None else None
    try:
        return render(kind, rendering.sample_context(site, kind, contact=person), site=site)
    except TemplateSyntaxError as error:  # a saved template that fails for this contact (a limit…)
        raise TemplateError(f"The template could not be rendered: {error}") from None


def message_id_for(email: OutboundEmail) -> str:
    """Stable per email, so a resend after a crash is recognisable as the same message."""
    digest = hashlib.sha256(f"{email.site_id}:{email.dedupe_key}".encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "creatorhub.localhost"
    return f"<{digest}@{domain}>"


# -- Delivery: claim, commit, send, record -----------------------------------------------------------------
#
# A worker claims rows in a short transaction (FOR UPDATE SKIP LOCKED): each claimed row's attempt is
# counted and its next_attempt_at moved past the time a batch may take, so no other worker or sweep takes
# it meanwhile. Then, with no transaction open, the emails go out on one SMTP connection, and each
# outcome is written as soon as it is known: a worker killed mid-batch resends none that were sent, and
# the rows it had not reached come due again when their claim runs out.

BATCH = 100  # emails claimed at once by a batch task
MAX_ATTEMPTS = 8
CLAIM = timedelta(minutes=10)  # longer than a batch takes (its task's time limit)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after a transient failure: 30 s, 1 min, 2 min… at most an hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def claim(site: Site, *, email_id: int | None = None, limit: int = BATCH) -> list[OutboundEmail]:
    """Claims the site's due queued emails (or the one email `email_id`, due or never tried), oldest due
    first. Must be the outermost transaction: the claim is committed before anything is sent."""
    now = timezone.now()
    with transaction.atomic():
        due = OutboundEmail.objects.filter(status=EmailStatus.QUEUED)
        if email_id is not None:
            due = due.filter(Q(next_attempt_at__lte=now) | Q(attempts=0), pk=email_id)
        else:
            due = due.filter(next_attempt_at__lte=now)
        due = due.select_for_update(skip_locked=True).order_by("next_attempt_at", "pk")
        ids = list(due.values_list("pk", flat=True)[:limit])
        claimed = OutboundEmail.objects.filter(pk__in=ids)
        claimed.update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM)
    return list(claimed.select_related("contact").order_by("pk"))


def deliver(site: Site, *, email_id: int) -> str:
    """Sends one email now, if it is queued and not claimed by another worker: "sent", "suppressed",
    "failed", "retry" (a transient error: it comes due again later) or "skipped"."""
    claimed = claim(site, email_id=email_id, limit=1)
    return send_claimed(site, claimed)[0] if claimed else "skipped"


def deliver_due(site: Site, *, limit: int = BATCH) -> Counter:
    """Sends a batch of the site's due emails; what happened to them, as a Counter of outcomes."""
    return Counter(send_claimed(site, claim(site, limit=limit)))


def send_claimed(site: Site, emails: list[OutboundEmail]) -> list[str]:
    """Sends claimed emails on one connection and records each outcome at once. A connection that fails
    stops the batch: the emails not tried yet are released, due again at once for the next worker."""
    outcomes = []
    templates: dict[str, TemplateParts] = {}
    connection = get_connection()  # an SMTP one gives up after EMAIL_TIMEOUT
    try:
        _record_without_waiting_for_the_disk(True)
        for email in emails:
            outcome = _send_one(site, email, connection, templates)
            outcomes.append(outcome)
            if outcome == "retry":
                break
    finally:
        untried = [email.pk for email in emails[len(outcomes) :]]
        if untried:
            OutboundEmail.objects.filter(pk__in=untried, status=EmailStatus.QUEUED).update(
                attempts=F("attempts") - 1, next_attempt_at=timezone.now()
            )
        _record_without_waiting_for_the_disk(False)
        with suppress(*TRANSIENT_ERRORS):  # each outcome is recorded: a broken goodbye changes nothing
            connection.close()
    return outcomes


def _record_without_waiting_for_the_disk(on: bool) -> None:
    """Each outcome is committed on its own; waiting for its commit to reach the disk cost most of a
    send (benchmark: grant emails sent per second). Without the wait, a commit can only be lost if
    PostgreSQL itself crashes within a moment of it: that email would then be sent once more, with the
    same Message-ID. A worker that dies loses nothing either way."""
    db = connections[OutboundEmail.objects.db]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off" if on else "RESET synchronous_commit")


def _send_one(site: Site, email: OutboundEmail, connection, templates: dict) -> str:
    if email.contact is not None and email.contact.is_suppressed:
        reason = f"The address {email.contact.get_unsubscribe_reason_display().lower()}."
        return _record(email, "suppressed", status=EmailStatus.SUPPRESSED, error=reason)
    email.message_id = message_id_for(email)
    try:
        if email.kind not in templates:
            templates[email.kind], _ = template_parts(email.kind, site=site)
        subject, text, html = rendering.render_parts(templates[email.kind], email.context)
    except Exception as error:
        return _failed(email, f"The template could not be rendered: {error}")
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[email.to_email],
        headers={"Message-ID": email.message_id},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    message.metadata = {"site": site.slug, "email_id": str(email.pk)}  # echoed back by providers (anymail)
    try:
        connection.open()  # once per batch: send() alone would open and close a connection per email
        message.send()
    except TRANSIENT_ERRORS as error:
        described = f"{error.__class__.__name__}: {error}"
        if email.attempts >= MAX_ATTEMPTS:
            return _failed(email, f"{described} (attempt {email.attempts} of {MAX_ATTEMPTS}: given up)")
        return _record(
            email,
            "retry",
            error=f"{described} (attempt {email.attempts} of {MAX_ATTEMPTS}; will retry)",
            next_attempt_at=timezone.now() + retry_delay(email.attempts),
        )
    status = getattr(message, "anymail_status", None)
    return _record(
        email,
        "sent",
        status=EmailStatus.SENT,
        subject=subject[:300],
        sent_at=timezone.now(),
        error="",
        provider_message_id=(getattr(status, "message_id", None) or "")[:300],
    )


def _failed(email: OutboundEmail, error: str) -> str:
    logger.warning("Email %s (%s) of site %s failed: %s", email.pk, email.kind, email.site_id, error)
    return _record(email, "failed", status=EmailStatus.FAILED, error=error)


def _record(email: OutboundEmail, outcome: str, **fields) -> str:
    """Writes the outcome of one attempt (one statement, committed at once: no transaction is open)."""
    fields.setdefault("message_id", email.message_id)
    OutboundEmail.objects.filter(pk=email.pk).update(**fields)
    return outcome


def forget_recipient(contact: Contact, anonymous_id: str) -> None:
    """A deleted contact's emails stay in the log as what was sent and when, without their address,
    subject or data; those still queued are not sent (registered with creatorhub.personal_data)."""
    theirs = OutboundEmail.objects.filter(Q(contact=contact) | Q(to_email__lower=contact.email.lower()))
    theirs.filter(status=EmailStatus.QUEUED).update(
        status=EmailStatus.SUPPRESSED, error="Not sent: the contact was deleted."
    )
    theirs.update(to_email="", subject="", context={}, contact=None)


def emails_of(contact: Contact) -> list[dict]:
    """The automated emails sent to the contact, for their data export."""
    return list(
        OutboundEmail.objects.filter(contact=contact)
        .order_by("created_at", "id")
        .values("kind", "to_email", "subject", "status", "created_at", "sent_at")
    )
