"""The Contacts tab in a real browser: filtering with the count changing as the filter is
built, saving the view as a segment that becomes a tab, a bulk grant from a selection to its job's result,
the filter builder used with the keyboard alone, and the tab's pages accessible (axe-core) and without
sideways scrolling on a phone."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from audience.services import saved_segments
from contacts import services
from contacts.models import ConsentSource, Segment
from contacts.services import Consent
from offers.services import catalog
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, ContactFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def world(site, owner):
    """Four contacts of Ana's site, newest first: Maya (subscribed, tags VIP and Yoga), Liam (tag
    Yoga), Noah, and James (no name); an offer to grant."""
    with scope(site=site):
        james = ContactFactory(site=site, email="james@example.com", name="")
        noah = ContactFactory(site=site, email="noah.kim@example.org", name="Noah Kim")
        liam = ContactFactory(site=site, email="liam.oconnor@example.org", name="Liam O'Connor")
        maya = ContactFactory(site=site, email="maya.fernandes@example.org", name="Maya Fernandes")
        services.subscribe(site, contact=maya, by=Consent(source=ConsentSource.TEAM, note="At the workshop"))
        services.add_tags(site, contact=maya, names=["VIP", "Yoga"])
        services.add_tags(site, contact=liam, names=["Yoga"])
        offer = catalog.create_offer(site, title="Yoga Basics Course")
    return {"maya": maya, "liam": liam, "noah": noah, "james": james, "offer": offer}


def rows(page):
    return page.locator("table.contacts-table tbody tr")


def settled(page):
    """Wait until htmx has swapped and settled what it fetched (it wires the new part up as it settles)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def open_tab(page, live_server, owner, path=""):
    login(page, live_server, owner.email, PASSWORD)
    page.goto(f"/app/ana-yoga/contacts/{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")


def test_a_filter_is_built_counted_and_applied(page, live_server, site, owner, world):
    open_tab(page, live_server, owner)
    expect(rows(page)).to_have_count(4)
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Add a filter on").select_option("Tag")
    page.get_by_role("button", name="Add filter").click()
    expect(page.get_by_label("Filter 1, tag: condition")).to_be_focused()
    settled(page)
    value = page.get_by_label("Filter 1: which tag")
    count = page.locator("#filter-count")
    expect(count).to_have_attribute("role", "status")
    expect(count).to_contain_text("To count, complete the filters")
    value.select_option("Yoga")
    expect(count).to_have_text("2 contacts match in All")
    page.get_by_label("Filter 1, tag: condition").select_option("does not have")
    expect(count).to_have_text("2 contacts match in All")
    page.get_by_label("Filter 1, tag: condition").select_option("has")
    page.get_by_label("Or a filter on").select_option("Name or email")
    page.get_by_role("button", name="Add an OR alternative to filter 1").click()
    # The new condition takes the focus once htmx has put it in place.
    expect(page.get_by_label("Filter 1, or 2, name or email: condition")).to_be_focused()
    settled(page)
    page.get_by_label("Filter 1, or 2: text in the name or email").fill("james")
    expect(count).to_have_text("3 contacts match in All")
    page.get_by_role("button", name="Apply filters", exact=True).click()

    expect(rows(page)).to_have_count(3)
    expect(page.locator("#view-count")).to_have_text("3 contacts in All match the filters")
    query = parse_qs(urlsplit(page.url).query)
    assert '"any"' in query["filters"][0]
    page.go_back()  # the state is in the URL: back is the whole list again
    expect(rows(page)).to_have_count(4)


def test_a_filtered_view_is_saved_as_a_segment_and_shows_as_a_tab(page, live_server, site, owner, world):
    with scope(site=site):
        yoga = services.tags_named(site, ["Yoga"])[0]
    open_tab(
        page,
        live_server,
        owner,
        f'?segment=subscribed&filters={{"all":[{{"field":"tag","op":"has","value":{yoga.pk}}}]}}',
    )
    expect(rows(page)).to_have_count(1)
    page.get_by_label("Segment name").fill("Subscribed yogis")
    page.get_by_role("button", name="Save as segment").click()

    tabs = page.get_by_role("navigation", name="Segments")
    expect(tabs.get_by_role("link", name="Subscribed yogis 1")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("status").first).to_contain_text(
        "Saved the segment “Subscribed yogis”: 1 contact."
    )
    expect(rows(page)).to_have_count(1)
    with scope(site=site):
        assert Segment.objects.get().name == "Subscribed yogis"


