"""An export's file: kept EXPORT_FILES_KEPT_DAYS, deleted with any contact it may hold, and
stored in a directory or in S3-compatible object storage, where it is downloaded through a signed link."""

import csv
import io
from datetime import datetime, timedelta

import pytest
import requests
import time_machine
from django.core.files.storage import FileSystemStorage, default_storage
from django_scopes import scope

from contacts import export_files
from contacts.models import Contact, Export
from creatorhub.env import envfilestorage
from tests import object_storage
from tests.contacts.importing import errors_of, run_text
from tests.factories import ContactFactory


def api(site, rest=""):
    return f"/api/v1/sites/{site.slug}/exports/{rest}"


@pytest.fixture
def export_all(as_user, admin, site, django_capture_on_commit_callbacks):
    """Exports every contact of the site through the API, its job run as on commit in production; returns
    the export as the API shows it."""

    def run() -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            response = as_user(admin).post(api(site), {"segment": "all"}, format="json")
        return as_user(admin).get(response["Location"]).json()

    return run


def file_of(site, export: dict) -> str:
    with scope(site=site):
        return Export.objects.get(pk=export["id"]).file.name


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_an_exports_file_is_kept_seven_days_then_deleted(as_user, admin, client, site, export_all):
    ContactFactory(site=site, email="ana@example.net")
    export = export_all()
    name = file_of(site, export)
    assert at(export["expires_at"]) == at(export["finished_at"]) + timedelta(days=7)

    assert export_files.delete_expired_files(now=at(export["finished_at"]) + timedelta(days=6, hours=23)) == 0
    assert default_storage.exists(name)
    assert export_files.delete_expired_files(now=at(export["finished_at"]) + timedelta(days=7)) == 1

    assert not default_storage.exists(name)
    after = as_user(admin).get(api(site, f"{export['id']}/")).json()
    assert (after["download_url"], after["file_deleted_because"]) == (None, "expired")
    assert as_user(admin).get(api(site, f"{export['id']}/download/")).status_code == 404
    client.force_login(admin)
    assert client.get(f"/app/{site.slug}/exports/{export['id']}/download/").status_code == 404
    page = client.get(f"/app/{site.slug}/exports/{export['id']}/").content.decode()
    assert "The file was deleted on" in page
    assert "files are kept 7 days" in page


def test_a_file_lost_from_storage_is_a_404_that_says_so_not_a_server_error(
    as_user, admin, client, site, export_all
):
    ContactFactory(site=site, email="ana@example.net")
    export = export_all()
    default_storage.delete(file_of(site, export))  # gone outside the product

    response = as_user(admin).get(api(site, f"{export['id']}/download/"))

    assert response.status_code == 404
    assert "missing" in response.json()["message"]
    client.force_login(admin)
    assert client.get(f"/app/{site.slug}/exports/{export['id']}/download/").status_code == 404


def test_how_long_files_are_kept_is_a_setting(settings, site, export_all):
    settings.EXPORT_FILES_KEPT_DAYS = 2
    ContactFactory(site=site)
    export = export_all()
    assert at(export["expires_at"]) == at(export["finished_at"]) + timedelta(days=2)


def test_the_sweep_removes_a_file_whose_removal_failed_before(site, export_all, monkeypatch):
    ContactFactory(site=site)
    export = export_all()
    name = file_of(site, export)
    with monkeypatch.context() as failing:
        failing.setattr(FileSystemStorage, "delete", lambda storage, name: 1 / 0)
        assert export_files.delete_expired_files(now=at(export["expires_at"])) == 1
    assert default_storage.exists(name), "the storage failed: the file is still there…"
    assert export_files.delete_expired_files(now=at(export["expires_at"])) == 0
    assert not default_storage.exists(name), "…and the next sweep removes it"


