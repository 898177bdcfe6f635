"""Five tasks a new creator does without documentation, in a real browser, on a desktop screen and on a
phone: find a contact's status and why, build and save a segment of three filters, grant an offer to that
segment and follow the job, import a CSV and read its report, read the active customers against the plan.

The creator only does what a person can: logs in through the login page, then clicks links and buttons
found by their visible text or role and fills labelled fields; no other address is typed. Each step is
a full-page screenshot (conftest `screenshots`), and each task's pages pass axe-core and fit the screen.
"""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from activity.models import ActivityKind
from activity.services import NewEvent, record_events
from audience.services import saved_segments
from contacts import services
from contacts.models import ConsentSource, Contact, UnsubscribeReason
from contacts.services import Consent
from creatorhub.models import Plan
from offers.models import Access
from offers.services import catalog
from offers.services.access import Granter, grant_offer
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, ContactFactory
from usage.services import compute_usage

pytestmark = pytest.mark.browser

OFFER = "Yoga Basics Course"
SEGMENT = "Recent subscribed yogis"
# The segment's filters: subscribed, tagged Yoga, added in the last 30 days.
RECENT_DAYS = 30
SEGMENT_MEMBERS = ["Arjun Patel", "Liam O'Connor", "Maya Fernandes"]


@pytest.fixture(params=["desktop", "phone"])
def screen(request, new_context):
    """The creator's browser: a desktop screen, then a phone."""
    return new_context(**(DESKTOP if request.param == "desktop" else PHONE)).new_page()


@pytest.fixture
def studio(site, owner):
    """Ana's Yoga Studio a few weeks in, newest contacts first: Maya (subscribed by Ana at a workshop,
    tags Yoga and VIP, granted the course), Liam and Arjun (subscribed, Yoga), Priya (subscribed,
    Pilates), James (never subscribed, Yoga), Zoe (opted out, Yoga), and Noah (subscribed, Yoga, added
    90 days ago). Three of them — Maya, Liam, Arjun — are subscribed, tagged Yoga and added in the last
    30 days. One transaction: each commit costs a disk flush."""
    added_long_ago = timezone.now() - timedelta(days=90)
    by_ana = Consent(source=ConsentSource.TEAM, note="Signed up at the studio", user=owner)
    people = [
        # email, name, subscribed, tags, added
        ("noah.kim@example.org", "Noah Kim", True, ["Yoga"], added_long_ago),
        ("zoe.martin@example.org", "Zoe Martin", True, ["Yoga"], None),
        ("james.wright@example.org", "James Wright", False, ["Yoga"], None),
        ("priya.shah@example.org", "Priya Shah", True, ["Pilates"], None),
        ("arjun.patel@example.org", "Arjun Patel", True, ["Yoga"], None),
        ("liam.oconnor@example.org", "Liam O'Connor", True, ["Yoga", "Morning"], None),
        ("maya.fernandes@example.org", "Maya Fernandes", False, ["Yoga", "VIP"], None),
    ]
    contacts = {}
    with scope(site=site), transaction.atomic():
        offer = catalog.create_offer(site, title=OFFER, price=49)
        for email, name, subscribed, tags, added in people:
            extra = {"created_at": added} if added else {}
            contact = ContactFactory(site=site, email=email, name=name, **extra)
            if subscribed:
                services.subscribe(site, contact=contact, by=by_ana)
            services.add_tags(site, contact=contact, names=tags)
            contacts[name.split()[0].lower()] = contact
        services.unsubscribe(
            site,
            contact=contacts["zoe"],
            reason=UnsubscribeReason.OPTED_OUT,
            by=Consent(source=ConsentSource.LINK),
        )
        maya = contacts["maya"]
        services.subscribe(
            site,
            contact=maya,
            by=Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop", user=owner),
        )
        grant_offer(site, offer=offer, contact=maya, send_grant_email=False, by=Granter(user=owner))
    return {"offer": offer, "owner": owner, **contacts}


