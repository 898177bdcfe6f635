"""Who holds an offer: grants, purchases and revokes, keeping `Contact.is_customer` exact.

Every write here locks the contact's row first, so two grants or purchases for one contact run one
after the other: the second sees the first's access (one access, one email), and `is_customer` is
decided from the accesses as they are.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts import services as contacts
from contacts.counts import contacts_changed
from contacts.models import ConsentSource, Contact, ContactOrigin
from creatorhub import audit, events
from creatorhub.models import AuditAction, Site
from creatorhub.tenancy import ensure_same_site
from emails.models import EmailKind
from emails.services import send_automated
from offers.errors import GrantError, PurchaseError
from offers.models import Access, AccessSource, Offer, Purchase
from offers.services.members import login_url, set_password_url


@dataclass(frozen=True)
class Granter:
    """Who grants: a team member, an API key, or neither (the platform)."""

    user: object = None
    api_key: object = None


PLATFORM = Granter()


_check_site = partial(ensure_same_site, error=GrantError)


def _lock(contact: Contact) -> Contact:
    return Contact.objects.select_for_update().get(pk=contact.pk)


def _holds(contact: Contact, offer: Offer) -> bool:
    return Access.objects.filter(contact=contact, offer=offer, revoked_at=None).exists()


def check_grantable(offer: Offer) -> None:
    if not offer.is_active:
        raise GrantError(
            f"The offer “{offer.title}” is archived: restore it before granting it.", field="offer"
        )


def offer_context(site: Site, offer: Offer) -> dict:
    return {"offer": {"title": offer.title}, "login_url": login_url(site)}


@transaction.atomic
def grant_offer(
    site: Site,
    *,
    offer: Offer,
    contact: Contact,
    send_grant_email: bool = True,
    by: Granter = PLATFORM,
) -> Access | None:
    """Gives the offer without payment. Returns the new access, or None when the contact
    already holds the offer: then nothing changes and nothing is sent.

    A contact who was not a customer gets the Member Welcome (a one-time link to set a password) and,
    unless unticked, the Offer Grant Confirmation; an existing customer only the latter.
    """
    _check_site(site, offer, contact)
    check_grantable(offer)
    contact = _lock(contact)
    if _holds(contact, offer):
        return None
    was_customer = contact.is_customer
    access = Access.objects.create(
        site=site,
        contact=contact,
        offer=offer,
        source=AccessSource.GRANT,
        granted_by=by.user,
        granted_by_api_key=by.api_key,
    )
    audit.record(  # a grant job was audited when it started, and runs quiet
        site,
        AuditAction.OFFER_GRANTED,
        target=offer,
        changes={"contacts": [contact.pk], "send_grant_email": send_grant_email},
        user=by.user,
        api_key=by.api_key,
    )
    if not was_customer:
        Contact.objects.filter(pk=contact.pk).update(is_customer=True)
        contacts_changed(site)
    events.contact_did(
        site,
        contact=contact,
        kind="offer_granted",
        occurred_at=access.created_at,
        details={"offer": offer.title, "offer_id": offer.pk},
    )
    if send_grant_email:
        send_automated(
            site,
            kind=EmailKind.OFFER_GRANT_CONFIRMATION,
            contact=contact,
            context=offer_context(site, offer),
            dedupe_key=f"grant:{access.pk}",
        )
    if not was_customer:
        send_automated(
            site,
            kind=EmailKind.MEMBER_WELCOME,
            contact=contact,
            context={"offer": {"title": offer.title}, "set_password_url": set_password_url(site, contact)},
            dedupe_key=f"welcome:{access.pk}",
        )
    return access


@transaction.atomic
def revoke_access(site: Site, *, access: Access, acting_user=None) -> Access:
    """Ends an access, keeping it in history; sends nothing. The contact stops being a customer when
    it was their last live access."""
    _check_site(site, access)
    _lock(access.contact)
    access = Access.objects.select_for_update().get(pk=access.pk)
    if access.revoked_at is not None:
        return access
    access.revoked_at, access.revoked_by = timezone.now(), acting_user
    access.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        site,
        AuditAction.OFFER_REVOKED,
        target=access.offer,
        changes={"contacts": [access.contact_id], "count": 1},
        user=acting_user,
    )
    still = Access.objects.filter(contact_id=access.contact_id, revoked_at=None).exists()
    Contact.objects.filter(pk=access.contact_id).update(is_customer=still)
    contacts_changed(site)
    return access


@transaction.atomic
def revoke_offer(site: Site, *, offer: Offer, contacts_ids, acting_user=None) -> int:
    """Revokes the offer from many contacts; returns how many accesses ended."""
    _check_site(site, offer)
    ended = []
    with audit.quiet():  # one entry for them all, below
        for access in Access.objects.filter(offer=offer, contact_id__in=list(contacts_ids), revoked_at=None):
            revoke_access(site, access=access, acting_user=acting_user)
            ended.append(access.contact_id)
    if ended:
        audit.record(
            site,
            AuditAction.OFFER_REVOKED,
            target=offer,
            changes={"contacts": ended[: audit.LISTED_IDS], "count": len(ended)},
            user=acting_user,
        )
    return len(ended)


@dataclass(frozen=True)
class PurchaseResult:
    purchase: Purchase
    created: bool


@transaction.atomic
def record_purchase(
    site: Site,
    *,
    offer: Offer,
    email: str,
    name: str = "",
    amount: Decimal,
    currency: str,
    idempotency_key: str,
    marketing_opt_in: bool = False,
) -> PurchaseResult:
    """Records a paid checkout: the contact is created if new and gets the access and the
    Purchase Confirmation. The same idempotency key again returns the first purchase and does nothing."""
    _check_site(site, offer)
    key = idempotency_key.strip()
    if not key:
        raise PurchaseError("Give an idempotency key, unique per checkout.", field="idempotency_key")
    existing = Purchase.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_purchase(existing, offer=offer, email=email)
    if not offer.is_active:
        raise PurchaseError(
            f"The offer “{offer.title}” is archived: it can no longer be bought.", field="offer"
        )
    if currency.upper() != offer.currency.upper():
        raise PurchaseError(f"The offer is sold in {offer.currency}, not {currency}.", field="currency")
    if amount < 0:
        raise PurchaseError("The amount cannot be negative.", field="amount")
    contact, _ = contacts.get_or_create_contact(site, email=email, name=name, origin=ContactOrigin.PURCHASE)
    contact = _lock(contact)
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                site=site,
                offer=offer,
                contact=contact,
                email=contact.email,
                amount=amount,
                currency=offer.currency,
                idempotency_key=key,
            )
    except IntegrityError:  # the same key, at the same moment, from another request
        return _same_purchase(Purchase.objects.get(idempotency_key=key), offer=offer, email=email)
    audit.record(  # by an integrator's API key: an access given, as a grant is
        site,
        AuditAction.PURCHASE_RECORDED,
        target=offer,
        changes={"contacts": [contact.pk], "amount": str(purchase.amount), "currency": purchase.currency},
    )
    if name.strip() and not contact.name:
        contacts.update_contact(site, contact=contact, name=name)
    if not _holds(contact, offer):
        Access.objects.create(
            site=site, contact=contact, offer=offer, source=AccessSource.PURCHASE, purchase=purchase
        )
        Contact.objects.filter(pk=contact.pk).update(is_customer=True)
        contacts_changed(site)
    send_automated(
        site,
        kind=EmailKind.PURCHASE_CONFIRMATION,
        contact=contact,
        context={
            **offer_context(site, offer),
            "amount": str(purchase.amount),
            "currency": purchase.currency,
        },
        dedupe_key=f"purchase:{purchase.pk}",
    )
    events.contact_did(
        site,
        contact=contact,
        kind="purchased",
        occurred_at=purchase.created_at,
        details={
            "offer": offer.title,
            "offer_id": offer.pk,
            "amount": str(purchase.amount),
            "currency": purchase.currency,
        },
    )
    if marketing_opt_in:
        contacts.raise_to_subscribed(
            site,
            contact=contact,
            by=contacts.Consent(
                source=ConsentSource.CHECKOUT, note=f"Opted in at the checkout of “{offer.title}”"
            ),
        )
    return PurchaseResult(purchase, created=True)


def _same_purchase(purchase: Purchase, *, offer: Offer, email: str) -> PurchaseResult:
    if purchase.offer_id != offer.pk or purchase.email.lower() != email.strip().lower():
        raise PurchaseError("This idempotency key belongs to another purchase.", field="idempotency_key")
    return PurchaseResult(purchase, created=False)
