"""Reads of the contacts app that are more than a filter."""

from contacts.models import Contact


def contact_by_email(email: str) -> Contact | None:
    """The site's contact of an email, whatever its case (call inside the site's scope)."""
    return Contact.objects.filter(email__lower=email.strip().lower()).first()
