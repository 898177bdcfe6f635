"""The tenancy core's demo: an API key on Ana's Yoga Studio and a visit of support staff, so that the
owner's audit log (/app/ana-yoga/audit/) shows the team's, the keys' and support's acts (the other
apps' demos add grants, an import, a bulk action and an export). Safe to run again."""

from creatorhub import audit, services
from creatorhub.models import ApiKey, AuditAction, AuditEntry, User
from creatorhub.roles import Role
from creatorhub.tenancy import site_scope

DEMO_KEY = "Checkout integration"


def seed(sites: dict, team: dict, stdout) -> None:
    site, owner = sites["ana-yoga"], team["owner@example.com"]
    with site_scope(site):
        if ApiKey.objects.filter(name=DEMO_KEY).exists():
            return
        with audit.acting(user=owner):
            services.create_api_key(site, name=DEMO_KEY, role=Role.ADMIN, acting_user=owner)
        support = User.objects.filter(email="support@example.com").first()
        if support is not None and not AuditEntry.objects.filter(actor_user=support).exists():
            with audit.acting(user=support, support=True):
                audit.record(site, AuditAction.SUPPORT_SITE_VIEWED, target=site)
    stdout.write(f"  an API key and a support visit in the audit log of {site.name}")
