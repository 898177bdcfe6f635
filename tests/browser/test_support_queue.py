"""Support staff at work, in a real browser: the overage queue sorted by how far over, a case, a note
and a status change that land in the case's history; the queue and the case page are accessible and fit
a phone."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, SiteFactory, UserFactory
from tests.usage.test_support import open_case

pytestmark = pytest.mark.browser


@pytest.fixture
def support_user(db):
    user = UserFactory(email="sam@support.example", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="support", content_type__app_label="creatorhub")
    )
    return user


@pytest.fixture
def cases(site, other_site):
    """Ben Codes 400 over, Ana's Yoga Studio 50 over, Cleo Cooks 10 over; Dan's case resolved."""
    cleo = SiteFactory(slug="cleo-cooks", name="Cleo Cooks")
    dan = SiteFactory(slug="dan-draws", name="Dan Draws")
    return {
        "ana": open_case(site, 1_050, 1_000),
        "ben": open_case(other_site, 1_400, 1_000),
        "cleo": open_case(cleo, 1_010, 1_000),
        "dan": open_case(dan, 2_000, 1_000, status="resolved", outcome="upgraded"),
    }


def test_support_reviews_the_queue_and_records_contact(page, live_server, support_user, cases):
    login(page, live_server, support_user.email, PASSWORD)
    page.get_by_role("link", name="Support").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Overage queue")
    site_links = page.locator("table.queue tbody tr td:first-child > a")
    expect(site_links).to_have_text(["Ben Codes", "Ana's Yoga Studio", "Cleo Cooks"])
    expect(page.locator("table.queue .over-by")).to_have_text(["400", "50", "10"])
    assert_accessible(page)

    page.get_by_role("link", name="Ana's Yoga Studio").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overage of Ana's Yoga Studio")
    assert_accessible(page)

    page.get_by_label("Note").fill("Called Ana: she will look at the Growth plan.")
    page.get_by_label("Status").select_option("contacted")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("The case is updated.")
    history = page.locator("ol.case-history li")
    expect(history).to_have_count(2)
    expect(history.last).to_contain_text("Called Ana: she will look at the Growth plan.")
    expect(history.last).to_contain_text("Open → Contacted")
    expect(history.last).to_contain_text("sam@support.example")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contacted")

    page.goto("/support/?status=contacted")
    expect(page.locator("table.queue tbody tr td:first-child > a")).to_have_text(["Ana's Yoga Studio"])


def test_the_support_pages_fit_a_phone(phone_page, live_server, support_user, cases, site):
    login(phone_page, live_server, support_user.email, PASSWORD)
    for path in ["/support/", f"/support/cases/{cases['ana'].pk}/", "/support/sites/ana-yoga/"]:
        phone_page.goto(path)
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_sideways_scroll(phone_page)
    assert_accessible(phone_page)


def test_the_creators_usage_page_is_accessible_and_fits_a_phone(page, phone_page, live_server, site, owner):
    from tests.usage.test_usage_page import snapshots

    snapshots(site, [700, 760, 820, 850, 870])
    for tab in (page, phone_page):
        login(tab, live_server, owner.email, PASSWORD)
        tab.goto("/app/ana-yoga/usage/")
        expect(tab.get_by_role("heading", level=1)).to_have_text("Usage")
        chart = tab.get_by_role("img", name="Active customers over the last 90 days")
        expect(chart).to_be_visible()
        expect(chart.locator(".y-axis text")).to_have_text(["0", "500", "1,000"])
        expect(chart.locator(".x-axis text")).to_have_count(5)
        expect(chart.locator(".limit-label")).to_have_text("Plan limit 1,000")  # Basic
        expect(chart.locator(".last-value")).to_have_text("870")
        expect(chart.locator(".day title")).to_have_count(5)
        tab.get_by_text("The figures, day by day").click()
        assert_accessible(tab)
    assert_no_sideways_scroll(phone_page)
    # On a phone the chart's labels are still of a readable size, and none spills out of the chart.
    boxes = phone_page.evaluate("""() => {
        const figure = document.querySelector("figure.line-chart").getBoundingClientRect();
        return [...document.querySelectorAll("figure.line-chart svg text")].map(text => {
            const box = text.getBoundingClientRect();
            const inside = box.left >= figure.left && box.right <= figure.right;
            return {text: text.textContent, height: box.height, inside: inside};
        });
    }""")
    assert [box for box in boxes if box["height"] < 12 or not box["inside"]] == []
