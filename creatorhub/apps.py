from django.apps import AppConfig
from django.core.checks import Tags, register
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class CreatorHubConfig(AppConfig):
    name = "creatorhub"
    verbose_name = "CreatorHub"

    def ready(self):
        from creatorhub import checks, rls, timestamps

        # PostgreSQL row-level security (no-ops elsewhere): the site of each query, the policies, and
        # `check --deploy` proving that they bind the role the application runs as (a warning on SQLite).
        connection_created.connect(rls.install_wrapper, dispatch_uid="creatorhub.rls.wrapper")
        post_migrate.connect(rls.after_migrate, sender=self, dispatch_uid="creatorhub.rls.policies")
        register(checks.row_level_security, Tags.database, Tags.security, deploy=True)
        connection_created.connect(timestamps.install_loader, dispatch_uid="creatorhub.timestamps.loader")
