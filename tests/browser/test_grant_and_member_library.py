"""Granting and the member area, end to end in a real browser: an admin grants an offer in the
dashboard, the member opens the welcome email's link, sets a password, logs in and sees the offer in
the library."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django_scopes import scope
from playwright.sync_api import expect

from creatorhub.roles import Role
from offers.services import catalog
from tests.browser.conftest import DESKTOP, login
from tests.factories import PASSWORD, ContactFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

MEMBER_PASSWORD = "quiet-harbour-lantern-58"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    """The member login's rate limits live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site_admin(site):
    return MembershipFactory(site=site, role=Role.ADMIN, user=UserFactory(email="adam@ana-yoga.example")).user


@pytest.fixture
def offer(site):
    """An offer whose product has two lessons."""
    with scope(site=site):
        course = catalog.create_product(
            site, title="Yoga Basics", lesson_titles=["Breathing", "Sun salutation"]
        )
        return catalog.create_offer(site, title="Yoga Basics Course", product_ids=[course.pk])


@pytest.fixture
def mia(site):
    """A contact who is not a customer yet."""
    return ContactFactory(site=site, email="mia@example.com", name="Mia")


def path_is(live_server, path):
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def emails_of_kind(outbox, subject_start):
    return [message for message in outbox if message.subject.startswith(subject_start)]


def set_password_path(message) -> str:
    """The path of the one-time set-password link in the Member Welcome's text body."""
    links = re.findall(r"https?://\S+/s/[\w-]+/set-password/[\w-]+/[\w-]+/", message.body)
    assert len(links) == 1, f"no single set-password link in:\n{message.body}"
    return urlsplit(links[0]).path


def test_admin_grants_an_offer_and_the_new_member_sets_a_password_and_opens_the_library(
    page, new_context, live_server, site, site_admin, offer, mia, mailoutbox
):
    # The admin grants the offer to Mia from the offer page, with the grant email ticked.
    login(page, live_server, site_admin.email, PASSWORD)
    page.goto(f"/app/{site.slug}/offers/{offer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Yoga Basics Course")
    grant = page.get_by_role("region", name="Grant this offer")
    grant.get_by_label("One contact's email").fill(mia.email)
    expect(grant.get_by_label("Send offer grant email")).to_be_checked()
    grant.get_by_role("button", name="Grant “Yoga Basics Course”").click()

    expect(page).to_have_url(
        re.compile(re.escape(f"{live_server.url}/app/{site.slug}/grant-jobs/") + r"\d+/$")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant of “Yoga Basics Course”")
    progress = page.get_by_role("region", name="Progress")
    expect(progress.get_by_role("status")).to_contain_text(re.compile(r"Done\s+1 of 1 processed"))
    expect(progress.locator("dt:has-text('Granted') + dd")).to_have_text("1")
    expect(progress.locator("dt:has-text('Skipped') + dd")).to_have_text("0")
    expect(progress.locator("dt:has-text('Failed') + dd")).to_have_text("0")

    # Mia got the Offer Grant Confirmation and the Member Welcome, and nothing else.
    assert sorted(message.to[0] for message in mailoutbox) == [mia.email, mia.email]
    (confirmation,) = emails_of_kind(mailoutbox, "Ana's Yoga Studio gave you Yoga Basics Course")
    (welcome,) = emails_of_kind(mailoutbox, "Welcome to Ana's Yoga Studio")
    assert confirmation.to == welcome.to == [mia.email]

    # Mia is another person: her own browser, with no dashboard session.
    member = new_context(**DESKTOP).new_page()
    member.goto(set_password_path(welcome))
    expect(member.get_by_role("heading", level=1)).to_have_text("Choose your password")
    member.get_by_label("New password", exact=True).fill(MEMBER_PASSWORD)
    member.get_by_label("New password again").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Save password and log in").click()

    library_path = f"/s/{site.slug}/library/"
    expect(member).to_have_url(path_is(live_server, library_path))
    expect_library(member)

    # She logs out, and back in with her new password.
    member.get_by_role("button", name="Log out").click()
    expect(member).to_have_url(path_is(live_server, f"/s/{site.slug}/login/"))
    member.goto(f"/s/{site.slug}/library/")
    expect(member).to_have_url(path_is(live_server, f"/s/{site.slug}/login/"))  # no longer logged in

    member.goto(f"/s/{site.slug}/login/")
    member.get_by_label("Email").fill(mia.email)
    member.get_by_label("Password").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Log in").click()
    expect(member).to_have_url(path_is(live_server, library_path))
    expect_library(member)

    # She opens the first lesson and marks it complete.
    member.get_by_role("link", name="Breathing").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Breathing")
    member.get_by_role("button", name="Mark complete").click()
    expect(member.get_by_role("status")).to_have_text("✓ Completed")
    expect(member.get_by_role("button", name="Mark complete")).to_have_count(0)

    member.get_by_role("link", name="← Your library").click()
    course = member.locator(".member-course", has_text="Yoga Basics")
    expect(course.get_by_role("heading", level=3)).to_contain_text("1 of 2 done")
    expect(course.get_by_role("listitem").filter(has_text="Breathing")).to_contain_text("(completed)")
    expect(course.get_by_role("listitem").filter(has_text="Sun salutation")).not_to_contain_text(
        "(completed)"
    )

    # No email ever carried the password, in text or HTML.
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        bodies = [message.body, *(content for content, _ in message.alternatives)]
        assert not any(MEMBER_PASSWORD in body for body in bodies), message.subject


def expect_library(member):
    expect(member.get_by_role("heading", level=1)).to_have_text("Your library")
    offer = member.get_by_role("region", name="Yoga Basics Course")
    expect(offer).to_be_visible()
    lessons = offer.get_by_role("listitem")
    expect(lessons).to_have_count(2)
    expect(lessons.get_by_role("link")).to_have_text(["Breathing", "Sun salutation"])
