"""Writes of the contacts app: contacts, tags, the subscription state machine, forms and bounces.

Every change of subscription status goes through `_change_status`, which locks the contact, checks the
transition against the status rules (docs/rules.md), and writes the consent event in the same transaction.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contacts import export_files, tokens
from contacts.counts import contacts_changed
from contacts.errors import ConsentError, ContactError, FormError
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactCount,
    ContactOrigin,
    ContactTag,
    DeliveryEvent,
    Form,
    FormSubmission,
    ImportRowError,
    SubscriptionStatus,
    Tag,
    UnsubscribeReason,
)
from contacts.selectors import contact_by_email
from creatorhub import audit, events, personal_data
from creatorhub.models import AuditAction, Site
from creatorhub.tenancy import ensure_same_site, platform_wide
from emails.models import EmailKind
from emails.services import send_automated

SUBSCRIBED = SubscriptionStatus.SUBSCRIBED
PENDING = SubscriptionStatus.PENDING
NEVER = SubscriptionStatus.NEVER_SUBSCRIBED
UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED

# Which unsubscribe reason may replace which: deliverability facts (a hard bounce, a complaint) win over
# a choice, and the contact's own choice wins over the team's.
REASON_WEIGHT = {
    UnsubscribeReason.MANUAL: 0,
    UnsubscribeReason.OPTED_OUT: 1,
    UnsubscribeReason.BOUNCED: 2,
    UnsubscribeReason.COMPLAINED: 3,
}
MAX_TAGS_PER_CALL = 100


@dataclass(frozen=True)
class Consent:
    """Who or what asks for a status change, and the evidence recorded with it."""

    source: str
    note: str = ""
    user: object = None
    api_key: object = None
    form: Form | None = None
    ip: str | None = None
    user_agent: str = ""


def clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ContactError("Enter a valid email address.", field="email") from None
    return email


_check_site = partial(ensure_same_site, error=ContactError)


# -- Contacts ---------------------------------------------------------------------------------------


@transaction.atomic
def create_contact(
    site: Site,
    *,
    email: str,
    name: str = "",
    fields: dict | None = None,
    tags: list[str] = (),
    origin: str = ContactOrigin.MANUAL,
    consent: "Consent | None" = None,
) -> Contact:
    """Adds a contact by hand or through the API: never subscribed, unless `consent` states how they
    agreed to marketing email."""
    email = clean_email(email)
    if contact_by_email(email) is not None:
        raise ContactError(f"A contact with the email {email} exists already.", field="email")
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                site=site, email=email, name=name.strip(), fields=fields or {}, origin=origin
            )
    except IntegrityError:
        raise ContactError(f"A contact with the email {email} exists already.", field="email") from None
    contacts_changed(site)
    add_tags(site, contact=contact, names=tags)
    if consent is not None:
        subscribe(site, contact=contact, by=consent)
    return contact


def get_or_create_contact(site: Site, *, email: str, name: str = "", origin: str) -> tuple[Contact, bool]:
    """The contact of an email, created if new; safe when two requests create the same email at once.
    Joins the caller's transaction."""
    email = clean_email(email)
    contact = contact_by_email(email)
    if contact is not None:
        return contact, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(site=site, email=email, name=name.strip(), origin=origin)
    except IntegrityError:
        return contact_by_email(email), False
    contacts_changed(site)
    return contact, True


@transaction.atomic
def update_contact(
    site: Site,
    *,
    contact: Contact,
    email: str | None = None,
    name: str | None = None,
    fields: dict | None = None,
) -> Contact:
    _check_site(site, contact)
    changed = []
    if email is not None and email.strip() != contact.email:
        email = clean_email(email)
        other = contact_by_email(email)
        if other is not None and other.pk != contact.pk:
            raise ContactError(f"Another contact has the email {email}.", field="email")
        contact.email = email
        changed.append("email")
    if name is not None and name.strip() != contact.name:
        contact.name = name.strip()
        changed.append("name")
    if fields is not None and fields != contact.fields:
        contact.fields = fields
        changed.append("fields")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
        contacts_changed(site)
    return contact


