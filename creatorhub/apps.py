from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class CreatorHubConfig(AppConfig):
    name = "creatorhub"
    verbose_name = "CreatorHub"

    def ready(self):
        from creatorhub import rls, timestamps

        # PostgreSQL row-level security (no-ops elsewhere): the site of each query, and the policies.
        connection_created.connect(rls.install_wrapper, dispatch_uid="creatorhub.rls.wrapper")
        post_migrate.connect(rls.after_migrate, sender=self, dispatch_uid="creatorhub.rls.policies")
        connection_created.connect(timestamps.install_loader, dispatch_uid="creatorhub.timestamps.loader")
