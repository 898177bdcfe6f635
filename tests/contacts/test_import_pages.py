"""The import pages under /app/<site>/imports/: the list, a new import (upload or paste), the check of its
columns with a preview of the first rows and their problems, the progress and result with the error
report; `imports:run` needed; another site's imports are not found."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scope

from contacts.models import Import
from tests.contacts.importing import contact, run_text

FILE = "Email Address,First Name,Last Name,City\nana@example.com,Ana,Silva,Lisbon\nnope,No,One,\n"


def page(site, rest=""):
    return f"/app/{site.slug}/imports/{rest}"


@pytest.fixture
def browser(admin):
    client = Client()
    client.force_login(admin)
    return client


def upload(browser, site, **data):
    data.setdefault("file", SimpleUploadedFile("members.csv", FILE.encode(), content_type="text/csv"))
    return browser.post(page(site, "new/"), data)


def the_import(site):
    with scope(site=site):
        return Import.objects.get()


def test_the_list_shows_imports_with_their_result_and_a_way_to_import(browser, site):
    run_text(site, FILE)
    response = browser.get(page(site))
    assert response.status_code == 200
    text = response.content.decode()
    assert f'href="{page(site, "new/")}"' in text
    assert "Import contacts" in text
    assert "contacts.csv" in text
    assert 'data-label="Created">1<' in text
    assert 'data-label="Skipped">1<' in text


def test_a_bad_page_link_is_refused_with_the_newest_imports(browser, site):
    response = browser.get(page(site), {"before": "not-a-cursor"})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_uploading_shows_the_columns_recognised_and_the_first_rows_with_their_problems(browser, site):
    response = upload(browser, site)
    imp = the_import(site)
    assert response.status_code == 302
    assert response["Location"] == page(site, f"{imp.pk}/")
    text = browser.get(response["Location"]).content.decode()
    assert "Check the columns" in text
    assert "UTF-8, comma-separated" in text
    assert '<option value="first_name" selected>First name</option>' in text
    assert '<option value="field:city" selected>Custom field “city”</option>' in text
    assert "ana@example.com" in text
    assert "Ana Silva" in text
    assert "“nope” is not a valid email address." in text
    with scope(site=site):
        assert not imp.row_errors.exists()  # nothing is imported before it starts


def test_pasted_rows_are_an_import_too(browser, site):
    response = browser.post(page(site, "new/"), {"text": "ana@example.com\nben@example.com\n"})
    assert response.status_code == 302
    imp = the_import(site)
    assert (imp.filename, imp.has_header, imp.mapping) == ("Pasted text", False, ["email"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subscribe": "on"}, "Say how the people in this file agreed to receive marketing emails."),
        ({"subscribe": "on", "consent": "Old list"}, "Confirm that everyone in this file agreed"),
        ({"text": "ana@example.com"}, "Choose a CSV file, or paste its rows (one or the other)."),
        ({"file": SimpleUploadedFile("book.xlsx", b"PK\x03\x04\x00\x00")}, "This is not a CSV text file"),
    ],
)
def test_a_new_import_that_cannot_go_ahead_says_why(browser, site, data, message):
    response = upload(browser, site, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with scope(site=site):
        assert not Import.objects.exists()


def test_changing_a_column_updates_the_preview_alone(browser, site):
    upload(browser, site)
    imp = the_import(site)
    mapping = {"column_0": "email", "column_1": "name", "column_2": "skip", "column_3": "skip"}
    response = browser.post(page(site, f"{imp.pk}/preview/"), mapping, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith('<section id="import-check"')
    assert ">Ana<" in text
    assert "Lisbon" not in text


def test_a_file_without_an_email_column_shows_its_check_page_asking_for_one(browser, site):
    data = b"name,city\nAna,Lisbon\n"  # no column recognised as the email (was a 500: fuzzing found it)
    response = upload(browser, site, file=SimpleUploadedFile("list.csv", data, content_type="text/csv"))
    check = browser.get(response["Location"])
    assert check.status_code == 200
    assert "Choose the column that holds the email addresses." in check.content.decode()
    assert the_import(site).status == "draft"


def test_a_mapping_without_an_email_column_is_refused_on_the_page(browser, site):
    upload(browser, site)
    imp = the_import(site)
    mapping = {"column_0": "skip", "column_1": "name", "column_2": "skip", "column_3": "skip"}
    for action in ("preview", "start"):
        response = browser.post(page(site, f"{imp.pk}/{action}/"), mapping)
        assert response.status_code == 400
        assert "Choose the column that holds the email addresses." in response.content.decode()
    assert the_import(site).status == "draft"


def test_starting_runs_the_import_and_shows_its_result_and_report(
    browser, site, django_capture_on_commit_callbacks
):
    upload(browser, site, subscribe="on", consent="Signed up on Mailchimp", attestation="on", tags="Spring")
    imp = the_import(site)
    mapping = {"column_0": "email", "column_1": "first_name", "column_2": "last_name", "column_3": "skip"}
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(page(site, f"{imp.pk}/start/"), mapping)
    assert response.status_code == 302
    assert response["Location"] == page(site, f"{imp.pk}/")
    text = browser.get(response["Location"]).content.decode()
    assert "Result" in text
    assert "<dt>Created</dt><dd>1</dd>" in text
    assert "<dt>Skipped</dt><dd>1</dd>" in text
    assert f'href="{page(site, f"{imp.pk}/errors.csv")}"' in text
    assert "Yes: “Signed up on Mailchimp”" in text
    ana = contact(site, "ana@example.com")
    assert (ana.subscription_status, ana.fields, [t.name for t in ana.tags.all()]) == (
        "subscribed",
        {},
        ["Spring"],
    )

    report = browser.get(page(site, f"{imp.pk}/errors.csv"))
    assert report["Content-Disposition"] == f'attachment; filename="import-{imp.pk}-errors.csv"'
    assert b"".join(report.streaming_content).decode().splitlines() == [
        "row,column,message",
        "3,Email Address,“nope” is not a valid email address.",
    ]


def test_while_it_runs_htmx_gets_the_progress_part_and_polls(browser, site):
    upload(browser, site)
    imp = the_import(site)
    with scope(site=site):
        Import.objects.filter(pk=imp.pk).update(status="running", progress=40, total=1234)
    response = browser.get(page(site, f"{imp.pk}/"), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert "<h1>" not in text
    assert 'hx-trigger="every 2s"' in text
    assert "Reading and checking the rows: 40% of the file, 1234 rows so far." in text


def test_a_draft_can_be_discarded(browser, site):
    upload(browser, site)
    imp = the_import(site)
    response = browser.post(page(site, f"{imp.pk}/discard/"), follow=True)
    assert "Discarded members.csv: nothing was imported." in response.content.decode()
    with scope(site=site):
        assert not Import.objects.exists()


def test_an_assistant_may_not_import(site, assistant):
    client = Client()
    client.force_login(assistant)
    assert client.get(page(site)).status_code == 403
    assert client.get(page(site, "new/")).status_code == 403
    assert upload(client, site).status_code == 403


def test_another_sites_user_and_another_sites_import_are_not_found(site, other_site, other_owner, browser):
    upload(browser, site)
    imp = the_import(site)
    client = Client()
    client.force_login(other_owner)
    assert client.get(page(site)).status_code == 404
    assert client.get(page(site, f"{imp.pk}/")).status_code == 404
    for rest in (f"{imp.pk}/", f"{imp.pk}/errors.csv"):
        assert client.get(page(other_site, rest)).status_code == 404
    for rest in (f"{imp.pk}/preview/", f"{imp.pk}/start/", f"{imp.pk}/discard/"):
        assert client.post(page(other_site, rest), {"column_0": "email"}).status_code == 404
    assert the_import(site).status == "draft"
