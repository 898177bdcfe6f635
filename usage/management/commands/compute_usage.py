from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from usage.services import compute_all_usage


class Command(BaseCommand):
    help = (
        "Computes every site's usage (active customers against the plan) for a day, or backfills a "
        "range of days. Without dates: each site's last finished day, as the nightly task does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day to backfill")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day to backfill")
        parser.add_argument(
            "--only-missing", action="store_true", help="skip days a site already has (resume)"
        )

    def handle(self, *args, day=None, start=None, end=None, only_missing=False, **options):
        if day and (start or end):
            raise CommandError("Give --day, or --from and --to, not both.")
        if bool(start) != bool(end):
            raise CommandError("A backfill needs both --from and --to.")
        if start and start > end:
            raise CommandError("--from must not be after --to.")
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)] if start else [day]
        for one in days:
            result = compute_all_usage(day=one, only_missing=only_missing)
            label = one.isoformat() if one else "each site's last day"
            self.stdout.write(
                f"{label}: {result['computed']} computed, {result['skipped']} skipped, "
                f"{result['failed']} failed"
            )
            if result["failed"]:
                raise CommandError("Some sites failed: see the log.")
