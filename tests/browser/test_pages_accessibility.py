"""Every page a creator, a member or a visitor sees has no serious or critical accessibility problem
(axe-core, on a desktop screen) and never scrolls sideways on a phone (375 px wide), with enough data
on it that nothing is empty: a subscribed contact with tags and consent history, an unsubscribed one,
a pending one, a customer who is a member, a form, an offer with a holder, a finished grant job and an
outbound email in each status.

Pages are parametrized by name, so a failure names the page. Logins skip the login form (the tests of
logging in are elsewhere): a Django test client logs in and the browser context gets its session
cookie."""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from audience.services.grant_jobs import start_grant_job
from contacts import services as contacts
from contacts import tokens
from contacts.models import ConsentSource, Contact, UnsubscribeReason
from contacts.selectors import contact_by_email
from contacts.services import Consent
from creatorhub import services as team
from creatorhub.roles import Role
from creatorhub.tokens import password_reset_url
from emails.models import EmailKind, EmailStatus, OutboundEmail
from offers.services import catalog, members
from offers.services.access import Granter
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    assert_accessible,
    assert_no_sideways_scroll,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

MEMBER_PASSWORD = "quiet-harbour-lantern-58"
VISITOR = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"}


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    """Public forms and the member login are rate limited in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(site):
    """Ana's Yoga Studio with some of everything on it. Written in few transactions (each commit costs a
    disk flush on PostgreSQL); emails are sent, and the grant job runs, as each one commits."""
    owner = MembershipFactory(site=site, role=Role.OWNER, user=UserFactory(email="ana@ana-yoga.example")).user
    MembershipFactory(site=site, role=Role.ADMIN, user=UserFactory(email="adam@ana-yoga.example"))
    with scope(site=site), transaction.atomic():
        _team_settings(site, owner)
        newsletter, maya, arjun, noah = _contacts_and_forms(site, owner)
        course = catalog.create_product(
            site,
            title="Yoga Basics",
            description="Start here: breathing, then the first poses.",
            lesson_titles=["Breathing", "Sun salutation", "Standing poses"],
        )
        offer = catalog.create_offer(
            site,
            title="Yoga Basics Course",
            description="Six weeks of gentle yoga.",
            price=49,
            currency="USD",
            product_ids=[course.pk],
        )
        # Runs after commit: Liam becomes a customer (and gets the grant and welcome emails); the
        # address that is not one fails, with its reason.
        job = start_grant_job(
            site,
            offer=offer,
            target={"emails": ["liam.oconnor@example.org", "not-an-email"]},
            by=Granter(user=owner),
        )
    with scope(site=site), transaction.atomic():
        liam = contact_by_email("liam.oconnor@example.org")
        members.set_member_password(
            site,
            contact=liam,
            token=members.member_link_tokens.make_token(liam),
            password=MEMBER_PASSWORD,
            password_again=MEMBER_PASSWORD,
        )
        lesson = course.lessons.order_by("position").first()
        members.complete_lesson(site, contact=liam, lesson=lesson)
        _email_in_every_status(site, offer, maya=maya, arjun=arjun)
        job.refresh_from_db()
    assert (job.status, job.granted, job.failed) == ("done", 1, 1)
    return SimpleNamespace(
        site=site,
        owner=owner,
        newsletter=newsletter,
        maya=maya,
        noah=noah,
        liam=liam,
        course=course,
        lesson=lesson,
        offer=offer,
        job=job,
    )


def _team_settings(site, owner):
    """A pending invitation, a live API key and a revoked one."""
    team.invite_member(site, email="asha@ana-yoga.example", role=Role.ASSISTANT, acting_user=owner)
    team.create_api_key(site, name="Checkout integration", role=Role.ADMIN, acting_user=owner)
    old_key, _ = team.create_api_key(site, name="Old Zapier zap", role=Role.ASSISTANT, acting_user=owner)
    team.revoke_api_key(site, api_key=old_key)


def _contacts_and_forms(site, owner):
    """Two forms; Maya subscribed (tags, three consent events), Arjun opted out, Noah pending."""
    newsletter = contacts.create_form(
        site, name="Weekly practice notes", slug="newsletter", tag_names=["Newsletter"]
    )
    contacts.create_form(site, name="Free class", slug="free-class", double_opt_in=False)
    by_owner = Consent(
        source=ConsentSource.TEAM, note="Signed up on paper at the spring workshop", user=owner
    )
    maya = contacts.create_contact(
        site, email="maya.fernandes@example.org", name="Maya Fernandes", tags=["Yoga", "Morning"]
    )
    contacts.subscribe(site, contact=maya, by=by_owner)
    contacts.unsubscribe(
        site,
        contact=maya,
        reason=UnsubscribeReason.MANUAL,
        by=Consent(source=ConsentSource.TEAM, note="Asked us by phone", user=owner),
    )
    contacts.subscribe(site, contact=maya, by=by_owner)
    arjun = contacts.submit_form(
        site, form=newsletter, email="arjun.patel@example.org", name="Arjun Patel", **VISITOR
    ).contact
    contacts.unsubscribe(
        site,
        contact=arjun,
        reason=UnsubscribeReason.OPTED_OUT,
        by=Consent(source=ConsentSource.LINK, note="Unsubscribe link", **VISITOR),
    )
    noah = contacts.submit_form(
        site, form=newsletter, email="noah.kim@example.org", name="Noah Kim", **VISITOR
    ).contact
    return newsletter, maya, arjun, noah


def _email_in_every_status(site, offer, *, maya, arjun):
    """Besides the sent ones (the grant's, the confirmations): one queued, one failed, one suppressed."""
    for status, error, contact in [
        (EmailStatus.QUEUED, "", maya),
        (EmailStatus.FAILED, "SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable (attempt 8)", maya),
        (EmailStatus.SUPPRESSED, "The address opted out.", arjun),
    ]:
        OutboundEmail.objects.create(
            site=site,
            kind=EmailKind.OFFER_GRANT_CONFIRMATION,
            contact=contact,
            to_email=contact.email,
            context={},
            dedupe_key=f"test:{status}",
            status=status,
            subject=f"Ana's Yoga Studio gave you {offer.title}",
            error=error,
            attempts=8 if status == EmailStatus.FAILED else 0,
        )
    statuses = set(OutboundEmail.objects.values_list("status", flat=True))
    assert statuses == set(EmailStatus.values), statuses


@dataclass(frozen=True)
class Screen:
    who: str  # "creator" (the site's owner), "member" (Liam, a customer) or "visitor"
    path: Callable[[SimpleNamespace], str]
    heading: str
    # For a page reached by sending a form: what the visitor does on `path` to get there.
    act: Callable | None = None


def sign_up(page):
    page.get_by_label("Email").fill("hana.sato@example.org")
    page.get_by_label("Name").fill("Hana Sato")
    page.get_by_role("button", name="Subscribe").click()


SCREENS = {
    # The dashboard.
    "overview": Screen("creator", lambda w: "/app/ana-yoga/", "Ana's Yoga Studio"),
    "contacts": Screen("creator", lambda w: "/app/ana-yoga/contacts/", "Contacts"),
    "contact": Screen("creator", lambda w: f"/app/ana-yoga/contacts/{w.maya.pk}/", "Maya Fernandes"),
    "customer": Screen(
        "creator", lambda w: f"/app/ana-yoga/contacts/{w.liam.pk}/", "liam.oconnor@example.org"
    ),
    "forms": Screen("creator", lambda w: "/app/ana-yoga/forms/", "Forms"),
    "form-edit": Screen(
        "creator", lambda w: f"/app/ana-yoga/forms/{w.newsletter.pk}/", "Weekly practice notes"
    ),
    "offers": Screen("creator", lambda w: "/app/ana-yoga/offers/", "Offers"),
    "offer": Screen("creator", lambda w: f"/app/ana-yoga/offers/{w.offer.pk}/", "Yoga Basics Course"),
    "products": Screen("creator", lambda w: "/app/ana-yoga/products/", "Products"),
    "product": Screen("creator", lambda w: f"/app/ana-yoga/products/{w.course.pk}/", "Yoga Basics"),
    "grant-job": Screen(
        "creator", lambda w: f"/app/ana-yoga/grant-jobs/{w.job.pk}/", "Grant of “Yoga Basics Course”"
    ),
    "emails": Screen("creator", lambda w: "/app/ana-yoga/emails/", "Emails"),
    "email-template": Screen(
        "creator", lambda w: "/app/ana-yoga/emails/templates/member_welcome/", "Member Welcome"
    ),
    "email-log": Screen("creator", lambda w: "/app/ana-yoga/emails/log/", "Email log"),
    "team": Screen("creator", lambda w: "/app/ana-yoga/settings/team/", "Settings"),
    "api-keys": Screen("creator", lambda w: "/app/ana-yoga/settings/api-keys/", "Settings"),
    "audit-log": Screen("creator", lambda w: "/app/ana-yoga/audit/", "Audit log"),
    "password": Screen("creator", lambda w: "/accounts/password/", "Password"),
    # Dashboard accounts, logged out.
    "login": Screen("visitor", lambda w: "/accounts/login/", "Log in to CreatorHub"),
    "password-reset": Screen("visitor", lambda w: "/accounts/password-reset/", "Reset your password"),
    "password-reset-set": Screen(
        "visitor", lambda w: urlsplit(password_reset_url(w.owner)).path, "Choose a new password"
    ),
    # Public pages.
    "sign-up-form": Screen("visitor", lambda w: "/f/ana-yoga/newsletter/", "Weekly practice notes"),
    "sign-up-thanks": Screen(
        "visitor", lambda w: "/f/ana-yoga/newsletter/", "Check your inbox to confirm", act=sign_up
    ),
    "confirm": Screen(
        "visitor",
        lambda w: reverse(
            "confirm-subscription",
            args=[tokens.confirmation_token(w.noah, form=w.newsletter, resubscribe=False)],
        ),
        "Confirm your subscription",
    ),
    "unsubscribe": Screen(
        "visitor", lambda w: reverse("unsubscribe", args=[tokens.unsubscribe_token(w.maya)]), "Unsubscribe"
    ),
    # The member area.
    "member-login": Screen("visitor", lambda w: "/s/ana-yoga/login/", "Log in"),
    "member-set-password": Screen(
        "visitor",
        lambda w: urlsplit(members.set_password_url(w.site, Contact.objects.get(pk=w.liam.pk))).path,
        "Choose your password",
    ),
    "member-library": Screen("member", lambda w: "/s/ana-yoga/library/", "Your library"),
    "member-lesson": Screen("member", lambda w: f"/s/ana-yoga/lessons/{w.lesson.pk}/", "Breathing"),
}


def session_cookies(live_server, world, who: str) -> list[dict]:
    """The session cookie of the page's reader: the owner of the site, a member or nobody."""
    client = Client()
    if who == "creator":
        client.force_login(world.owner)
    elif who == "member":
        response = client.post("/s/ana-yoga/login/", {"email": world.liam.email, "password": MEMBER_PASSWORD})
        assert response.status_code == 302, response.content.decode()
    else:
        return []
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_server.url}]


