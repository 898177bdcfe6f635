# The usage models moved here from the activity app (activity 0004, usage 0001), but a database migrated
# before the move keeps the activity app's content types of them, and with them their permissions:
# stale rows the admin and the permission lists show as models that no longer exist. The usage app's own
# content types are made after each `migrate`, as for any model.

from django.db import migrations

MOVED = ["usagesnapshot", "overagecase", "overagecaseentry"]


def forget_moved_content_types(apps, schema_editor):
    """Their permissions, and the grants of those to users and groups, are deleted with them."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.using(schema_editor.connection.alias).filter(
        app_label="activity", model__in=MOVED
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("usage", "0002_snapshot_purchases_and_grants"),
        ("activity", "0004_usage_moves_to_the_usage_app"),
        # The models that refer to content types, so that the delete follows their foreign keys.
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        # Reversed, nothing to put back: the activity app has none of these models any more.
        migrations.RunPython(forget_moved_content_types, migrations.RunPython.noop),
    ]
