from decimal import Decimal

from django.db import migrations

PLANS = [
    ("Basic", 10_000, 1_000, Decimal("149.00")),
    ("Growth", 25_000, 10_000, Decimal("199.00")),
    ("Pro", 100_000, 20_000, Decimal("399.00")),
]


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("creatorhub", "Plan")
    for name, contacts, active_customers, price in PLANS:
        Plan.objects.get_or_create(name=name, defaults={
            "contact_limit": contacts, "active_customer_limit": active_customers, "price": price})


class Migration(migrations.Migration):
    dependencies = [("creatorhub", "0001_initial")]
    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
