"""Logging in and moving between one's sites, in a real browser: the chooser, the switcher, phone layout
and accessibility of the pages a new user sees first."""

import re

import pytest
from playwright.sync_api import expect

from creatorhub.roles import Role
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def owner_of_two(site, other_site):
    """The owner of Ana's Yoga Studio (ana-yoga) and of Ben Codes (ben-codes)."""
    user = UserFactory(email="owner@two-sites.example")
    MembershipFactory(user=user, site=site, role=Role.OWNER)
    MembershipFactory(user=user, site=other_site, role=Role.OWNER)
    return user


def path_is(live_server, path):
    return re.compile(re.escape(live_server.url + path) + r"$")


def test_owner_of_two_sites_chooses_a_site_after_logging_in(page, live_server, owner_of_two):
    login(page, live_server, owner_of_two.email, PASSWORD)

    expect(page).to_have_url(path_is(live_server, "/app/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sites")
    chooser = page.get_by_role("main")
    expect(chooser.get_by_role("link", name="Ana's Yoga Studio")).to_be_visible()
    expect(chooser.get_by_role("link", name="Ben Codes")).to_be_visible()

    chooser.get_by_role("link", name="Ben Codes").click()

    expect(page).to_have_url(path_is(live_server, "/app/ben-codes/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben Codes")


def test_owner_of_two_sites_switches_between_them(page, live_server, owner_of_two):
    login(page, live_server, owner_of_two.email, PASSWORD)
    page.goto("/app/ana-yoga/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana's Yoga Studio")

    page.get_by_label("Switch site").click()
    page.locator("details.switcher").get_by_role("link", name=re.compile("^Ben Codes")).click()

    expect(page).to_have_url(path_is(live_server, "/app/ben-codes/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben Codes")


def test_member_of_one_site_goes_straight_to_it_after_logging_in(page, live_server, site):
    user = MembershipFactory(site=site, user=UserFactory(email="solo@ana-yoga.example")).user

    login(page, live_server, user.email, PASSWORD)

    expect(page).to_have_url(path_is(live_server, "/app/ana-yoga/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana's Yoga Studio")


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(page, live_server, owner_of_two):
    login(page, live_server, owner_of_two.email, "not-the-password")

    expect(page).to_have_url(path_is(live_server, "/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("enter a correct email address and password")
    expect(page.get_by_label("Email")).to_have_value(owner_of_two.email)


def test_login_overview_and_team_pages_fit_a_phone_screen(phone_page, live_server, owner_of_two):
    page = phone_page
    page.goto("/accounts/login/")
    assert_no_sideways_scroll(page)

    login(page, live_server, owner_of_two.email, PASSWORD)
    for path in ("/app/ana-yoga/", "/app/ana-yoga/settings/team/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_sideways_scroll(page)


def test_login_chooser_and_site_pages_have_no_serious_accessibility_problem(page, live_server, owner_of_two):
    page.goto("/accounts/login/")
    assert_accessible(page)

    login(page, live_server, owner_of_two.email, PASSWORD)
    expect(page).to_have_url(path_is(live_server, "/app/"))
    assert_accessible(page)

    for path in ("/app/ana-yoga/", "/app/ana-yoga/settings/team/", "/app/ana-yoga/settings/api-keys/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