@transaction.atomic
def delete_contact(site: Site, *, contact: Contact) -> None:
    """Deletes the contact and erases their personal data everywhere: their consent events, tags, form
    submissions, providers' delivery reports, the export files that may hold them and the import errors
    that name them go with them; the rooms above delete or anonymise what they hold
    (creatorhub.personal_data), so activity counts and purchases stay right without them."""
    _check_site(site, contact)
    audit.record(  # the contact's id only: the entry outlives their personal data
        site,
        AuditAction.CONTACT_DELETED,
        target=contact,
        changes={"was_customer": contact.is_customer, "subscription_status": contact.subscription_status},
    )
    personal_data.erase(contact, uuid.uuid4().hex)
    DeliveryEvent.objects.filter(Q(contact=contact) | Q(recipient__lower=contact.email.lower())).delete()
    export_files.delete_files_holding(site, contact=contact)
    ImportRowError.objects.filter(message__istartswith=contact.email + ImportRowError.ALSO_ON_ROW).delete()
    contact.delete()
    contacts_changed(site)


def clean_tag_names(names) -> list[str]:
    cleaned = []
    for name in names:
        name = " ".join(str(name).split())
        if not name:
            continue
        if len(name) > 100:
            raise ContactError("A tag has at most 100 characters.", field="tags")
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS_PER_CALL:
        raise ContactError(f"Give at most {MAX_TAGS_PER_CALL} tags at once.", field="tags")
    return cleaned


def tags_named(site: Site, names) -> list[Tag]:
    """The site's tags of these names (any case), created when missing. Joins the caller's transaction."""
    tags = []
    for name in clean_tag_names(names):
        tag = Tag.objects.filter(name__lower=name.lower()).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(site=site, name=name)
            except IntegrityError:
                tag = Tag.objects.get(name__lower=name.lower())
        tags.append(tag)
    return tags


@transaction.atomic
def add_tags(site: Site, *, contact: Contact, names) -> list[Tag]:
    _check_site(site, contact)
    tags = tags_named(site, names)
    ContactTag.objects.bulk_create(
        [ContactTag(site=site, contact=contact, tag=tag) for tag in tags], ignore_conflicts=True
    )
    if tags:
        contacts_changed(site)
    return tags


@transaction.atomic
def remove_tags(site: Site, *, contact: Contact, names) -> int:
    _check_site(site, contact)
    lowered = [name.lower() for name in clean_tag_names(names)]
    removed, _ = ContactTag.objects.filter(contact=contact, tag__name__lower__in=lowered).delete()
    if removed:
        contacts_changed(site)
    return removed


@transaction.atomic
def change_tags(site: Site, *, contact: Contact, add=(), remove=()) -> None:
    """Adds and removes tags in one go."""
    add_tags(site, contact=contact, names=add)
    remove_tags(site, contact=contact, names=remove)


# -- The subscription state machine ------------------------------------------------------------------


def _change_status(site: Site, contact: Contact, *, to: str, reason: str | None, by: Consent) -> Contact:
    """Moves the contact to a status, writing the consent event; does nothing when nothing changes."""
    _check_site(site, contact, by.form)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if (locked.subscription_status, locked.unsubscribe_reason) == (to, reason):
        return locked
    ConsentEvent.objects.create(
        site=site,
        contact=locked,
        from_status=locked.subscription_status,
        from_reason=locked.unsubscribe_reason,
        to_status=to,
        to_reason=reason,
        source=by.source,
        note=by.note[:300],
        actor_user=by.user,
        actor_api_key=by.api_key,
        form=by.form,
        ip=by.ip,
        user_agent=(by.user_agent or "")[:400],
    )
    if by.source in (ConsentSource.TEAM, ConsentSource.API):  # the team's act, not the person's own
        audit.record(
            site,
            AuditAction.SUBSCRIPTION_CHANGED,
            target=locked,
            changes={
                "subscription_status": {"old": locked.subscription_status, "new": to},
                "unsubscribe_reason": {"old": locked.unsubscribe_reason, "new": reason},
            },
            user=by.user,
            api_key=by.api_key,
        )
    locked.subscription_status, locked.unsubscribe_reason = to, reason
    locked.status_changed_at = timezone.now()
    locked.save(
        update_fields=["subscription_status", "unsubscribe_reason", "status_changed_at", "updated_at"]
    )
    contact.subscription_status, contact.unsubscribe_reason = to, reason
    contact.status_changed_at = locked.status_changed_at
    contacts_changed(site)
    return locked