@pytest.fixture
def saved_segment(site, studio):
    """The segment of task 2, saved as the creator saved it."""
    with scope(site=site):
        yoga = services.tags_named(site, ["Yoga"])[0]
        return saved_segments.create_segment(
            site,
            name=SEGMENT,
            filters={
                "all": [
                    {"field": "status", "op": "is", "value": "subscribed"},
                    {"field": "tag", "op": "has", "value": yoga.pk},
                    {"field": "added", "op": "after", "value": RECENT_DAYS},
                ]
            },
        )


def fact(container, term):
    """The value of a term in a list of facts (<dt>term</dt><dd>value</dd>), the term read whole."""
    term_itself = re.compile(rf"^\s*{re.escape(term)}\s*$")
    return container.locator("dt").filter(has_text=term_itself).locator("xpath=following-sibling::dd[1]")


def fits(page):
    """The page passes axe-core and does not scroll sideways."""
    assert_accessible(page)
    assert_no_sideways_scroll(page)


def go_to_contacts(page):
    page.get_by_role("navigation", name="Site sections").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")


# -- 1. A contact's status and why ----------------------------------------------------------------------


def test_a_creator_finds_a_contacts_status_and_why(screen, live_server, site, studio, screenshots):
    shot = screenshots(screen, "find-a-contacts-status")
    login(screen, live_server, studio["owner"].email, PASSWORD)
    expect(screen.get_by_role("heading", level=1)).to_have_text("Ana's Yoga Studio")  # the Overview
    shot("overview")

    go_to_contacts(screen)
    rows = screen.locator("table.contacts-table tbody tr")
    expect(rows).to_have_count(7)
    shot("contacts")

    screen.get_by_label("Search by name or email").fill("maya")
    screen.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(screen.locator("#view-count")).to_have_text("1 contact in All matches “maya”")
    shot("search")

    rows.get_by_role("link", name="Maya Fernandes").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Maya Fernandes")
    # Subscribed, and why: who subscribed her, when, with the consent they noted.
    consent = screen.get_by_role("region", name="Marketing email")
    today = site.today()
    on_today = f"{today:%b} {today.day}, {today.year}"
    expect(consent.locator(".status-cause")).to_have_text(
        re.compile(rf"Subscribed\s+— by {re.escape(studio['owner'].email)} on {on_today}")
    )
    expect(consent).to_contain_text("“Signed up at the spring workshop”")
    # A customer, and why: the offer she holds, since when and how; not an active one, and why.
    profile = screen.get_by_role("region", name="Profile")
    expect(fact(profile, "Customer")).to_have_text(f"Yes — Holds “{OFFER}” since {today} (grant).")
    expect(fact(profile, "Active customer")).to_have_text(
        f"No — A customer with no activity in the 30 days ending {today}."
    )
    # The whole story of her consent.
    history = screen.get_by_role("region", name="Consent history").locator("tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Never subscribed → Subscribed")
    shot("status-and-why")
    fits(screen)


# -- 2. A segment of three filters ----------------------------------------------------------------------


def test_a_creator_builds_and_saves_a_segment_of_three_filters(
    screen, live_server, site, studio, screenshots
):
    shot = screenshots(screen, "save-a-segment")
    login(screen, live_server, studio["owner"].email, PASSWORD)
    go_to_contacts(screen)
    screen.get_by_text("Filters", exact=True).click()
    count = screen.locator("#filter-count")
    expect(count).to_have_text("7 contacts match in All")
    shot("filters-open")

    add_filter(screen, "Subscription status")
    screen.get_by_label("Filter 1: status").select_option("subscribed")
    add_filter(screen, "Tag")
    screen.get_by_label("Filter 2: which tag").select_option("Yoga")
    add_filter(screen, "Added")
    screen.get_by_label("Filter 3, added: condition").select_option("after")
    since = site.today() - timedelta(days=RECENT_DAYS)
    screen.get_by_label("Filter 3: day").fill(since.isoformat())
    expect(count).to_have_text("3 contacts match in All")
    shot("three-filters-counted")

    screen.get_by_role("button", name="Apply filters", exact=True).click()
    rows = screen.locator("table.contacts-table tbody tr")
    expect(rows).to_have_count(3)
    expect(screen.locator("#view-count")).to_have_text("3 contacts in All match the filters")
    shot("filters-applied")

    screen.get_by_label("Segment name").fill(SEGMENT)
    screen.get_by_role("button", name="Save as segment").click()
    tabs = screen.get_by_role("navigation", name="Segments")
    expect(tabs.get_by_role("link", name=f"{SEGMENT} 3")).to_have_attribute("aria-current", "page")
    expect(screen.locator(".messages")).to_contain_text(f"Saved the segment “{SEGMENT}”: 3 contacts.")
    for name in SEGMENT_MEMBERS:
        expect(rows.get_by_role("link", name=name)).to_be_visible()
    shot("segment-saved")
    fits(screen)


