"""Importing contacts in a real browser: an admin uploads a CSV with some bad rows, checks
and changes what a column becomes (the preview follows), runs the import, and sees the result with its
error report; every step passes axe-core and fits a phone screen."""

import re
from pathlib import Path

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from contacts.models import Contact
from creatorhub.roles import Role
from tests.browser.conftest import assert_accessible, assert_no_sideways_scroll, login
from tests.factories import PASSWORD, ContactFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

CSV = (
    "Email Address,First Name,Last Name,City,TAGS\n"
    "maya.fernandes@example.org,Maya,Fernandes,Lisbon,Yoga\n"
    "not-an-email,Bad,Row,Porto,\n"
    'liam.oconnor@example.org,Liam,O\'Connor,Dublin,"Yoga, Morning"\n'
    "MAYA.FERNANDES@example.org,Maya,Again,Faro,\n"
    "arjun.patel@example.org,Arjun,Patel,Pune,Retreat\n"
)


@pytest.fixture
def site_admin(site):
    return MembershipFactory(site=site, role=Role.ADMIN, user=UserFactory(email="adam@ana-yoga.example")).user


def test_an_admin_imports_a_csv_with_bad_rows_and_gets_the_report(
    page, phone_page, live_server, site, site_admin
):
    ContactFactory(site=site, email="arjun.patel@example.org", name="Arjun")
    login(page, live_server, site_admin.email, PASSWORD)
    page.goto(f"/app/{site.slug}/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    assert_accessible(page)
    page.get_by_role("link", name="Import contacts").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import contacts")
    assert_accessible(page)
    page.get_by_label("CSV file").set_input_files(
        {"name": "members.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_label("Tags to add").fill("Spring import")
    page.get_by_role("button", name="Continue").click()

    # The check: columns recognised, the first rows with their problems.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the columns")
    expect(page.get_by_label("City")).to_have_value("field:city")
    expect(page.get_by_label("TAGS")).to_have_value("tags")
    preview = page.locator("#import-check")
    expect(preview).to_contain_text("Maya Fernandes")
    expect(preview).to_contain_text("“not-an-email” is not a valid email address.")
    expect(preview).to_contain_text("is also on row 2")
    expect(preview).to_contain_text("Lisbon")
    assert_accessible(page)

    # Not the city: the preview follows the change, with the keyboard.
    page.get_by_label("City").focus()
    page.keyboard.press("End")  # the last choice: "Not imported"
    expect(page.get_by_label("City")).to_have_value("skip")
    expect(preview).not_to_contain_text("Lisbon")
    expect(preview).to_contain_text("Maya Fernandes")

    phone_page.context.add_cookies(page.context.cookies())
    phone_page.goto(page.url)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Check the columns")
    assert_no_sideways_scroll(phone_page)

    page.get_by_role("button", name="Import the contacts").click()

    # The result (the job ran as soon as it was queued: Celery runs eagerly in the tests).
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of members.csv")
    result = page.get_by_role("region", name="Result")
    expect(result.get_by_role("status")).to_contain_text(re.compile(r"Done\s+5 rows read"))
    expect(result.locator("dt:has-text('Created') + dd")).to_have_text("2")
    expect(result.locator("dt:has-text('Updated') + dd")).to_have_text("1")
    expect(result.locator("dt:has-text('Skipped') + dd")).to_have_text("2")
    errors = result.locator("table.errors")
    expect(errors.get_by_role("row")).to_have_count(3)  # the header and two skipped rows
    assert_accessible(page)

    with page.expect_download() as download:
        result.get_by_role("link", name="Download the error report (CSV)").click()
    report = download.value
    assert report.suggested_filename.endswith("-errors.csv")
    lines = Path(report.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,column,message"
    assert [line.split(",")[0] for line in lines[1:]] == ["3", "5"]

    phone_page.goto(page.url)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Import of members.csv")
    assert_no_sideways_scroll(phone_page)

    with scope(site=site):
        liam = Contact.objects.get(email="liam.oconnor@example.org")
        assert (liam.name, liam.fields, liam.subscription_status) == ("Liam O'Connor", {}, "never_subscribed")
        assert sorted(liam.tags.values_list("name", flat=True)) == ["Morning", "Spring import", "Yoga"]
        assert Contact.objects.get(email="arjun.patel@example.org").name == "Arjun Patel"
