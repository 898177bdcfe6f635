"""`flush` as the tables' owner, as `migrate` runs (creatorhub.rls.as_owner): emptying every table is
the schema owner's work, and the app role may not TRUNCATE (which row-level security does not filter)."""

from django.core.management.commands import flush

from creatorhub.rls import as_owner


class Command(flush.Command):
    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