@transaction.atomic
def subscribe(site: Site, *, contact: Contact, by: Consent) -> Contact:
    """Records consent: never subscribed or pending becomes subscribed.

    An unsubscribed contact is subscribed again only by their own confirmed link, or by the team
    when the team itself had unsubscribed them (reason `manual`).
    """
    if not by.note and by.source in (ConsentSource.TEAM, ConsentSource.API, ConsentSource.IMPORT):
        raise ConsentError(
            "Say how this person gave consent (for example “signed up at my workshop”).", field="consent"
        )
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status == UNSUBSCRIBED and not _may_resubscribe(current, by):
        raise ConsentError(
            f"{current.email} unsubscribed ({current.get_unsubscribe_reason_display().lower()}): "
            "only they can subscribe again, through one of your forms and the confirmation email it sends.",
            field="subscription_status",
        )
    before = current.subscription_status
    contact = _change_status(site, contact, to=SUBSCRIBED, reason=None, by=by)
    if before != SUBSCRIBED and by.source in (ConsentSource.FORM, ConsentSource.LINK, ConsentSource.CHECKOUT):
        events.contact_did(
            site, contact=contact, kind="opted_in", details={"source": by.source}
        )  # their own act
    return contact


def _may_resubscribe(contact: Contact, by: Consent) -> bool:
    if by.source == ConsentSource.LINK:
        return True
    return by.source in (ConsentSource.TEAM, ConsentSource.API) and (
        contact.unsubscribe_reason == UnsubscribeReason.MANUAL
    )


