from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("emails", "0004_outbox_next_attempt")]

    operations = [
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(
                fields=["site", "status", "-created_at", "-id"], name="outboundemail_site_status"
            ),
        ),
    ]