def add_filter(page, field):
    """Chooses what to filter on and adds the filter; htmx puts it in place and focuses its condition."""
    page.get_by_label("Add a filter on").select_option(field)
    page.get_by_role("button", name="Add filter").click()
    expect(page.locator(".condition").last.locator("select").first).to_be_focused()
    # htmx wires the new filter up (its changes fetch the count) as it settles.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


# -- 3. Grant an offer to the segment -------------------------------------------------------------------


def test_a_creator_grants_an_offer_to_a_segment_and_follows_the_job(
    screen, live_server, site, studio, saved_segment, screenshots
):
    shot = screenshots(screen, "grant-a-segment")
    login(screen, live_server, studio["owner"].email, PASSWORD)
    go_to_contacts(screen)
    screen.get_by_role("navigation", name="Segments").get_by_role("link", name=f"{SEGMENT} 3").click()
    expect(screen.locator("#view-count")).to_have_text(f"3 contacts in {SEGMENT}")
    shot("segment")

    screen.get_by_label("All 3 contacts of this view").check()
    screen.get_by_role("button", name="Grant an offer…").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Grant an offer")
    expect(screen.get_by_role("heading", level=2)).to_have_text("All 3 contacts of this view")
    screen.get_by_label("Offer", exact=True).select_option(OFFER)
    expect(screen.get_by_label("Send offer grant email")).to_be_checked()
    shot("grant-form")

    screen.get_by_role("button", name="Grant the offer to 3 contacts").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text(f"Grant of “{OFFER}”")
    progress = screen.get_by_role("region", name="Progress")
    expect(progress.get_by_role("status")).to_contain_text(re.compile(r"Done\s+3 of 3 processed"))
    expect(fact(progress, "Granted")).to_have_text("2")
    expect(fact(progress, "Skipped")).to_have_text("1")
    expect(fact(progress, "Failed")).to_have_text("0")
    expect(progress.locator(".skips")).to_contain_text("maya.fernandes@example.org")
    shot("job-done")
    fits(screen)
    with scope(site=site):
        holders = Contact.objects.filter(accesses__offer=studio["offer"], accesses__revoked_at=None)
        assert sorted(holders.values_list("name", flat=True)) == SEGMENT_MEMBERS


# -- 4. Import a CSV ------------------------------------------------------------------------------------

CSV = (
    "Email,Name,Tags\n"
    "sofia.rossi@example.org,Sofia Rossi,Yoga\n"  # row 2: new
    "not-an-email,Bad Row,\n"  # row 3: not an email
    "noah.kim@example.org,Noah Kim,Retreat\n"  # row 4: already a contact
    "hana.sato@example.org,Hana Sato,\n"  # row 5: new
    "SOFIA.ROSSI@example.org,Sofia Again,\n"  # row 6: row 2 again
)


