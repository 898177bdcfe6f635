"""Every page of the app passes its Content-Security-Policy in a real browser (docs/security.md,
"Security headers"): Chromium reports each violation on the console ("Refused to apply inline style…",
"Refused to execute inline script…", "Refused to send form data…"), from the page or from a frame in it,
and the test fails on any, naming the page. The pages: the dashboard (the Contacts tab with the filter
builder used, a contact, offers, the email templates with the HTML preview in its iframe, forms,
imports, exports, usage, activity, the team and API keys, the API docs), the support pages, the member
area and the public form (with a sign-up that goes on to the creator's own thank-you page), confirm and
unsubscribe pages.

The pages' data is the accessibility test's `world`; logins skip the login form (a Django test client
logs in and the browser gets its session cookie), except the dashboard login itself, used once."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from contacts import services as contacts
from tests.browser.conftest import DESKTOP, login
from tests.browser.test_pages_accessibility import SCREENS, open_screen, session_cookies, world  # noqa: F401
from tests.factories import PASSWORD, UserFactory
from tests.usage.test_support import open_case

pytestmark = pytest.mark.browser

THANKS = "https://ana-yoga.example/thanks"


class Violations:
    """What the browser reports on the console about the policy, per page."""

    def __init__(self, page):
        self.found: list[str] = []
        self.where = "?"
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"{self.where}: page error: {error}"))

    def _console(self, message):
        words = message.text
        if "Content Security Policy" in words or "Content-Security-Policy" in words or "Refused to" in words:
            self.found.append(f"{self.where}: {words}")

    def at(self, where: str) -> None:
        self.where = where


@pytest.fixture
def browsing(new_context):
    """A desktop page whose policy violations are collected, and no bypass of the policy."""
    context = new_context(**DESKTOP, bypass_csp=False)
    page = context.new_page()
    return page, Violations(page)


def visit(page, violations, path: str, heading: str | None = None):
    violations.at(path)
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("load")
    if heading is not None:
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def settled(page):
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def test_the_dashboard_pages_pass_the_policy(browsing, live_server, world):  # noqa: F811
    page, violations = browsing
    violations.at("/accounts/login/")
    login(page, live_server, world.owner.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana's Yoga Studio")

    for name, screen in SCREENS.items():
        if screen.who == "creator":
            with scope(site=world.site):
                path = screen.path(world)
            visit(page, violations, path, screen.heading)
            if name == "email-template":
                preview = page.frame_locator("iframe.email-preview")
                expect(preview.locator("body")).to_contain_text("Alex Sample")  # the sample contact
    for path in (
        "/app/ana-yoga/imports/",
        "/app/ana-yoga/imports/new/",
        "/app/ana-yoga/exports/",
        "/app/ana-yoga/usage/",
        "/app/ana-yoga/activity/",
        "/app/ana-yoga/contacts/new/",
        "/app/ana-yoga/forms/new/",
        "/api/v1/docs/",
    ):
        visit(page, violations, path)
    expect(page.locator(".swagger-ui .info")).to_contain_text("CreatorHub API")

    # The Contacts tab's filter builder: htmx swaps the builder and the count in place.
    visit(page, violations, "/app/ana-yoga/contacts/", "Contacts")
    violations.at("the filter builder")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Add a filter on").select_option("Tag")
    page.get_by_role("button", name="Add filter").click()
    expect(page.get_by_label("Filter 1, tag: condition")).to_be_focused()
    settled(page)
    page.get_by_label("Filter 1: which tag").select_option("Yoga")
    expect(page.locator("#filter-count")).to_have_text("1 contact matches in All")
    page.get_by_role("button", name="Apply filters", exact=True).click()
    expect(page.locator("#view-count")).to_have_text("1 contact in All matches the filters")

    assert violations.found == []


def test_the_support_pages_pass_the_policy(browsing, live_server, site):
    page, violations = browsing
    sam = UserFactory(email="sam@support.example", is_staff=True)
    sam.user_permissions.add(Permission.objects.get(codename="support", content_type__app_label="creatorhub"))
    case = open_case(site, 1_050, 1_000)
    violations.at("/accounts/login/")
    login(page, live_server, sam.email, PASSWORD)

    visit(page, violations, "/support/", "Overage queue")
    visit(page, violations, f"/support/sites/{site.slug}/")
    visit(page, violations, f"/support/cases/{case.pk}/", "Overage of Ana's Yoga Studio")

    assert violations.found == []


def test_the_member_area_and_the_public_pages_pass_the_policy(browsing, live_server, world):  # noqa: F811
    page, violations = browsing
    for name, screen in SCREENS.items():
        if screen.who == "visitor":
            violations.at(name)
            page.context.clear_cookies()
            open_screen(page, world, name, [])
    visit(page, violations, "/s/ana-yoga/password-reset/")
    page.context.add_cookies(session_cookies(live_server, world, "member"))
    for name, screen in SCREENS.items():
        if screen.who == "member":
            violations.at(name)
            open_screen(page, world, name, [])

    # Unsubscribing posts the page's form.
    page.context.clear_cookies()
    violations.at("unsubscribe, sent")
    with scope(site=world.site):
        unsubscribe = SCREENS["unsubscribe"].path(world)
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("unsubscribed")

    assert violations.found == []


def test_a_sign_up_goes_on_to_the_creators_own_page(browsing, live_server, world):  # noqa: F811
    """The form posts to us and our answer redirects to another origin: the browser checks that redirect
    against the form page's form-action, which names the creator's origin for this form."""
    page, violations = browsing
    with scope(site=world.site):
        contacts.update_form(world.site, form=world.newsletter, redirect_url=THANKS)
    thanks = {"status": 200, "content_type": "text/html", "body": "<title>Thanks</title><h1>Thanks!</h1>"}
    page.route(THANKS, lambda route: route.fulfill(**thanks))

    visit(page, violations, reverse("public-form", args=["ana-yoga", "newsletter"]), "Weekly practice notes")
    violations.at("the sign-up")
    page.get_by_label("Email").fill("hana.sato@example.org")
    page.get_by_role("button", name="Subscribe").click()

    expect(page).to_have_url(THANKS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thanks!")
    assert violations.found == []
