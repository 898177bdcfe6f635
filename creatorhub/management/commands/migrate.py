"""`migrate` as the tables' owner: the application runs as DATABASE_APP_ROLE, a role that may not change
the schema, so migrations drop it for their session (creatorhub.rls.as_owner) and then give it its rights
on the tables they made (post_migrate). One environment serves every process."""

from django.core.management.commands import migrate

from creatorhub.rls import as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
