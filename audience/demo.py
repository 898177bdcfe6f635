"""Demo audience for `manage.py seed_demo` (after the contacts, offers and activity demos): three saved
segments on the Contacts tab, and what the team did from it — a tag added to every subscriber, an export
of them, and an export of last month whose file has expired."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audience.services import bulk_actions, exports, saved_segments
from contacts import export_files
from contacts import services as contacts
from contacts.models import BulkAction, BulkActionKind, Export, ExportFileDeleted, JobStatus, Segment
from creatorhub.tenancy import site_scope


def seed(sites: dict, team: dict, stdout) -> None:
    site = sites["ana-yoga"]
    with site_scope(site):
        with transaction.atomic():
            if Segment.objects.exists() or BulkAction.objects.exists():
                return
            _seed_segments(site, team["owner@example.com"], stdout)
        _seed_team_work(site, team["admin@example.com"], stdout)


def _seed_segments(site, owner, stdout):
    """Three saved segments for the Contacts tab: the customers among the yoga and retreat people (the
    offers' demo makes them customers), subscribers active in the last 30 days (the activity demo's
    events), and the addresses that hard-bounced or complained."""
    yoga, retreat = contacts.tags_named(site, ["Yoga", "Retreat"])
    unsubscribed = {"field": "status", "op": "is", "value": "unsubscribed"}
    saved = {
        "VIP customers": [
            {"field": "customer", "op": "is", "value": True},
            {
                "any": [
                    {"field": "tag", "op": "has", "value": yoga.pk},
                    {"field": "tag", "op": "has", "value": retreat.pk},
                ]
            },
        ],
        "Engaged subscribers": [
            {"field": "status", "op": "is", "value": "subscribed"},
            {"field": "last_activity", "op": "after", "value": 30},
        ],
        "Bounced or complained": [
            {"any": [{**unsubscribed, "reason": "bounced"}, {**unsubscribed, "reason": "complained"}]}
        ],
    }
    for name, items in saved.items():
        saved_segments.create_segment(site, name=name, filters={"all": items}, acting_user=owner)
    stdout.write(f"  {len(saved)} saved segments on {site.name}")


def _seed_team_work(site, admin, stdout):
    """What the team did from the Contacts tab: a tag added to every subscriber, and an export of them
    (written by a worker, or at once when Celery runs eagerly); an export of last month, whose file has
    expired."""
    long_ago = timezone.now() - timedelta(days=30)
    customers, words = bulk_actions.clean_selection(site, {"segment": "customers"})
    Export.objects.create(
        site=site,
        segment_name=words,
        filters=customers,
        status=JobStatus.DONE,
        created_by=admin,
        created_at=long_ago,
        finished_at=long_ago,
        expires_at=export_files.expiry_of(long_ago),
        file_deleted_at=export_files.expiry_of(long_ago),
        file_deleted_because=ExportFileDeleted.EXPIRED,
    )
    bulk_actions.start_bulk_action(
        site,
        kind=BulkActionKind.ADD_TAG,
        selection={"segment": "subscribed"},
        params={"tag": "Newsletter 2027"},
        acting_user=admin,
    )
    exports.start_export(site, selection={"segment": "subscribed"}, acting_user=admin)
    stdout.write(f"  a bulk action and two exports (one expired) on {site.name}")
