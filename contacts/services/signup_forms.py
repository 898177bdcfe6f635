"""Writes of sign-up forms, and a submission of one: the contact, their tags and their consent."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contacts import tokens
from contacts.errors import ContactError, FormError
from contacts.models import (
    ConsentSource,
    Contact,
    ContactOrigin,
    Form,
    FormSubmission,
)
from contacts.services.consent import (
    SUBSCRIBED,
    UNSUBSCRIBED,
    Consent,
    start_double_opt_in,
    subscribe,
)
from contacts.services.people import add_tags, clean_tag_names, get_or_create_contact, update_contact
from creatorhub import events
from creatorhub.models import Site
from creatorhub.tenancy import ensure_same_site
from emails.models import EmailKind
from emails.services import send_automated

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
    ensure_same_site(site, form, error=ContactError)
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
    ensure_same_site(site, form, error=ContactError)
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
    ensure_same_site(site, form, error=ContactError)
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
