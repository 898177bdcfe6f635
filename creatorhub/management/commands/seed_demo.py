"""Demo data: plans, two sites, one user per role on the first, a support user, then each app's own
demo (its `demo.seed(sites, team, stdout)`, in INSTALLED_APPS order). Safe to run again.

Its logins have a published password: it runs only with DEBUG on (development) or with `--demo`, for a
deployment that is a demo on purpose."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from creatorhub.models import Membership, Plan, Site, User
from creatorhub.roles import Role
from creatorhub.tenancy import platform_wide

DEMO_PASSWORD = "creatorhub-demo"

SITES = [("ana-yoga", "Ana's Yoga Studio", "Growth"), ("ben-codes", "Ben Codes", "Basic")]
TEAM = [
    ("owner@example.com", "Olivia Owner", [("ana-yoga", Role.OWNER), ("ben-codes", Role.OWNER)]),
    ("admin@example.com", "Adam Admin", [("ana-yoga", Role.ADMIN)]),
    ("assistant@example.com", "Asha Assistant", [("ana-yoga", Role.ASSISTANT)]),
    ("ben@example.com", "Ben Baker", [("ben-codes", Role.OWNER)]),
]
SUPPORT = ("support@example.com", "Sam Support")


class Command(BaseCommand):
    help = "Creates (or brings back) the demo sites and users and prints their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="This deployment is a demo: create the demo logins even with DEBUG off.",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["demo"]):
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo's logins have a published "
                "password. Run it with --demo if this deployment is a demo."
            )
        with transaction.atomic():
            self._seed()
        # After the commit, so after every email it caused (sent on commit when Celery runs eagerly).
        self._print_where_emails_went()
        self._print_logins()

    def _seed(self):
        # Audited platform-wide write: the demo spans sites by design.
        with platform_wide("seed_demo: the demo sites, their teams and the support user"):
            sites, team = {}, {}
            for slug, name, plan in SITES:
                sites[slug], _ = Site.objects.get_or_create(
                    slug=slug, defaults={"name": name, "plan": Plan.objects.get(name=plan)}
                )
            for email, name, roles in TEAM:
                user = team[email] = _user(email, name)
                for slug, role in roles:
                    Membership.objects.update_or_create(site=sites[slug], user=user, defaults={"role": role})
            support = _user(*SUPPORT, is_staff=True)
            support.user_permissions.add(
                Permission.objects.get(codename="support", content_type__app_label="creatorhub")
            )
        for config in apps.get_app_configs():
            if find_spec(config.name) and find_spec(f"{config.name}.demo"):
                import_module(f"{config.name}.demo").seed(sites, team, self.stdout)

    def _print_where_emails_went(self):
        backend = settings.EMAIL_BACKEND
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            where = "the Celery worker sends them"
        elif backend.endswith("console.EmailBackend"):
            where = "they are printed above"
        elif backend.endswith("filebased.EmailBackend"):
            where = f"they are written to {settings.EMAIL_FILE_PATH}/ (one file per connection)"
        else:
            where = f"they went through {backend}"
        self.stdout.write(f"The demo's emails (confirmations, welcomes, grants): {where}.")

    def _print_logins(self):
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Log in at http://127.0.0.1:8000/ with:"))
        for email, _, roles in TEAM:
            where = ", ".join(f"{role} of {slug}" for slug, role in roles)
            self.stdout.write(f"  {email:<24} {DEMO_PASSWORD}   ({where})")
        self.stdout.write(f"  {SUPPORT[0]:<24} {DEMO_PASSWORD}   (platform support staff)")


def _user(email: str, name: str, **flags) -> User:
    user, created = User.objects.get_or_create(email=email, defaults={"name": name, **flags})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user
