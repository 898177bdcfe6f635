"""Exports: any segment to CSV as a job, with its download behind the site's scope."""

import csv
import io

import pytest
from django.utils import timezone
from django_scopes import scope

from contacts import services
from contacts.models import Export, SubscriptionStatus
from tests.factories import ContactFactory


def api(site, rest=""):
    return f"/api/v1/sites/{site.slug}/exports/{rest}"


def rows_of(response) -> list[dict]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


@pytest.fixture
def people(site):
    with scope(site=site):
        ana = ContactFactory(
            site=site,
            email="ana@example.net",
            name="Ana",
            subscription_status=SubscriptionStatus.SUBSCRIBED,
            fields={"city": "Lisbon"},
        )
        services.add_tags(site, contact=ana, names=["VIP", "yoga"])
        ContactFactory(site=site, email="ben@example.net", name="=HYPERLINK(1)", is_customer=True)
        ContactFactory(site=site, email="cy@example.net", last_activity_at=timezone.now())


@pytest.fixture
def jobs_run(django_capture_on_commit_callbacks):
    """Runs the client's POST and then, as on commit in production, the export job (Celery is eager)."""

    def post(client, path, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data, **kwargs)

    return post


def test_a_segment_is_exported_to_csv_with_tags_and_custom_fields(as_user, admin, site, people, jobs_run):
    client = as_user(admin)
    response = jobs_run(client, api(site), {"segment": "subscribed"}, format="json")
    assert response.status_code == 202
    export = client.get(response["Location"]).json()
    assert (export["status"], export["total"], export["written"]) == ("done", 1, 1)
    download = client.get(export["download_url"])
    assert download["Content-Disposition"].startswith('attachment; filename="ana-yoga-contacts-')
    assert rows_of(download) == [
        {
            "email": "ana@example.net",
            "name": "Ana",
            "subscription_status": "subscribed",
            "unsubscribe_reason": "",
            "is_customer": "no",
            "tags": "VIP, yoga",
            "created_at": rows_of(client.get(export["download_url"]))[0]["created_at"],
            "last_activity_at": "",
            "field:city": "Lisbon",
        }
    ]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(as_user, admin, site, people, jobs_run):
    client = as_user(admin)
    response = jobs_run(client, api(site), {"segment": "customers"}, format="json")
    export = client.get(response["Location"]).json()
    assert rows_of(client.get(export["download_url"]))[0]["name"] == "'=HYPERLINK(1)"


def test_chosen_contacts_and_filters_are_exported(as_user, admin, site, people, jobs_run):
    client = as_user(admin)
    filters = {"all": [{"field": "last_activity", "op": "never"}]}
    response = jobs_run(client, api(site), {"filters": filters, "search": "example"}, format="json")
    export = client.get(response["Location"]).json()
    assert sorted(r["email"] for r in rows_of(client.get(export["download_url"]))) == [
        "ana@example.net",
        "ben@example.net",
    ]


def test_the_export_page_starts_an_export_and_offers_the_download(client, admin, site, people, jobs_run):
    client.force_login(admin)
    response = jobs_run(client, f"/app/{site.slug}/exports/new/", {"segment": "all", "q": "ana"})
    with scope(site=site):
        export = Export.objects.get()
    assert response["Location"] == f"/app/{site.slug}/exports/{export.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "1 of 1 contact written" in page
    assert f"/app/{site.slug}/exports/{export.pk}/download/" in page
    download = client.get(f"/app/{site.slug}/exports/{export.pk}/download/")
    assert [r["email"] for r in rows_of(download)] == ["ana@example.net"]
    assert "the segment “All” matching “ana”" in client.get(f"/app/{site.slug}/exports/").content.decode()


def test_bad_filters_refuse_the_export(as_user, admin, site):
    response = as_user(admin).post(api(site), {"filters": {"all": [{"field": "nope"}]}}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["filters"][0].startswith("Filter 1: unknown field")


def test_an_assistant_may_not_export(as_user, assistant, client, site):
    assert as_user(assistant).post(api(site), {"segment": "all"}, format="json").status_code == 403
    client.force_login(assistant)
    assert client.post(f"/app/{site.slug}/exports/new/", {"segment": "all"}).status_code == 403


def test_another_sites_export_and_its_file_are_a_404(
    as_user, admin, other_owner, client, site, other_site, jobs_run
):
    ContactFactory(site=other_site)
    theirs = jobs_run(as_user(other_owner), api(other_site), {"segment": "all"}, format="json").json()
    mine = as_user(admin)
    assert mine.get(api(site, f"{theirs['id']}/")).status_code == 404
    assert mine.get(api(site, f"{theirs['id']}/download/")).status_code == 404
    client.force_login(admin)
    assert client.get(f"/app/{site.slug}/exports/{theirs['id']}/download/").status_code == 404
    assert client.get(f"/app/{site.slug}/exports/{theirs['id']}/").status_code == 404
