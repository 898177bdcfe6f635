# UsageSnapshot, OverageCase and OverageCaseEntry now belong to the usage app (usage 0001), on the same
# tables: the activity app forgets them, and the database is left as it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0003_events_outlive_deleted_contacts"),
        ("usage", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="OverageCaseEntry"),
                migrations.DeleteModel(name="OverageCase"),
                migrations.DeleteModel(name="UsageSnapshot"),
            ],
        ),
    ]