def test_a_creator_imports_a_csv_and_reads_its_report(screen, live_server, site, studio, screenshots):
    shot = screenshots(screen, "import-a-csv")
    login(screen, live_server, studio["owner"].email, PASSWORD)
    go_to_contacts(screen)
    screen.get_by_role("link", name="Import contacts").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Imports")
    shot("imports")

    screen.get_by_role("link", name="Import contacts").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Import contacts")
    screen.get_by_label("CSV file").set_input_files(
        {"name": "spring-list.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    shot("file-chosen")
    screen.get_by_role("button", name="Continue").click()

    expect(screen.get_by_role("heading", level=1)).to_have_text("Check the columns")
    expect(screen.get_by_label("Email")).to_have_value("email")
    expect(screen.get_by_label("Name", exact=True)).to_have_value("name")
    expect(screen.get_by_label("Tags")).to_have_value("tags")
    preview = screen.locator("#import-check")
    expect(preview).to_contain_text("“not-an-email” is not a valid email address.")
    expect(preview).to_contain_text("is also on row 2")
    shot("columns-checked")

    screen.get_by_role("button", name="Import the contacts").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Import of spring-list.csv")
    result = screen.get_by_role("region", name="Result")
    expect(result.get_by_role("status")).to_contain_text(re.compile(r"Done\s+5 rows read"))
    expect(fact(result, "Created")).to_have_text("2")
    expect(fact(result, "Updated")).to_have_text("1")
    expect(fact(result, "Skipped")).to_have_text("2")
    errors = result.locator("table.errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.locator("td:first-child")).to_have_text(["3", "6"])
    expect(errors.nth(0)).to_contain_text("not a valid email address")
    expect(errors.nth(1)).to_contain_text("row 2")
    shot("report")
    fits(screen)
    with scope(site=site):
        noah = Contact.objects.get(email="noah.kim@example.org")
        assert noah.subscription_status == "subscribed"  # an import never lowers a status
        assert sorted(noah.tags.values_list("name", flat=True)) == ["Retreat", "Yoga"]


# -- 5. Active customers against the plan ---------------------------------------------------------------


@pytest.fixture
def over_the_plan(site, studio):
    """A Starter plan of 3 active customers; 5 customers, 4 of whom logged in two days ago (James has
    not): the site is over its plan, last night's count says so, and support has a case open."""
    plan = Plan.objects.create(name="Starter", contact_limit=500, active_customer_limit=3, price=9)
    site.plan = plan
    site.save(update_fields=["plan"])
    two_days_ago = timezone.now() - timedelta(days=2)
    with scope(site=site), transaction.atomic():
        customers = [studio[name] for name in ("maya", "liam", "arjun", "noah", "james")]
        for contact in customers[1:]:
            grant_offer(site, offer=studio["offer"], contact=contact, send_grant_email=False)
        Access.objects.update(created_at=timezone.now() - timedelta(days=5))
        record_events(
            site,
            [NewEvent(contact=c, kind=ActivityKind.LOGIN, occurred_at=two_days_ago) for c in customers[:4]],
        )
        compute_usage(site, day=site.today() - timedelta(days=1))  # last night's count
    return plan


def test_a_creator_reads_active_customers_against_the_plan(
    screen, live_server, site, studio, over_the_plan, screenshots
):
    shot = screenshots(screen, "active-customers-against-the-plan")
    over = "You are over your plan's limit: 4 active customers, the Starter plan includes 3."
    login(screen, live_server, studio["owner"].email, PASSWORD)
    expect(screen.get_by_role("heading", level=1)).to_have_text("Ana's Yoga Studio")  # the Overview
    expect(screen.get_by_role("status").filter(has_text=over)).to_contain_text("Nothing is blocked")
    expect(fact(screen.get_by_role("region", name="Contacts", exact=True), "Customers")).to_have_text("5")
    usage = screen.get_by_role("region", name="Usage", exact=True)
    expect(fact(usage, "Active customers")).to_have_text("4 of 3")
    expect(usage).to_contain_text("133% of the Starter plan's limit")
    shot("overview")
    fits(screen)

    usage.get_by_role("link", name="Active customers").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Usage")
    expect(screen.get_by_role("status").filter(has_text=over)).to_contain_text("Nothing is blocked")
    expect(fact(screen.locator("main"), "Active customers today")).to_have_text("4 of 3")
    expect(fact(screen.locator("main"), "Share of the limit")).to_have_text("133%")
    expect(fact(screen.locator("main"), "Plan")).to_contain_text("Starter: 3 active customers")
    shot("usage")
    fits(screen)
