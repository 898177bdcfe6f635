"""The member area's accounts: a contact sets a password through a one-time link, never emailed; logs
in with it (customers only), asks for a new link, and marks lessons complete.

Members are contacts, not `User`s: django.contrib.auth is the team's. The views keep the member in the
session under a per-site key (see offers/member_views.py)."""

import hashlib
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from contacts.models import Contact
from contacts.selectors import contact_by_email
from creatorhub import events
from creatorhub.models import Site
from creatorhub.tenancy import ensure_same_site
from emails.models import EmailKind
from emails.services import send_automated
from offers.errors import MemberError
from offers.models import Lesson, LessonCompletion
from offers.selectors import holds_lesson


class MemberLinkTokens(PasswordResetTokenGenerator):
    """One-time: the token hashes the member's password and last login, so setting the password or
    logging in spends it. It expires after PASSWORD_RESET_TIMEOUT (Django's, three days by default)."""

    key_salt = "offers.members.MemberLinkTokens"

    def _make_hash_value(self, contact, timestamp):
        login = (
            ""
            if contact.member_last_login_at is None
            else contact.member_last_login_at.replace(microsecond=0, tzinfo=None)
        )
        return f"{contact.site_id}:{contact.pk}:{contact.member_password}:{login}:{timestamp}"


member_link_tokens = MemberLinkTokens()


def set_password_url(site: Site, contact: Contact) -> str:
    """The one-time link of the Member Welcome and password reset emails."""
    uid = urlsafe_base64_encode(str(contact.pk).encode())
    path = reverse("member-set-password", args=[site.slug, uid, member_link_tokens.make_token(contact)])
    return settings.SITE_URL.rstrip("/") + path


def login_url(site: Site) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("member-login", args=[site.slug])


# -- The use cases ----------------------------------------------------------------------------------

LINK_EXPIRED = "This link has expired or was already used. Ask for a new one below."


_check_site = partial(ensure_same_site, error=MemberError)


def contact_for_uid(uidb64: str) -> Contact | None:
    """The contact named by a link's uid, or None when the uid is not one (call inside the site's
    scope: another site's contact id finds nothing)."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    return Contact.objects.filter(pk=pk).first()


def contact_for_link(uidb64: str, token: str) -> Contact | None:
    """The contact of a set-password link that still works (unused, not expired), else None. A read:
    showing the form spends nothing (mail scanners open links too)."""
    contact = contact_for_uid(uidb64)
    if contact is None or not member_link_tokens.check_token(contact, token):
        return None
    return contact


def member_session_hash(contact: Contact) -> str:
    """Kept in the member's session: changing the password ends every other session of the member."""
    return salted_hmac("offers.members.session", contact.member_password).hexdigest()


@transaction.atomic
def set_member_password(
    site: Site, *, contact: Contact, token: str, password: str, password_again: str
) -> Contact:
    """Sets the member's password through the one-time link of the Member Welcome or password reset
    email. The new password changes the token's hash value, so the link is spent."""
    _check_site(site, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)  # one use, even when clicked twice
    if not member_link_tokens.check_token(contact, token):
        raise MemberError(LINK_EXPIRED, field="token")
    if not password:
        raise MemberError("Choose a password.", field="password")
    try:
        validate_password(password, user=contact)  # the contact's email and name count as attributes
    except ValidationError as error:
        raise MemberError(" ".join(error.messages), field="password") from None
    if password != password_again:
        raise MemberError("The two passwords do not match.", field="password_again")
    contact.member_password = make_password(password)
    contact.save(update_fields=["member_password", "updated_at"])
    return contact


@transaction.atomic
def log_in_member(site: Site, *, contact: Contact) -> Contact:
    """Records a member's login (a login is activity). Only customers may log in."""
    _check_site(site, contact)
    if not contact.is_customer:
        raise MemberError(
            f"Your account has no access to any offer of {site.name} at the moment. "
            "If you think this is a mistake, reply to one of its emails."
        )
    contact.member_last_login_at = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(member_last_login_at=contact.member_last_login_at)
    events.contact_did(site, contact=contact, kind="login", occurred_at=contact.member_last_login_at)
    return contact


@transaction.atomic
def authenticate_member(site: Site, *, email: str, password: str) -> Contact | None:
    """The site's member of this email and password, logged in; None when the email is unknown or the
    password wrong (the caller says the same for both). A right password without any live access
    raises MemberError, saying so."""
    contact = contact_by_email(email) if email.strip() else None
    if contact is None or not contact.member_password:
        make_password(password)  # as slow as a real check: the answer's time tells nothing
        return None

    def upgrade(raw: str) -> None:  # a stronger hasher than the stored hash's: rehash
        contact.member_password = make_password(raw)
        contact.save(update_fields=["member_password"])

    if not check_password(password, contact.member_password, setter=upgrade):
        return None
    return log_in_member(site, contact=contact)


@transaction.atomic
def request_password_reset(site: Site, *, email: str) -> None:
    """Sends the Member Password Reset email (a one-time link to set a new password) to a member or
    customer of this email. Unknown addresses get the same answer and nothing is sent, so the page does
    not tell who has an account. One email per contact and hour for a given link state: asking again
    within the hour sends nothing more, unless the earlier link was spent since (password set, login)."""
    contact = contact_by_email(email) if email.strip() else None
    if contact is None or not (contact.member_password or contact.is_customer):
        return
    state = hashlib.sha256(f"{contact.member_password}:{contact.member_last_login_at}".encode()).hexdigest()
    hour = timezone.now().strftime("%Y%m%d%H")
    send_automated(
        site,
        kind=EmailKind.MEMBER_PASSWORD_RESET,
        contact=contact,
        context={"reset_url": set_password_url(site, contact), "login_url": login_url(site)},
        dedupe_key=f"member_password_reset:{contact.pk}:{hour}:{state[:12]}",
    )


@transaction.atomic
def complete_lesson(site: Site, *, contact: Contact, lesson: Lesson) -> tuple[LessonCompletion, bool]:
    """Marks a lesson complete for a member who holds it (through a live access to an offer that
    unlocks its course). Idempotent: returns the completion and whether it is new."""
    _check_site(site, contact, lesson)
    if not holds_lesson(contact, lesson):
        raise MemberError("This lesson is not part of an offer you hold.", field="lesson")
    completion, created = LessonCompletion.objects.get_or_create(site=site, contact=contact, lesson=lesson)
    if created:
        product = lesson.product
        events.contact_did(
            site,
            contact=contact,
            kind="lesson_completed",
            occurred_at=completion.completed_at,
            details={"lesson": lesson.title, "lesson_id": lesson.pk, "product": product.title},
        )
        lessons = Lesson.objects.filter(product=product)
        done = LessonCompletion.objects.filter(contact=contact, lesson__product=product).count()
        if done == lessons.count():
            events.contact_did(
                site,
                contact=contact,
                kind="course_completed",
                occurred_at=completion.completed_at,
                details={"product": product.title, "product_id": product.pk},
            )
    return completion, created
