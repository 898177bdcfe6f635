"""The import job: queued after commit, runs in its site's scope, shows progress, writes everything in one
transaction (a failure leaves no contact, no tag, no consent event, no row error), does nothing twice,
and forgets the uploaded file once over. Files are limited in size; 50 MB files work."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_scopes import scope

from contacts.imports import merge, services
from contacts.imports.errors import ContactImportError
from contacts.models import ConsentEvent, Contact, ContactTag, Import, ImportRowError, Tag
from tests.contacts.importing import contact, run_text
from tests.factories import ContactFactory


def upload(site, text, **options):
    with scope(site=site):
        return services.upload_import(site, file=SimpleUploadedFile("list.csv", text.encode()), **options)


def test_starting_queues_the_job_after_commit_and_it_runs_in_the_sites_scope(
    site, django_capture_on_commit_callbacks
):
    imp = upload(site, "email\nana@example.com\n")
    assert imp.status == "draft"
    with django_capture_on_commit_callbacks(execute=True) as queued, scope(site=site):
        services.start_import(site, contact_import=imp)
    assert queued  # the job, then what it does after its own commit
    with scope(site=site):
        imp.refresh_from_db()
    assert (imp.status, imp.created_count, imp.progress) == ("done", 1, 100)
    assert contact(site, "ana@example.com").origin == "import"


def test_the_job_counts_rows_as_it_reads_them(site, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    seen = []
    real_merge = merge.merge

    def watching(*args, **kwargs):
        seen.append(Import.objects.with_scopes_disabled().values_list("status", "total", "progress").get())
        return real_merge(*args, **kwargs)

    monkeypatch.setattr(merge, "merge", watching)
    run_text(site, "email\n" + "".join(f"p{n}@example.com\n" for n in range(5)))
    ((status, total, progress),) = seen
    assert (status, total) == ("running", 4)
    assert 0 < progress < 100


def failing_merge(monkeypatch):
    """Makes the merge fail after it has written contacts: on PostgreSQL the statement that tags them,
    elsewhere the second batch of the ORM."""
    if connection.vendor == "postgresql":
        monkeypatch.setattr(merge, "CONTACT_TAGS", "SELECT 1 / 0")
        return
    real_batch, calls = merge._merge_batch, []

    def second_fails(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_batch(*args)

    monkeypatch.setattr(merge, "_merge_batch", second_fails)


def test_a_failing_job_leaves_nothing_half_imported(site, monkeypatch, django_capture_on_commit_callbacks):
    ContactFactory(site=site, email="p1@example.com", name="Before")
    failing_merge(monkeypatch)
    rows = "".join(f"p{n}@example.com,Person {n},Yoga\n" for n in range(merge.BATCH + 10))
    with (
        pytest.raises(Exception, match=r"division by zero|the database went away"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run_text(site, "email,name,tags\n" + rows + "bad,X,\n", subscribe=True, consent="Old list")
    with scope(site=site):
        imp = Import.objects.get()
        assert list(Contact.objects.values_list("email", "name", "subscription_status")) == [
            ("p1@example.com", "Before", "never_subscribed")
        ]
        assert not ConsentEvent.objects.exists()
        assert not Tag.objects.exists()
        assert not ContactTag.objects.exists()
        assert not ImportRowError.objects.exists()
    assert imp.status == "failed"
    assert imp.failure.startswith("The import stopped: ")
    assert (imp.created_count, imp.updated_count) == (0, 0)
    assert not imp.file  # the file is not kept


def test_running_again_does_nothing_once_done_and_starts_over_after_a_crash(site):
    imp = run_text(site, "email\nana@example.com\nnope\n")
    with scope(site=site):
        assert services.run_import(site, contact_import=imp).status == "done"
        assert (Contact.objects.count(), ImportRowError.objects.count()) == (1, 1)

    crashed = upload(site, "email\nben@example.com\nnope\n")
    with scope(site=site):
        services.start_import(site, contact_import=crashed, queue=False)
        Import.objects.filter(pk=crashed.pk).update(status="running", progress=40)  # the worker died
        again = services.run_import(site, contact_import=crashed)
        assert (again.status, again.created_count, again.skipped_count) == ("done", 1, 1)
        assert ImportRowError.objects.filter(contact_import=crashed).count() == 1


def test_the_uploaded_file_is_deleted_once_the_import_is_done(
    site, settings, django_capture_on_commit_callbacks
):
    imp = upload(site, "email\nana@example.com\n")
    path = imp.file.path
    assert os.path.exists(path)
    assert path.startswith(os.path.join(settings.MEDIA_ROOT, "imports"))
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.start_import(site, contact_import=imp, queue=False)
        services.run_import(site, contact_import=imp)
    with scope(site=site):
        imp.refresh_from_db()
    assert not imp.file
    assert not os.path.exists(path)


def test_a_draft_can_be_discarded_but_not_an_import_that_started(site, django_capture_on_commit_callbacks):
    draft = upload(site, "email\nana@example.com\n")
    path = draft.file.path
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.discard_import(site, contact_import=draft)
        assert not Import.objects.exists()
    assert not os.path.exists(path)
    done = run_text(site, "email\nben@example.com\n")
    with scope(site=site), pytest.raises(ContactImportError):
        services.discard_import(site, contact_import=done)


def test_a_started_import_cannot_start_again(site):
    imp = run_text(site, "email\nana@example.com\n")
    with scope(site=site), pytest.raises(ContactImportError, match="started already"):
        services.start_import(site, contact_import=imp)


def test_a_file_over_the_limit_is_refused_with_the_limit(site, settings):
    settings.IMPORT_MAX_BYTES = 2_000_000
    with pytest.raises(ContactImportError) as refused:
        upload(site, "email\n" + "a@example.com\n" * 200_000)
    assert refused.value.field == "file"
    assert refused.value.message == (
        "The file has 2.8 MB; an import takes up to 2 MB. Split it into smaller files."
    )


def test_another_sites_import_is_refused(site, other_site):
    imp = upload(site, "email\nana@example.com\n")
    with scope(site=other_site), pytest.raises(ContactImportError):
        services.start_import(other_site, contact_import=imp)


@pytest.mark.slow
def test_a_50_mb_file_is_imported(site, tmp_path):
    """About 50 MB: 100,000 rows of 500 bytes, a few of them bad."""
    path = tmp_path / "big.csv"
    note = "x" * 460
    with path.open("w") as file:
        file.write("Email,First Name,Last Name,Notes\n")
        for n in range(100_000):
            email = f"person{n}@example.com" if n % 10_000 else f"broken{n}"
            file.write(f"{email},First{n},Last,{note}\n")
    assert path.stat().st_size > 50_000_000
    with path.open("rb") as file, scope(site=site):
        imp = services.upload_import(site, file=SimpleUploadedFile("big.csv", file.read()))
        services.start_import(site, contact_import=imp, queue=False)
        imp = services.run_import(site, contact_import=imp)
    assert (imp.status, imp.total, imp.created_count, imp.skipped_count) == ("done", 100_000, 99_990, 10)
    with scope(site=site):
        assert Contact.objects.count() == 99_990
