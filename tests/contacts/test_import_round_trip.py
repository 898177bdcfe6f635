"""Round trip: CreatorHub's own contact export, imported into another site, gives every contact the
same status, unsubscribe reason, tags and custom fields, at a few thousand rows in every status."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from audience.services import exports
from contacts.imports import services
from contacts.imports.merge import OUTCOMES
from contacts.models import Contact, ContactTag, SubscriptionStatus, Tag
from tests.factories import SiteFactory

STATUSES = [tuple(status) for status in OUTCOMES]  # every status, with each reason
PEOPLE = 3_500


def fill(site):
    """PEOPLE contacts, every status in turn, some with tags and custom fields."""
    with scope(site=site):
        tags = [Tag.objects.create(site=site, name=name) for name in ("VIP", "Retreat 2024", "Morning")]
        contacts = Contact.objects.bulk_create(
            Contact(
                site=site,
                email=f"Person.{n}@Example.com",
                name=f"Person {n}",
                fields={"city": "Lisbon"} if n % 3 else {},
                subscription_status=STATUSES[n % len(STATUSES)][0],
                unsubscribe_reason=STATUSES[n % len(STATUSES)][1],
            )
            for n in range(PEOPLE)
        )
        ContactTag.objects.bulk_create(
            ContactTag(site=site, contact=contact, tag=tag)
            for n, contact in enumerate(contacts)
            for tag in tags[: n % 4]
        )


def everyone(site):
    with scope(site=site):
        return {
            contact.email: (
                contact.name,
                contact.subscription_status,
                contact.unsubscribe_reason,
                sorted(tag.name for tag in contact.tags.all()),
                contact.fields,
            )
            for contact in Contact.objects.prefetch_related("tags")
        }


def test_our_own_export_imported_into_another_site_keeps_every_status_reason_and_tag(site, admin):
    fill(site)
    with scope(site=site):
        export = exports.start_export(site, selection={"filters": {"all": []}}, acting_user=admin)
        export = exports.run_export(site, export=export)
        data = export.file.read()
    assert export.written == PEOPLE

    other = SiteFactory()
    with scope(site=other):
        imp = services.upload_import(
            other,
            file=SimpleUploadedFile("ana-yoga-contacts.csv", data, content_type="text/csv"),
            subscribe=True,  # they agreed on the first site: the file says who did
            consent="Subscribers of our first site, moved with their consent records",
        )
        assert imp.exporter == "CreatorHub"
        services.start_import(other, contact_import=imp, queue=False)
        imp = services.run_import(other, contact_import=imp)

    assert (imp.status, imp.created_count, imp.skipped_count) == ("done", PEOPLE, 0)
    assert everyone(other) == everyone(site)
    figures = {(line["status"], line["reason"]): line["created"] for line in imp.outcome}
    assert figures == {status: PEOPLE // len(STATUSES) for status in STATUSES}
    assert set(SubscriptionStatus.values) == {status for status, _ in figures}
