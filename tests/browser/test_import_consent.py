"""Importing Mailchimp's unsubscribed export in a real browser: the check step says what the
import will do to each status before anything is written (new and existing contacts, which of them change
status, sample rows), the result shows the same figures, and a subscribed contact in the file ends up
unsubscribed; the check step passes axe-core and fits a phone screen."""

import re
from pathlib import Path

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from contacts import services
from contacts.models import ConsentSource, Contact
from contacts.services import Consent
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, ContactFactory

pytestmark = pytest.mark.browser

EXPORT = (
    Path(__file__).resolve().parents[1]
    / "contacts"
    / "fixtures"
    / "exports"
    / "mailchimp_unsubscribed_members_export_bd91baeb6f.csv"
)
OPTED_OUT, BY_THE_TEAM = "Unsubscribed: opted out", "Unsubscribed: by the site's team"


@pytest.fixture
def u1_subscribed(site):
    """U1@example.com, subscribed through the state machine (with its consent event)."""
    person = ContactFactory(site=site, email="u1@example.com", name="Old Name")
    with scope(site=site):
        services.subscribe(site, contact=person, by=Consent(source=ConsentSource.TEAM, note="At a class"))
    return person


def fact(page, term):
    """The value of a term of the facts list (dt → dd)."""
    return page.locator(f"dl.facts dt:text-is('{term}') + dd")


def outcome(table):
    """What an outcome table says, as read on the page: {status: {column: text}}."""
    lines = {}
    for row in table.get_by_role("row").filter(has=table.page.get_by_role("rowheader")).all():
        cells = row.get_by_role("cell")
        lines[row.get_by_role("rowheader").inner_text().strip()] = {
            cells.nth(n).get_attribute("data-label"): " ".join(cells.nth(n).inner_text().split())
            for n in range(cells.count())
        }
    return lines


def upload_the_export(page, live_server, site, user):
    login(page, live_server, user.email, PASSWORD)
    page.goto(f"/app/{site.slug}/imports/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    page.get_by_label("CSV file").set_input_files(EXPORT)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the columns")


def test_the_check_says_what_an_unsubscribed_export_will_do_and_the_result_agrees(
    page, live_server, site, admin, u1_subscribed
):
    upload_the_export(page, live_server, site, admin)
    expect(fact(page, "File")).to_contain_text("(Mailchimp export)")
    expect(page.get_by_label("Everyone in this file…")).to_have_value("opted_out")
    expect(fact(page, "Subscribe to marketing emails")).to_have_text("No")

    check = page.get_by_role("region", name="Check before importing")
    expect(check.get_by_role("heading", name="What the import will do")).to_be_visible()
    expect(check).to_contain_text(
        "4 rows: 3 new contacts, 1 existing contact updated, 0 rows skipped. "
        "Nothing is written until you import."
    )
    samples_column = page.get_by_role("columnheader", name="For example")
    forecast_table = check.get_by_role("table").filter(has=samples_column)
    expect(forecast_table.locator("tr.outcome-unsubscribed.outcome-opted_out")).to_have_count(1)
    expect(forecast_table.locator("tr.outcome-unsubscribed.outcome-manual")).to_have_count(1)
    forecast = outcome(forecast_table)
    assert forecast == {
        OPTED_OUT: {
            "New contacts": "2",
            "Existing contacts": "1",
            "Of which change status": "1",
            "For example": "row 2: u1@example.com row 4: u3@example.com row 5: u4@example.com",
        },
        BY_THE_TEAM: {
            "New contacts": "1",
            "Existing contacts": "0",
            "Of which change status": "0",
            "For example": "row 3: u2@example.com",
        },
    }
    with scope(site=site):  # nothing written yet
        assert Contact.objects.get(email="u1@example.com").subscription_status == "subscribed"
        assert Contact.objects.count() == 1

    page.get_by_role("button", name="Import the contacts").click()

    # The result (Celery runs eagerly in the tests; the page would poll until the job is done).
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Import of {EXPORT.name}")
    result = page.get_by_role("region", name="Result")
    expect(result.get_by_role("status")).to_contain_text(re.compile(r"Done\s+4 rows read"))
    expect(result.locator("dt:has-text('Created') + dd")).to_have_text("3")
    expect(result.locator("dt:has-text('Updated') + dd")).to_have_text("1")
    expect(result.locator("dt:has-text('Skipped') + dd")).to_have_text("0")
    expect(result.get_by_role("heading", name="Marketing email")).to_be_visible()
    status_column = page.get_by_role("columnheader", name="Marketing email")
    done = outcome(result.get_by_role("table").filter(has=status_column))
    assert done == {
        status: {column: text for column, text in figures.items() if column != "For example"}
        for status, figures in forecast.items()
    }
    assert_accessible(page)

    # u1, subscribed before, is now unsubscribed: on the Contacts tab and on their page.
    result.get_by_role("link", name="See your contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    u1_row = page.get_by_role("row").filter(has_text="u1@example.com")
    expect(u1_row.locator("[data-label='Status']")).to_have_text("Unsubscribed · opted out")
    u1_row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dolor")
    expect(page.get_by_role("region", name="Marketing email")).to_contain_text("Unsubscribed · opted out")

    with scope(site=site):
        u1 = Contact.objects.get(email="u1@example.com")
        assert (u1.subscription_status, u1.unsubscribe_reason) == ("unsubscribed", "opted_out")
        assert dict(Contact.objects.values_list("email", "unsubscribe_reason")) == {
            "u1@example.com": "opted_out",
            "u2@example.com": "manual",
            "u3@example.com": "opted_out",
            "u4@example.com": "opted_out",
        }


def test_the_check_of_an_unsubscribed_export_fits_a_phone_and_passes_axe(
    phone_page, live_server, site, admin, u1_subscribed
):
    upload_the_export(phone_page, live_server, site, admin)
    check = phone_page.get_by_role("region", name="Check before importing")
    expect(check).to_contain_text("4 rows: 3 new contacts, 1 existing contact updated, 0 rows skipped.")
    opted_out = check.get_by_role("row").filter(has=phone_page.get_by_role("rowheader", name=OPTED_OUT))
    expect(opted_out.locator("[data-label='Existing contacts']")).to_have_text("1")
    expect(opted_out.locator("[data-label='For example']")).to_contain_text("row 2: u1@example.com")
    assert_no_sideways_scroll(phone_page)
    assert_accessible(phone_page)


def test_the_forecast_follows_a_change_of_column(page, live_server, site, admin, u1_subscribed):
    upload_the_export(page, live_server, site, admin)
    check = page.get_by_role("region", name="Check before importing")
    expect(check.get_by_role("rowheader", name=BY_THE_TEAM)).to_be_visible()

    page.get_by_label("UNSUB_REASON", exact=True).select_option(label="Not imported")
    # Without the reason column, Mailchimp's "Unsubscribed by an admin" is one more opt-out.
    expect(check.get_by_role("rowheader", name=BY_THE_TEAM)).to_have_count(0)
    opted_out = check.get_by_role("row").filter(has=page.get_by_role("rowheader", name=OPTED_OUT))
    expect(opted_out.locator("[data-label='New contacts']")).to_have_text("3")
    expect(opted_out.locator("[data-label='Existing contacts']")).to_have_text("1")
    expect(opted_out.locator("[data-label='For example']")).to_contain_text("row 3: u2@example.com")
    expect(check).to_contain_text("4 rows: 3 new contacts, 1 existing contact updated, 0 rows skipped.")
