"""The imports API: POST a CSV → 202 with the import's URL; the import shows status, total,
created, updated, skipped, errors (row, column, message) and progress; the error report as CSV; bad input
is a 400 with field errors; `imports:run` is needed (403); another site's imports are not found (404)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from contacts.models import ConsentEvent, Contact, Import
from creatorhub import services as core_services
from creatorhub.roles import Role
from tests.contacts.importing import contact, run_text

FILE = "Email,Name,Tags\nana@example.com,Ana,Yoga\nnope,X,\nben@example.com,Ben,\n"


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/imports/{rest}"


def csv_file(text=FILE, name="list.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def admin_client(as_user, admin):
    return as_user(admin)


def test_posting_a_file_answers_202_with_the_imports_url_and_the_job_runs(
    admin_client, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url(site), {"file": csv_file(), "tags": ["Spring, Import", "VIP"]})
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver{url(site, str(body['id']) + '/')}"
    assert body["status"] == "queued"  # the job runs after commit
    assert body["tags"] == ["Spring", "Import", "VIP"]

    detail = admin_client.get(body["url"]).json()
    assert {key: detail[key] for key in ("status", "total", "created", "updated", "skipped", "progress")} == {
        "status": "done",
        "total": 3,
        "created": 2,
        "updated": 0,
        "skipped": 1,
        "progress": 100,
    }
    assert detail["errors"] == [
        {"row": 3, "column": "Email", "message": "“nope” is not a valid email address."}
    ]
    assert detail["mapping"][0] == {"column": "Email", "to": "email", "label": "Email"}
    assert (detail["encoding"], detail["delimiter"], detail["filename"]) == ("utf-8", ",", "list.csv")
    assert detail["created_by"] == "admin@ana-yoga.example"
    assert sorted(tag.name for tag in contact(site, "ana@example.com").tags.all()) == [
        "Import",
        "Spring",
        "VIP",
        "Yoga",
    ]

    report = admin_client.get(detail["error_report"])
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows == [["row", "column", "message"], ["3", "Email", "“nope” is not a valid email address."]]


def test_an_api_key_imports_with_a_stated_consent(
    api_client, site, owner, django_capture_on_commit_callbacks
):
    with scope(site=site):
        key, secret = core_services.create_api_key(site, name="Migration", role=Role.ADMIN, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            url(site),
            {"file": csv_file(), "subscribe": "true", "consent": "Subscribed on our old Mailchimp list"},
        )
    assert response.status_code == 202, response.content
    with scope(site=site):
        event = ConsentEvent.objects.get(contact__email="ana@example.com")
        assert (event.source, event.note, event.actor_api_key) == (
            "import",
            "Subscribed on our old Mailchimp list",
            key,
        )
        assert Import.objects.get().created_by_api_key == key


def test_a_mapping_names_the_columns_by_header(admin_client, site, django_capture_on_commit_callbacks):
    text = "E-post;Namn;Telefon;Anteckning\nana@example.com;Ana Silva;+46 70 123;VIP\n"
    mapping = '{"E-post": "email", "Namn": "name", "Telefon": "field:phone", "Anteckning": "skip"}'
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url(site), {"file": csv_file(text), "mapping": mapping})
    assert response.status_code == 202, response.content
    assert [column["to"] for column in response.json()["mapping"]] == ["email", "name", "field:phone", "skip"]
    ana = contact(site, "ana@example.com")
    assert (ana.name, ana.fields) == ("Ana Silva", {"phone": "+46 70 123"})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"subscribe": "true"},
            "consent",
            "Say how the people in this file agreed to receive marketing emails.",
        ),
        ({"mapping": '{"Phone": "email"}'}, "mapping", "The file has no column named 'Phone'"),
        ({"mapping": '{"Email": "skip"}'}, "mapping", "Choose the column that holds the email addresses."),
        ({"mapping": '{"Name": "email"}'}, "mapping", "Only one column can become Email"),
        ({"mapping": '{"Name": "nickname"}'}, "mapping", "The column “Name” cannot become 'nickname'"),
        ({"mapping": "[1, 2]"}, "mapping", "Give a JSON object of column name to target."),
        ({"colour": "blue"}, "colour", "This field is not known."),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_keeps_nothing(admin_client, site, data, field, message):
    response = admin_client.post(url(site), {"file": csv_file(), **data})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"][field][0].startswith(message), body
    with scope(site=site):
        assert not Import.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "No file was submitted."),
        (SimpleUploadedFile("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00"), "This is not a CSV text file"),
        (SimpleUploadedFile("empty.csv", b""), "The submitted file is empty."),
    ],
)
def test_a_file_that_is_not_a_csv_is_a_400(admin_client, site, upload, message):
    response = admin_client.post(url(site), {"file": upload} if upload else {})
    assert response.status_code == 400
    assert response.json()["fields"]["file"][0].startswith(message)


def test_a_file_over_the_limit_is_a_400_that_says_the_limit(admin_client, site, settings):
    settings.IMPORT_MAX_BYTES = 1_000_000
    response = admin_client.post(url(site), {"file": csv_file("email\n" + "ana@example.com\n" * 100_000)})
    assert response.status_code == 400
    assert response.json()["fields"]["file"] == [
        "The file has 1.6 MB; an import takes up to 1 MB. Split it into smaller files."
    ]


def test_the_list_is_newest_first_and_paged_by_cursor(admin_client, site):
    for n in range(3):
        run_text(site, f"email\np{n}@example.com\n")
    first = admin_client.get(url(site), {"page_size": 2}).json()
    assert [imp["total"] for imp in first["results"]] == [1, 1]
    assert first["next"]
    assert "errors" not in first["results"][0]
    second = admin_client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    ids = [imp["id"] for imp in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)


def test_an_assistant_may_not_import(as_user, assistant, site):
    client = as_user(assistant)
    assert client.post(url(site), {"file": csv_file()}).status_code == 403
    assert client.get(url(site)).status_code == 403


def test_an_assistants_api_key_may_not_import(api_client, site, owner):
    with scope(site=site):
        _, secret = core_services.create_api_key(site, name="Reader", role=Role.ASSISTANT, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.post(url(site), {"file": csv_file()}).status_code == 403


def test_anonymous_callers_are_refused(api_client, site):
    assert api_client.post(url(site), {"file": csv_file()}).status_code in (401, 403)


def test_another_sites_user_and_another_sites_import_are_not_found(as_user, site, other_site, other_owner):
    imp = run_text(site, FILE)
    client = as_user(other_owner)
    assert client.get(url(site)).status_code == 404
    assert client.post(url(site), {"file": csv_file()}).status_code == 404
    assert client.get(url(site, f"{imp.pk}/")).status_code == 404
    # On their own site, this site's import id is not found either.
    assert client.get(url(other_site, f"{imp.pk}/")).status_code == 404
    assert client.get(url(other_site, f"{imp.pk}/report/")).status_code == 404
    with scope(site=other_site):
        assert not Contact.objects.exists()


def test_the_error_report_never_hands_a_spreadsheet_a_formula(
    admin_client, site, django_capture_on_commit_callbacks
):
    text = '"=HYPERLINK(""http://evil.example"",""x"")",Name\n@SUM(1),X\n'
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url(site),
            {"file": csv_file(text), "mapping": '{"=HYPERLINK(\\"http://evil.example\\",\\"x\\")": "email"}'},
        )
    assert response.status_code == 202, response.content
    report = admin_client.get(response.json()["url"] + "report/")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[1] == [
        "2",
        '\'=HYPERLINK("http://evil.example","x")',
        "“@SUM(1)” is not a valid email address.",
    ]
