"""Indexes for the site's Overview: the grants of the last 60 days, and the grant jobs running now."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="access",
            index=models.Index(
                condition=models.Q(("source", "grant")),
                fields=["site", "-created_at", "-id"],
                name="access_site_granted",
            ),
        ),
        migrations.AddIndex(
            model_name="grantjob",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=["site", "-created_at", "-id"],
                name="grantjob_site_unfinished",
            ),
        ),
    ]