@transaction.atomic
def raise_to_subscribed(site: Site, *, contact: Contact, by: Consent) -> bool:
    """For imports and checkout opt-ins: only raises never subscribed / pending to
    subscribed; never resubscribes and never lowers. Returns whether the status changed."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status not in (NEVER, PENDING):
        return False
    subscribe(site, contact=contact, by=by)
    return True


@transaction.atomic
def start_double_opt_in(site: Site, *, contact: Contact, by: Consent) -> Contact:
    """A never-subscribed contact who submitted a double opt-in form waits for confirmation."""
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if current.subscription_status != NEVER:
        return current
    return _change_status(site, contact, to=PENDING, reason=None, by=by)


@transaction.atomic
def unsubscribe(site: Site, *, contact: Contact, reason: str, by: Consent) -> Contact:
    """Unsubscribes with a reason. An unsubscribed contact keeps the weightier of the two reasons, so a
    hard bounce after an opt-out is remembered (and suppresses every email)."""
    if reason not in REASON_WEIGHT:
        raise ConsentError("The reason is one of manual, opted_out, bounced, complained.", field="reason")
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    if (
        current.subscription_status == UNSUBSCRIBED
        and REASON_WEIGHT[reason] <= REASON_WEIGHT[current.unsubscribe_reason]
    ):
        return current
    return _change_status(site, contact, to=UNSUBSCRIBED, reason=reason, by=by)


@transaction.atomic
def confirm_subscription(
    site: Site, *, confirmation: tokens.Confirmation, ip: str | None = None, user_agent: str = ""
) -> Contact:
    """The contact followed the link of a double opt-in or resubscription email."""
    contact = Contact.objects.filter(pk=confirmation.contact_id).first()
    if contact is None:
        raise ConsentError("This contact no longer exists.")
    form = Form.objects.filter(pk=confirmation.form_id).first() if confirmation.form_id else None
    if contact.subscription_status == SUBSCRIBED:
        return contact
    if contact.subscription_status == UNSUBSCRIBED and (
        not confirmation.resubscribe or confirmation.status_since != contact.status_changed_at
    ):  # an old link never undoes a later unsubscribe
        raise ConsentError("You unsubscribed after this link was sent: sign up again to subscribe.")
    note = "Confirmed the resubscription email" if confirmation.resubscribe else "Confirmed the opt-in email"
    by = Consent(source=ConsentSource.LINK, note=note, form=form, ip=ip, user_agent=user_agent)
    return subscribe(site, contact=contact, by=by)


# -- Forms -------------------------------------------------------------------------------------------


def _clean_form_fields(site: Site, *, slug: str, tag_names, exclude_pk=None) -> list[str]:
    if Form.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        raise FormError("Another form of this site has this address.", field="slug")
    try:
        return clean_tag_names(tag_names)
    except ContactError as error:
        raise FormError(error.message, field="tag_names") from None


@transaction.atomic
def create_form(
    site: Site,
    *,
    name: str,
    slug: str,
    double_opt_in: bool = True,
    ask_name: bool = True,
    tag_names=(),
    redirect_url: str = "",
    success_message: str = "",
) -> Form:
    tag_names = _clean_form_fields(site, slug=slug, tag_names=tag_names)
    return Form.objects.create(
        site=site,
        name=name,
        slug=slug,
        double_opt_in=double_opt_in,
        ask_name=ask_name,
        tag_names=tag_names,
        redirect_url=redirect_url,
        success_message=success_message,
    )


@transaction.atomic
def update_form(site: Site, *, form: Form, **changes) -> Form:
    _check_site(site, form)
    if "tag_names" in changes or "slug" in changes:
        changes["tag_names"] = _clean_form_fields(
            site,
            slug=changes.get("slug", form.slug),
            tag_names=changes.get("tag_names", form.tag_names),
            exclude_pk=form.pk,
        )
    for field, value in changes.items():
        setattr(form, field, value)
    form.save()
    return form


@transaction.atomic
def archive_form(site: Site, *, form: Form) -> Form:
    """An archived form stops taking submissions; its history stays."""
    _check_site(site, form)
    if form.archived_at is None:
        form.archived_at = timezone.now()
        form.save(update_fields=["archived_at"])
    return form


@dataclass(frozen=True)
class FormOutcome:
    contact: Contact
    created: bool
    needs_confirmation: bool


@transaction.atomic
def submit_form(
    site: Site, *, form: Form, email: str, name: str = "", ip: str | None = None, user_agent: str = ""
) -> FormOutcome:
    """A public form submission: creates or updates the contact, tags them, then follows the sign-up
    rules (docs/rules.md).

    Double opt-in: a never-subscribed contact becomes pending and gets the confirmation email. A
    contact who had unsubscribed gets the resubscription confirmation and stays unsubscribed until they
    confirm. A subscribed contact stays so. Without double opt-in, the submission is the consent.
    """
    _check_site(site, form)
    if not form.is_active:
        raise FormError("This form no longer takes sign-ups.")
    contact, created = get_or_create_contact(site, email=email, name=name, origin=ContactOrigin.FORM)
    if name.strip() and not contact.name:
        update_contact(site, contact=contact, name=name)
    add_tags(site, contact=contact, names=form.tag_names)
    submission = FormSubmission.objects.create(
        site=site, form=form, contact=contact, ip=ip, user_agent=user_agent[:400]
    )
    events.contact_did(
        site,
        contact=contact,
        kind="form_submitted",
        occurred_at=submission.submitted_at,
        details={"form": form.name, "form_id": form.pk},
    )
    by = Consent(
        source=ConsentSource.FORM,
        note=f"Submitted the form “{form.name}”",
        form=form,
        ip=ip,
        user_agent=user_agent,
    )
    status = contact.subscription_status
    if status == SUBSCRIBED:
        return FormOutcome(contact, created, needs_confirmation=False)
    if status == UNSUBSCRIBED:
        _send_confirmation(site, contact=contact, form=form, resubscribe=True)
        return FormOutcome(contact, created, needs_confirmation=True)
    if form.double_opt_in:
        start_double_opt_in(site, contact=contact, by=by)
        _send_confirmation(site, contact=contact, form=form, resubscribe=False)
        return FormOutcome(contact, created, needs_confirmation=True)
    subscribe(site, contact=contact, by=by)
    return FormOutcome(contact, created, needs_confirmation=False)


def _send_confirmation(site: Site, *, contact: Contact, form: Form, resubscribe: bool) -> None:
    """One confirmation email per contact, form and day: a second submission the same day sends none."""
    token = tokens.confirmation_token(contact, form=form, resubscribe=resubscribe)
    kind = EmailKind.RESUBSCRIPTION if resubscribe else EmailKind.DOUBLE_OPT_IN
    send_automated(
        site,
        kind=kind,
        contact=contact,
        context={
            "confirm_url": settings.SITE_URL.rstrip("/") + reverse("confirm-subscription", args=[token]),
            "form": {"name": form.name},
        },
        dedupe_key=f"{kind}:form:{form.pk}:contact:{contact.pk}:{timezone.now().date().isoformat()}",
    )


# -- Provider events (bounces and complaints) ---------------------------------------------------------

DELIVERY_REASONS = {"bounced": UnsubscribeReason.BOUNCED, "complained": UnsubscribeReason.COMPLAINED}


@transaction.atomic
def record_delivery_event(
    site: Site,
    *,
    provider: str,
    event_type: str,
    recipient: str,
    provider_event_id: str = "",
    message_id: str = "",
    description: str = "",
    occurred_at=None,
    raw: dict | None = None,
) -> DeliveryEvent | None:
    """Keeps a provider's event and applies it: a hard bounce or a complaint unsubscribes the contact
    of that address at once. The same provider event twice is recorded once. Returns None for a repeat."""
    provider_event_id = provider_event_id[:200]
    if (
        provider_event_id
        and DeliveryEvent.objects.filter(provider=provider, provider_event_id=provider_event_id).exists()
    ):
        return None
    contact = contact_by_email(recipient) if recipient else None
    try:
        with transaction.atomic():
            event = DeliveryEvent.objects.create(
                site=site,
                provider=provider,
                event_type=event_type,
                provider_event_id=provider_event_id,
                recipient=recipient[:254],
                contact=contact,
                message_id=message_id[:300],
                description=description,
                occurred_at=occurred_at,
                raw=raw or {},
            )
    except IntegrityError:  # the same event, delivered twice at the same moment
        return None
    reason = DELIVERY_REASONS.get(event_type)
    if contact is not None and reason is not None:
        before = (contact.subscription_status, contact.unsubscribe_reason)
        by = Consent(source=ConsentSource.WEBHOOK, note=f"{provider}: {event_type} {description}".strip())
        after = unsubscribe(site, contact=contact, reason=reason, by=by)
        event.applied = (after.subscription_status, after.unsubscribe_reason) != before
        event.save(update_fields=["applied"])
    return event


FOLD_AFTER_ROWS = 20  # more than the 14 groups a site can have (statuses, reasons, customer or not)


def fold_contact_counts() -> int:
    """Sums each site's counter rows (ContactCount) into one per group, for the sites with more rows than
    groups, and drops the rows of deleted sites; how many sites were folded. The rows are deleted and
    returned by one statement, so a change committed meanwhile is either folded or left as it is."""
    table = ContactCount._meta.db_table
    sums: Counter = Counter()
    with platform_wide("contact counts: folding every site's changes"), transaction.atomic():
        with connections[ContactCount.objects.db].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE site_id IN (SELECT site_id FROM {table} GROUP BY site_id "  # noqa: S608
                "HAVING count(*) > %s) "
                "RETURNING site_id, subscription_status, unsubscribe_reason, is_customer, contacts",
                [FOLD_AFTER_ROWS],
            )
            for *group, contacts in cursor.fetchall():
                sums[tuple(group)] += contacts
        sites = set(Site.objects.filter(pk__in={group[0] for group in sums}).values_list("pk", flat=True))
        ContactCount.objects.bulk_create(
            ContactCount(
                site_id=site_id,
                subscription_status=status,
                unsubscribe_reason=reason,
                is_customer=is_customer,
                contacts=contacts,
            )
            for (site_id, status, reason, is_customer), contacts in sums.items()
            if contacts and site_id in sites
        )
    return len({group[0] for group in sums})
