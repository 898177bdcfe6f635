"""The check step says what an import will do before anything is written: per status, how many contacts
will be created and updated (and how many change status), with a sample of each, and the rows skipped.
The finished import's page and the API's import carry the same figures."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scope

from contacts.imports import selectors, services
from contacts.models import ConsentEvent, Contact, Import
from tests.contacts.importing import EXPORTS, run_text
from tests.contacts.test_import_rules import with_status

UNSUBSCRIBED_EXPORT = "mailchimp_unsubscribed_members_export_bd91baeb6f.csv"
MIXED = (
    "email,status\n"
    "fan@example.com,unsubscribed\n"  # existing and subscribed: lowered
    "gone@example.com,subscribed\n"  # existing and opted out: stays so
    "new1@example.com,subscribed\n"
    "new2@example.com,cleaned\n"
    "new3@example.com,\n"
    "new4@example.com,complained\n"
    "odd@example.com,perhaps\n"  # skipped
    "not-an-email,subscribed\n"  # skipped
)


@pytest.fixture
def browser(admin):
    client = Client()
    client.force_login(admin)
    return client


def draft(site, name, data: bytes, **options):
    with scope(site=site):
        return services.upload_import(
            site, file=SimpleUploadedFile(name, data, content_type="text/csv"), **options
        )


def figures(lines):
    return {
        (line["status"], line["reason"]): (line["created"], line["updated"], line["status_changed"])
        for line in lines
    }


def test_the_forecast_is_what_the_import_then_does(site):
    with_status(site, "fan@example.com", "subscribed")
    with_status(site, "gone@example.com", "unsubscribed", "opted_out")
    imp = draft(site, "list.csv", MIXED.encode(), subscribe=True, consent="Old list")
    with scope(site=site):
        forecast = selectors.forecast(imp, targets=imp.mapping)
        assert Contact.objects.count() == 2  # nothing written
        assert not ConsentEvent.objects.filter(source="import").exists()
        services.start_import(site, contact_import=imp, queue=False)
        done = services.run_import(site, contact_import=imp)
    assert forecast.tally.figures() == done.outcome
    assert (forecast.total, forecast.skipped) == (done.total, done.skipped_count) == (8, 2)
    assert figures(done.outcome)[("unsubscribed", "opted_out")] == (0, 2, 1)
    assert figures(done.outcome)[("subscribed", None)] == (2, 0, 0)
    assert figures(done.outcome)[("unsubscribed", "bounced")] == (1, 0, 0)
    assert [row.row for row in forecast.skipped_rows] == [8, 9]
    assert [row.email for row in forecast.tally.examples[("subscribed", None)]] == [
        "new1@example.com",
        "new3@example.com",
    ]


def test_the_check_page_counts_a_mailchimp_unsubscribed_export_before_importing(browser, site):
    with_status(site, "u1@example.com", "subscribed")
    response = browser.post(
        f"/app/{site.slug}/imports/new/",
        {"file": SimpleUploadedFile(UNSUBSCRIBED_EXPORT, (EXPORTS / UNSUBSCRIBED_EXPORT).read_bytes())},
    )
    assert response.status_code == 302
    page = browser.get(response["Location"])
    text = page.content.decode()
    assert "What the import will do" in text
    assert "4 rows: 3 new contacts, 1 existing contact updated, 0 rows skipped." in text
    assert '<option value="opted_out" selected>Unsubscribed</option>' in text
    opted_out = re.search(r'<tr class="outcome-unsubscribed outcome-opted_out">(.*?)</tr>', text, re.S)[1]
    assert 'data-label="New contacts">2<' in opted_out
    assert 'data-label="Existing contacts">1<' in opted_out
    assert 'data-label="Of which change status">1<' in opted_out
    assert "row 2: u1@example.com" in opted_out
    manual = re.search(r'<tr class="outcome-unsubscribed outcome-manual">(.*?)</tr>', text, re.S)[1]
    assert "row 3: u2@example.com" in manual
    with scope(site=site):
        assert Contact.objects.get(email="u1@example.com").subscription_status == "subscribed"  # not yet


def test_the_forecast_follows_the_mapping_as_it_is_changed(browser, site):
    imp = draft(site, "list.csv", b"email,state\na@example.com,bounced\nb@example.com,subscribed\n")
    assert imp.mapping == ["email", "status"]
    response = browser.post(
        f"/app/{site.slug}/imports/{imp.pk}/preview/",
        {"column_0": "email", "column_1": "field:state"},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert 'class="outcome-unsubscribed outcome-bounced"' not in text
    assert "2 rows: 2 new contacts" in text


def test_what_the_file_says_of_everyone_can_be_chosen_on_the_check_page(
    browser, site, django_capture_on_commit_callbacks
):
    """Mailchimp's nonsubscribed export, renamed: it reads as the subscribed one until the creator says
    who is in it; the count follows, and the import keeps what was chosen."""
    renamed = (EXPORTS / "mailchimp_nonsubscribed_email_audience_export_0b7f5393a7.csv").read_bytes()
    imp = draft(site, "transactional.csv", renamed, subscribe=True, consent="Old list")
    assert imp.everyone == ""
    columns = {f"column_{n}": target for n, target in enumerate(imp.mapping)}
    path = f"/app/{site.slug}/imports/{imp.pk}/"
    before = browser.post(path + "preview/", columns, HTTP_HX_REQUEST="true").content.decode()
    assert 'class="outcome-subscribed"' in before
    after = browser.post(
        path + "preview/", {**columns, "everyone": "never_subscribed"}, HTTP_HX_REQUEST="true"
    )
    assert 'class="outcome-never_subscribed"' in after.content.decode()
    assert 'class="outcome-subscribed"' not in after.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after commit (Celery is eager)
        assert browser.post(path + "start/", {**columns, "everyone": "never_subscribed"}).status_code == 302
    with scope(site=site):
        assert Import.objects.get().everyone == "never_subscribed"
        assert Contact.objects.get().subscription_status == "never_subscribed"


def test_the_finished_import_shows_and_serves_its_outcome(browser, site, as_user, admin):
    with_status(site, "fan@example.com", "subscribed")
    with_status(site, "gone@example.com", "unsubscribed", "opted_out")
    imp = run_text(site, MIXED, subscribe=True, consent="Old list")
    text = browser.get(f"/app/{site.slug}/imports/{imp.pk}/").content.decode()
    lowered = re.search(r'<tr class="outcome-unsubscribed outcome-opted_out">(.*?)</tr>', text, re.S)[1]
    assert 'data-label="Existing contacts">2<' in lowered
    assert 'data-label="Of which change status">1<' in lowered
    body = as_user(admin).get(f"/api/v1/sites/{site.slug}/imports/{imp.pk}/").json()
    assert body["outcome"] == imp.outcome
    assert {
        "status": "subscribed",
        "reason": None,
        "label": "Subscribed",
        "created": 2,
        "updated": 0,
        "status_changed": 0,
    } in body["outcome"]


def test_the_api_takes_what_the_file_says_of_everyone(
    as_user, admin, site, django_capture_on_commit_callbacks
):
    with_status(site, "left@example.org", "subscribed")
    client = as_user(admin)
    upload = SimpleUploadedFile("unsubscribed.csv", b"Email\nleft@example.org\nnew@example.org\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/sites/{site.slug}/imports/", {"file": upload, "everyone": "bounced"})
    assert response.status_code == 202, response.content
    assert response.json()["everyone"] == "bounced"
    with scope(site=site):
        assert set(Contact.objects.values_list("email", "unsubscribe_reason")) == {
            ("left@example.org", "bounced"),
            ("new@example.org", "bounced"),
        }


def test_the_api_refuses_an_unknown_statement_of_everyone(as_user, admin, site):
    upload = SimpleUploadedFile("list.csv", b"Email\nleft@example.org\n")
    response = as_user(admin).post(
        f"/api/v1/sites/{site.slug}/imports/", {"file": upload, "everyone": "gone"}
    )
    assert response.status_code == 400
    assert response.json()["fields"]["everyone"] == ['"gone" is not a valid choice.']
    with scope(site=site):
        assert not Import.objects.exists()


def test_another_sites_draft_has_no_check_page(browser, site, other_site):
    imp = draft(other_site, "list.csv", MIXED.encode())
    assert browser.get(f"/app/{site.slug}/imports/{imp.pk}/").status_code == 404
    response = browser.post(
        f"/app/{site.slug}/imports/{imp.pk}/preview/", {"column_0": "email", "column_1": "status"}
    )
    assert response.status_code == 404
