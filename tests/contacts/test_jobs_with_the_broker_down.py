"""A job started while the broker does not answer: the request that started it still answers (the job
was committed with it), and the job says it failed to start instead of waiting as queued for ever."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope
from kombu.exceptions import OperationalError

from contacts.models import BulkAction, Export, Import, JobStatus, SubscriptionStatus
from creatorhub.tasks import NOT_STARTED
from tests.factories import ContactFactory


@pytest.fixture
def broker_down():
    def down(task: str):
        return mock.patch(f"{task}.delay", side_effect=OperationalError("Connection refused"))

    return down


@pytest.fixture
def started(as_user, admin, site, django_capture_on_commit_callbacks):
    def post(path, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return as_user(admin).post(f"/api/v1/sites/{site.slug}/{path}", data, **kwargs)

    return post


def test_an_export_started_with_the_broker_down_fails_saying_so(
    as_user, admin, site, started, broker_down, caplog
):
    ContactFactory(site=site)
    with broker_down("audience.tasks.run_export_task"):
        response = started("exports/", {"segment": "all"}, format="json")
    assert response.status_code == 202
    shown = as_user(admin).get(response["Location"]).json()
    assert (shown["status"], shown["error"]) == ("failed", NOT_STARTED)
    with scope(site=site):
        assert Export.objects.get().status == JobStatus.FAILED
    assert "not queued: the broker failed" in caplog.text


def test_a_bulk_action_started_with_the_broker_down_fails_and_changes_nothing(
    as_user, admin, site, started, broker_down
):
    ContactFactory.create_batch(101, site=site, subscription_status=SubscriptionStatus.SUBSCRIBED)
    with broker_down("audience.tasks.run_bulk_action_task"):
        response = started("bulk-actions/", {"kind": "unsubscribe", "segment": "subscribed"}, format="json")
    assert response.status_code == 202
    assert as_user(admin).get(response["Location"]).json()["status"] == "failed"
    with scope(site=site):
        action = BulkAction.objects.get()
        assert (action.status, action.error, action.changed) == (JobStatus.FAILED, NOT_STARTED, 0)
        assert site.contacts.filter(subscription_status=SubscriptionStatus.SUBSCRIBED).count() == 101


def test_an_import_started_with_the_broker_down_fails_and_imports_nothing(
    as_user, admin, site, started, broker_down
):
    upload = SimpleUploadedFile("list.csv", b"Email\nana@example.com\n", content_type="text/csv")
    with broker_down("contacts.tasks.run_import_task"):
        response = started("imports/", {"file": upload})
    assert response.status_code == 202
    assert as_user(admin).get(response["Location"]).json()["status"] == "failed"
    with scope(site=site):
        assert Import.objects.get().failure == NOT_STARTED
        assert not site.contacts.exists()
