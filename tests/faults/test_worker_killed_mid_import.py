"""Fault: the worker running a contact import is killed (SIGKILL) in the middle of writing the rows
(docs/architecture.md, "Imports"). Its transaction dies with it: not one contact, tag, consent event or
row error of the file is left. The task was acknowledged late, so once Redis's visibility timeout has
passed another worker takes it again and the import starts over and finishes, each row written once.

Redis here is a server of the test's own (tests/support/servers.py), with a visibility timeout of one
second (CELERY_VISIBILITY_TIMEOUT) so that the redelivery comes within the test.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django_scopes import scope

from contacts.imports.services import start_import, upload_import
from contacts.models import ConsentEvent, Contact, ContactTag, ImportRowError
from creatorhub.celery import app as celery_app
from creatorhub.rls import as_owner
from tests.factories import ContactFactory
from tests.support.live_worker import SmtpSink, Worker, broker_client, publishing_to_test_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ROWS = 30_000


def merging() -> bool:
    """Whether another session of the test database is writing an import's rows (its COPY or merge).
    Asked as the login user: the app role is not shown other sessions' queries."""
    with transaction.atomic(), as_owner(connection.alias), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE %s",
            ["%import_rows%"],
        )
        return cursor.fetchone()[0] > 0


def written(site):
    with scope(site=site):
        return (
            Contact.objects.count(),
            ConsentEvent.objects.count(),
            ContactTag.objects.count(),
            ImportRowError.objects.count(),
        )


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_starts_over(redis_server, settings, site):
    ContactFactory(site=site, email="ana@example.com", name="Ana")
    rows = "".join(f"p{n}@example.com,Person {n}\n" for n in range(ROWS))
    data = f"email,name\nANA@example.com,Ana Silva\n{rows}nope,Nobody\n".encode()
    env = {"MEDIA_ROOT": settings.MEDIA_ROOT, "CELERY_VISIBILITY_TIMEOUT": "1"}
    broker_client(redis_server.url)
    with SmtpSink() as sink, publishing_to_test_broker(celery_app, redis_server.url):
        worker = Worker(smtp_port=sink.port, redis_url=redis_server.url, env=env).start()
        try:
            with scope(site=site), transaction.atomic():  # the job is queued after commit
                imp = upload_import(
                    site,
                    file=SimpleUploadedFile("list.csv", data),
                    subscribe=True,
                    consent="Signed up at the workshop",
                    tags=["Spring"],
                )
                start_import(site, contact_import=imp)
            assert wait_for(merging, timeout=60, every=0.01), f"no merge seen: {worker.log.name}"
            worker.kill()
            killed_at = time.monotonic()
        finally:
            worker.stop()
        with scope(site=site):
            imp.refresh_from_db()
        assert imp.status == "running"
        assert written(site) == (1, 0, 0, 0)  # the one contact there before, untouched

        time.sleep(max(0.0, killed_at + 1.5 - time.monotonic()))  # past the visibility timeout
        worker = Worker(smtp_port=sink.port, redis_url=redis_server.url, env=env).start()
        try:

            def finished():
                with scope(site=site):
                    imp.refresh_from_db()
                return imp.status in ("done", "failed")

            assert wait_for(finished, timeout=60), f"the import was not taken again: {worker.log.name}"
        finally:
            worker.stop()
    assert (imp.status, imp.failure) == ("done", "")
    assert (imp.total, imp.created_count, imp.updated_count, imp.skipped_count) == (ROWS + 2, ROWS, 1, 1)
    # Every contact once, each raised to subscribed with one consent event and tagged once.
    assert written(site) == (ROWS + 1, ROWS + 1, ROWS + 1, 1)
    with scope(site=site):
        assert Contact.objects.get(email="ana@example.com").name == "Ana Silva"
