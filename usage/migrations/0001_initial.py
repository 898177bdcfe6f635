# The usage models move here from the activity app. Their tables stay where they are (`db_table`), so
# this only tells Django's state that the usage app owns them; activity 0004 forgets them after this.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('activity', '0003_events_outlive_deleted_contacts'),
        ('creatorhub', '0002_seed_plans'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OverageCase',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('open', 'Open'), ('contacted', 'Contacted'), ('resolved', 'Resolved')], default='open', max_length=20)),
                        ('outcome', models.CharField(blank=True, choices=[('upgraded', 'Upgraded'), ('allowance', 'Allowance granted'), ('back_under', 'Back under the limit')], max_length=20)),
                        ('opened_on', models.DateField()),
                        ('last_over_on', models.DateField()),
                        ('active_customers', models.PositiveIntegerField(help_text='On the latest day computed.')),
                        ('peak_active_customers', models.PositiveIntegerField()),
                        ('active_customer_limit', models.PositiveIntegerField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='creatorhub.site')),
                    ],
                    options={
                        'db_table': 'activity_overagecase',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.UniqueConstraint(models.F('site'), condition=models.Q(('status', 'resolved'), _negated=True), name='overagecase_one_unresolved_per_site')],
                    },
                ),
                migrations.CreateModel(
                    name='OverageCaseEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('text', models.TextField()),
                        ('from_status', models.CharField(blank=True, choices=[('open', 'Open'), ('contacted', 'Contacted'), ('resolved', 'Resolved')], max_length=20)),
                        ('to_status', models.CharField(blank=True, choices=[('open', 'Open'), ('contacted', 'Contacted'), ('resolved', 'Resolved')], max_length=20)),
                        ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='usage.overagecase')),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='creatorhub.site')),
                    ],
                    options={
                        'db_table': 'activity_overagecaseentry',
                        'ordering': ['at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='UsageSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('active_customers', models.PositiveIntegerField()),
                        ('customers', models.PositiveIntegerField()),
                        ('contacts', models.PositiveIntegerField()),
                        ('active_customer_limit', models.PositiveIntegerField()),
                        ('contact_limit', models.PositiveIntegerField()),
                        ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='creatorhub.site')),
                    ],
                    options={
                        'db_table': 'activity_usagesnapshot',
                        'ordering': ['-day'],
                        'constraints': [models.UniqueConstraint(models.F('site'), models.F('day'), name='usagesnapshot_unique_day')],
                    },
                ),
            ],
        ),
    ]