def open_screen(page, world, name: str, cookies: list[dict]) -> None:
    """Open the page as its reader (and act on it), and check it is the page meant."""
    screen = SCREENS[name]
    page.context.add_cookies(cookies)
    with scope(site=world.site):
        path = screen.path(world)
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    if screen.act is not None:
        screen.act(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(screen.heading)


@pytest.fixture(scope="module")
def _pages(browser, live_server):
    """A page on a desktop screen and one on a phone (375x740), each in its own browser context, for
    the whole module: opening a context and a page costs about as much as checking a page."""
    contexts = [browser.new_context(base_url=live_server.url, **options) for options in (DESKTOP, PHONE)]
    for context in contexts:
        context.set_default_timeout(TIMEOUT_MS)
    yield [context.new_page() for context in contexts]
    for context in contexts:
        context.close()


@pytest.fixture
def screens(_pages):
    """The desktop and phone pages, logged out (no cookies) and on a blank document."""
    for page in _pages:
        page.context.clear_cookies()
        page.goto("about:blank")
    return _pages


@pytest.mark.parametrize("name", SCREENS)
def test_page_is_accessible_and_fits_a_phone_screen(screens, live_server, world, name):
    desktop, phone = screens
    cookies = session_cookies(live_server, world, SCREENS[name].who)

    open_screen(desktop, world, name, cookies)
    assert_accessible(desktop)

    open_screen(phone, world, name, cookies)
    assert_no_sideways_scroll(phone)


def test_the_section_tabs_fit_a_phone_and_mark_the_current_section(screens, live_server, world):
    """All nine tabs of an owner, on a 375 px phone: each one in sight without scrolling, the current
    one marked, a visible focus ring, and axe-clean at that width too."""
    _, phone = screens
    open_screen(phone, world, "emails", session_cookies(live_server, world, "creator"))
    tabs = phone.get_by_role("navigation", name="Site sections").get_by_role("link")
    expect(tabs).to_have_count(9)
    viewport = phone.viewport_size["width"]
    for tab in tabs.all():
        box = tab.bounding_box()
        assert box["x"] >= 0, f"{tab.inner_text()}: {box}"
        assert box["x"] + box["width"] <= viewport, f"{tab.inner_text()}: {box}"
    expect(phone.locator("nav.tabs [aria-current=page]")).to_have_text("Emails")
    assert_no_sideways_scroll(phone)
    assert_accessible(phone)

    tabs.last.focus()
    phone.keyboard.press("Shift+Tab")  # a keyboard focus, so :focus-visible applies
    focused = tabs.nth(7)
    expect(focused).to_be_focused()
    assert focused.evaluate("(link) => getComputedStyle(link).outlineStyle") == "solid"