def test_a_bulk_grant_to_selected_contacts_shows_the_jobs_result(
    page, live_server, site, owner, world, mailoutbox
):
    open_tab(page, live_server, owner)
    page.get_by_label("Select Maya Fernandes").check()
    page.get_by_label("Select james@example.com").check()
    page.get_by_role("button", name="Grant an offer…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Grant an offer")
    expect(page.get_by_role("heading", level=2)).to_have_text("2 selected contacts")
    page.get_by_label("Offer", exact=True).select_option("Yoga Basics Course")
    expect(page.get_by_label("Send offer grant email")).to_be_checked()
    page.get_by_role("button", name="Grant the offer to 2 contacts").click()

    expect(page).to_have_url(re.compile(r"/app/ana-yoga/grant-jobs/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant of “Yoga Basics Course”")
    progress = page.locator("#job-progress")
    expect(progress.get_by_role("status")).to_contain_text("Done")
    expect(progress.locator("dd").first).to_have_text("2")  # granted
    assert len([m for m in mailoutbox if "Yoga Basics Course" in m.subject]) == 2


def test_select_all_on_the_page_then_tag_them(page, live_server, site, owner, world):
    open_tab(page, live_server, owner)
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_label("Select Noah Kim")).to_be_checked()
    page.get_by_label("Select Noah Kim").uncheck()
    expect(page.get_by_label("Select all on this page")).not_to_be_checked()
    page.get_by_role("button", name="Add a tag…").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("3 selected contacts")
    page.get_by_label("Tag").fill("Spring")
    page.get_by_role("button", name="Add the tag to 3 contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a tag")
    expect(page.locator(".messages")).to_contain_text("Tagged 3 contacts “Spring”.")
    expect(page.locator("#action-progress").get_by_role("status")).to_contain_text("Done")


def test_the_filter_builder_works_with_the_keyboard_alone(page, live_server, site, owner, world):
    open_tab(page, live_server, owner)
    page.locator("details.filters > summary").focus()
    page.keyboard.press("Enter")  # opens the filters
    page.keyboard.press("Tab")
    expect(page.get_by_label("Add a filter on")).to_be_focused()
    page.keyboard.type("Tag")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add filter")).to_be_focused()
    page.keyboard.press("Enter")
    # The new filter takes the focus, on its condition.
    expect(page.get_by_label("Filter 1, tag: condition")).to_be_focused()
    settled(page)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Filter 1: which tag")).to_be_focused()
    page.keyboard.type("VIP")
    expect(page.locator("#filter-count")).to_have_text("1 contact matches in All")
    for name in ("Remove filter 1", "Add an OR alternative to filter 1", "Add filter", "Apply filters"):
        page.keyboard.press("Tab")
        if name == "Add an OR alternative to filter 1":
            page.keyboard.press("Tab")  # past "Or a filter on"
        if name == "Add filter":
            page.keyboard.press("Tab")  # past "Add a filter on"
        expect(page.get_by_role("button", name=name, exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Maya Fernandes")


def test_the_tabs_pages_are_accessible_and_fit_a_phone(page, phone_page, live_server, site, owner, world):
    with scope(site=site):
        vip = services.tags_named(site, ["VIP"])[0]
        saved = saved_segments.create_segment(
            site, name="VIP", filters={"all": [{"field": "tag", "op": "has", "value": vip.pk}]}
        )
    maya = world["maya"].pk
    filters = (
        '{"all":[{"field":"status","op":"is","value":"unsubscribed","reason":"opted_out"},'
        '{"field":"added","op":"after","value":30}]}'
    )
    paths = [
        f"?filters={filters}",
        f"?segment={saved.pk}&q=maya",
        "?builder=add&new_field=last_activity",
        f"bulk/subscribe/?contact_ids={maya}",
        "bulk/delete/?matching=1&segment=subscribed",
        f"segments/{saved.pk}/",
    ]
    open_tab(page, live_server, owner)
    login(phone_page, live_server, owner.email, PASSWORD)
    for screen in (page, phone_page):
        screen.goto("/app/ana-yoga/contacts/")
        screen.get_by_text("Filters", exact=True).click()
        if screen is page:
            assert_accessible(screen)
        else:
            assert_no_sideways_scroll(screen)
        for path in paths:
            response = screen.goto(f"/app/ana-yoga/contacts/{path}")
            assert response.status == 200, path
            if screen is page:
                assert_accessible(screen)
            else:
                assert_no_sideways_scroll(screen)
    # A finished action's progress page.
    page.goto(f"/app/ana-yoga/contacts/bulk/add_tag/?contact_ids={maya}")
    page.get_by_label("Tag").fill("Met")
    page.get_by_role("button", name="Add the tag to 1 contact").click()
    expect(page.locator("#action-progress")).to_be_visible()
    assert_accessible(page)
    phone_page.goto(page.url)
    assert_no_sideways_scroll(phone_page)
