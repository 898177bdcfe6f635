"""The one table that says what each site role may do.

Endpoints and pages declare the scope they need per HTTP method; templates ask the same table (through
`site_scopes` in their context) to hide what a role may not do. API keys carry the scopes of their role.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ASSISTANT = "assistant", "Assistant"


class Scope(models.TextChoices):
    SITE_READ = "site:read", "See the site"
    CONTACTS_READ = "contacts:read", "Read contacts"
    CONTACTS_WRITE = "contacts:write", "Create, edit and delete contacts"
    CONTACTS_TAG = "contacts:tag", "Add and remove tags"
    OFFERS_READ = "offers:read", "Read offers"
    OFFERS_WRITE = "offers:write", "Create and edit offers"
    OFFERS_GRANT = "offers:grant", "Grant and revoke offers"
    IMPORTS_RUN = "imports:run", "Import contacts"
    EXPORTS_RUN = "exports:run", "Export contacts"
    EMAILS_READ = "emails:read", "Read email templates and the email log"
    EMAILS_EDIT = "emails:edit", "Edit email templates"
    FORMS_READ = "forms:read", "Read forms"
    FORMS_EDIT = "forms:edit", "Create and edit forms"
    EVENTS_WRITE = "events:write", "Record activity events"
    PURCHASES_WRITE = "purchases:write", "Record purchases"
    TEAM_READ = "team:read", "See the team"
    TEAM_MANAGE = "team:manage", "Invite, change and remove team members"
    KEYS_MANAGE = "keys:manage", "Create and revoke API keys"
    USAGE_READ = "usage:read", "See the plan and its usage"
    AUDIT_READ = "audit:read", "See the audit log"


_ADMIN = frozenset(
    {
        Scope.SITE_READ,
        Scope.CONTACTS_READ,
        Scope.CONTACTS_WRITE,
        Scope.CONTACTS_TAG,
        Scope.OFFERS_READ,
        Scope.OFFERS_WRITE,
        Scope.OFFERS_GRANT,
        Scope.IMPORTS_RUN,
        Scope.EXPORTS_RUN,
        Scope.EMAILS_READ,
        Scope.EMAILS_EDIT,
        Scope.FORMS_READ,
        Scope.FORMS_EDIT,
        Scope.EVENTS_WRITE,
        Scope.PURCHASES_WRITE,
        Scope.TEAM_READ,
    }
)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Scope),
    Role.ADMIN: _ADMIN,
    Role.ASSISTANT: frozenset(
        {Scope.SITE_READ, Scope.CONTACTS_READ, Scope.CONTACTS_TAG, Scope.OFFERS_READ, Scope.TEAM_READ}
    ),
}


def scopes_of(role: str) -> frozenset[str]:
    return ROLE_SCOPES.get(role, frozenset())