def test_deleting_a_contact_deletes_the_export_files_that_may_hold_them(
    as_user, admin, client, site, export_all, django_capture_on_commit_callbacks
):
    ContactFactory(site=site, email="old@example.net")
    with time_machine.travel(datetime.now().astimezone() - timedelta(days=2)):
        before_ana = export_all()
    ana = ContactFactory(site=site, email="Ana@Example.net")
    holding_ana = export_all()
    names = {export["id"]: file_of(site, export) for export in (before_ana, holding_ana)}

    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/app/{site.slug}/contacts/{ana.pk}/delete/").status_code == 302

    assert not default_storage.exists(names[holding_ana["id"]])
    assert default_storage.exists(names[before_ana["id"]]), "written before Ana was added: kept"
    gone = as_user(admin).get(api(site, f"{holding_ana['id']}/")).json()
    assert (gone["download_url"], gone["file_deleted_because"]) == (None, "contact_deleted")
    assert (
        "a contact it may hold was deleted"
        in client.get(f"/app/{site.slug}/exports/{holding_ana['id']}/").content.decode()
    )
    assert as_user(admin).get(api(site, f"{before_ana['id']}/")).json()["download_url"]


def test_deleting_a_contact_leaves_another_sites_export_files_alone(
    client, admin, site, other_site, django_capture_on_commit_callbacks
):
    from audience.services import exports

    ContactFactory(site=other_site, email="ana@example.net")
    with scope(site=other_site):
        theirs = exports.start_export(other_site, selection={"segment": "all"})
        exports.run_export(other_site, export=theirs)
    ana = ContactFactory(site=site, email="ana@example.net")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/app/{site.slug}/contacts/{ana.pk}/delete/")
    with scope(site=other_site):
        theirs.refresh_from_db()
    assert theirs.file_deleted_at is None
    assert default_storage.exists(theirs.file.name)


def test_deleting_a_contact_deletes_the_import_errors_that_name_them(client, admin, site):
    imported = run_text(site, "email\nana@example.net\nbo@example.net\nANA@example.net\nbo@example.net\n")
    assert [row for row, _, _ in errors_of(imported)] == [4, 5]
    with scope(site=site):
        ana = Contact.objects.get(email="ana@example.net")
    client.force_login(admin)
    client.post(f"/app/{site.slug}/contacts/{ana.pk}/delete/")
    assert errors_of(imported) == [
        (5, "email", "bo@example.net is also on row 3: row 3 was imported, not this one.")
    ]


# -- S3-compatible object storage --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    with object_storage.s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(settings, monkeypatch, s3_endpoint):
    """Files go to a new bucket of the S3 server, configured as an operator would (FILE_STORAGE=s3…)."""
    bucket = object_storage.new_bucket(s3_endpoint)
    for name, value in object_storage.environment(s3_endpoint, bucket).items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": envfilestorage("FILE_STORAGE", link_seconds=60)}
    return bucket


def test_with_object_storage_an_import_and_an_export_go_through_the_bucket(
    s3, s3_endpoint, as_user, admin, site, export_all, django_capture_on_commit_callbacks
):
    upload = io.BytesIO(b"email,name\nana@example.net,Ana\nbo@example.net,Bo\n")
    upload.name = "people.csv"
    client = as_user(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/sites/{site.slug}/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    assert client.get(response["Location"]).json()["created"] == 2
    assert object_storage.keys(s3_endpoint, s3) == [], "the upload is deleted once imported"

    export = export_all()
    assert object_storage.keys(s3_endpoint, s3) == [file_of(site, export)]
    download = client.get(export["download_url"])
    assert download.status_code == 302
    assert download["Cache-Control"] == "no-store"
    link = download["Location"]
    assert link.startswith(f"{s3_endpoint}/{s3}/exports/")
    assert "Signature=" in link or "X-Amz-Signature=" in link

    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Disposition"].startswith('attachment; filename="ana-yoga-contacts-')
    rows = list(csv.DictReader(io.StringIO(fetched.content.decode("utf-8-sig"))))
    assert sorted(row["email"] for row in rows) == ["ana@example.net", "bo@example.net"]
    unsigned = requests.get(link.split("?")[0], timeout=10)
    assert unsigned.status_code == 403, "the file is never public"


def test_with_object_storage_an_expired_file_is_deleted_from_the_bucket(s3, s3_endpoint, site, export_all):
    ContactFactory(site=site)
    export = export_all()
    assert len(object_storage.keys(s3_endpoint, s3)) == 1
    assert export_files.delete_expired_files(now=at(export["expires_at"])) == 1
    assert object_storage.keys(s3_endpoint, s3) == []
