"""The activity app's content types of the models that moved to usage, and their permissions, are gone
after `migrate` (usage 0003); the activity app's own content types and the usage app's stay."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import UserFactory

# Migrating runs the schema editor, which SQLite refuses inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("usage", "0002_snapshot_purchases_and_grants")
AFTER = ("usage", "0003_forget_the_activity_apps_usage_content_types")
MOVED = ["overagecase", "overagecaseentry", "usagesnapshot"]


def migrate_to(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def activity_models():
    return sorted(ContentType.objects.filter(app_label="activity").values_list("model", flat=True))


def test_the_moved_models_leave_no_stale_content_type_or_permission_in_activity():
    migrate_to(BEFORE)
    # As a database migrated before the move holds them.
    for model in MOVED:
        stale = ContentType.objects.create(app_label="activity", model=model)
        Permission.objects.create(content_type=stale, codename=f"view_{model}", name=f"Can view {model}")
    granted = UserFactory()
    granted.user_permissions.set(Permission.objects.filter(content_type__app_label="activity"))
    assert activity_models() == ["activityevent", *MOVED]

    migrate_to(AFTER)

    assert activity_models() == ["activityevent"]
    assert not Permission.objects.filter(
        content_type__app_label="activity", codename__in=[f"view_{m}" for m in MOVED]
    )
    assert {p.content_type.model for p in granted.user_permissions.all()} == {"activityevent"}
    usage = ContentType.objects.filter(app_label="usage").values_list("model", flat=True)
    assert sorted(usage) == MOVED


def test_migrating_back_over_it_changes_nothing():
    content_types = list(ContentType.objects.order_by("pk").values_list("app_label", "model"))
    migrate_to(BEFORE)
    assert list(ContentType.objects.order_by("pk").values_list("app_label", "model")) == content_types
    migrate_to(AFTER)
