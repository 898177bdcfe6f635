"""Writes of contacts and their tags: add, change and delete a contact (its personal data goes with it),
and tag it."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from contacts import export_files
from contacts.counts import contacts_changed
from contacts.errors import ContactError
from contacts.models import (
    Contact,
    ContactOrigin,
    ContactTag,
    DeliveryEvent,
    ImportRowError,
    Tag,
)
from contacts.selectors import contact_by_email
from contacts.services.consent import Consent, subscribe
from creatorhub import audit, personal_data
from creatorhub.models import AuditAction, Site
from creatorhub.tenancy import ensure_same_site

MAX_TAGS_PER_CALL = 100


def clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ContactError("Enter a valid email address.", field="email") from None
    return email


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
    ensure_same_site(site, contact, error=ContactError)
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
    ensure_same_site(site, contact, error=ContactError)
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
    ensure_same_site(site, contact, error=ContactError)
    tags = tags_named(site, names)
    ContactTag.objects.bulk_create(
        [ContactTag(site=site, contact=contact, tag=tag) for tag in tags], ignore_conflicts=True
    )
    if tags:
        contacts_changed(site)
    return tags


@transaction.atomic
def remove_tags(site: Site, *, contact: Contact, names) -> int:
    ensure_same_site(site, contact, error=ContactError)
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
