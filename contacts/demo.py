"""Demo contacts for `manage.py seed_demo`: every subscription status and reason, tags, forms, and the
consent events and emails that got them there. Run only on a site that has no contacts yet."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from contacts import bulk, export_files, exports, services
from contacts.imports import demo as import_demo
from contacts.models import (
    BulkActionKind,
    ConsentSource,
    Contact,
    ContactOrigin,
    Export,
    ExportFileDeleted,
    JobStatus,
)
from contacts.services import Consent
from creatorhub.tenancy import site_scope

PEOPLE = [
    # email, name, tags, what happened
    ("maya.fernandes@example.org", "Maya Fernandes", ["Yoga", "Morning"], "form"),
    ("liam.oconnor@example.org", "Liam O'Connor", ["Yoga"], "form"),
    ("sofia.rossi@example.org", "Sofia Rossi", ["Retreat"], "form"),
    ("noah.kim@example.org", "Noah Kim", [], "pending"),
    ("emma.schulz@example.org", "Emma Schulz", ["Morning"], "pending"),
    ("lucas.martin@example.org", "Lucas Martin", ["Workshop"], "team"),
    ("olivia.brown@example.org", "Olivia Brown", [], "manual"),
    ("arjun.patel@example.org", "Arjun Patel", ["Retreat"], "opted_out"),
    ("chloe.dubois@example.org", "Chloé Dubois", [], "bounced"),
    ("mateo.garcia@example.org", "Mateo García", [], "complained"),
    ("hana.sato@example.org", "Hana Sato", ["Workshop"], "never"),
    ("james.wilson@example.org", "", [], "never"),
]
VISITOR = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"}


def seed(sites: dict, team: dict, stdout) -> None:
    site = sites["ana-yoga"]
    with site_scope(site), transaction.atomic():
        if Contact.objects.exists():
            return
        newsletter = services.create_form(
            site,
            name="Weekly newsletter",
            slug="newsletter",
            tag_names=["Newsletter"],
            success_message="Thanks for joining!",
        )
        free_class = services.create_form(
            site, name="Free class", slug="free-class", double_opt_in=False, tag_names=["Free class"]
        )
        owner = team["owner@example.com"]
        for email, name, tags, story in PEOPLE:
            _seed_person(
                site, email, name, tags, story, newsletter=newsletter, free_class=free_class, owner=owner
            )
        _seed_segments(site, owner, stdout)
    stdout.write(f"  {len(PEOPLE)} contacts and 2 forms on {site.name}")
    import_demo.seed(site, owner=team["owner@example.com"], stdout=stdout)
    _seed_team_work(site, team["admin@example.com"], stdout)


def _seed_team_work(site, admin, stdout):
    """What the team did from the Contacts tab: a tag added to every subscriber, and an export of them
    (written by a worker, or at once when Celery runs eagerly); an export of last month, whose file has
    expired."""
    with site_scope(site):
        long_ago = timezone.now() - timedelta(days=30)
        customers, words = bulk.clean_selection(site, {"segment": "customers"})
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
        bulk.start_bulk_action(
            site,
            kind=BulkActionKind.ADD_TAG,
            selection={"segment": "subscribed"},
            params={"tag": "Newsletter 2027"},
            by_user=admin,
        )
        exports.start_export(site, selection={"segment": "subscribed"}, by_user=admin)
    stdout.write(f"  a bulk action and two exports (one expired) on {site.name}")


def _seed_person(site, email, name, tags, story, *, newsletter, free_class, owner):
    if story in ("form", "opted_out", "bounced", "complained"):
        outcome = services.submit_form(site, form=free_class, email=email, name=name, **VISITOR)
        contact = outcome.contact
    elif story == "pending":
        contact = services.submit_form(site, form=newsletter, email=email, name=name, **VISITOR).contact
    else:
        origin = ContactOrigin.IMPORT if story == "never" else ContactOrigin.MANUAL
        contact = services.create_contact(site, email=email, name=name, origin=origin)
    services.add_tags(site, contact=contact, names=tags)
    team = Consent(source=ConsentSource.TEAM, note="Signed up on paper at the spring workshop", user=owner)
    if story in ("team", "manual"):
        services.subscribe(site, contact=contact, by=team)
    if story == "manual":
        services.unsubscribe(
            site,
            contact=contact,
            reason="manual",
            by=Consent(source=ConsentSource.TEAM, note="Asked us by phone", user=owner),
        )
    if story == "opted_out":
        services.unsubscribe(
            site,
            contact=contact,
            reason="opted_out",
            by=Consent(source=ConsentSource.LINK, note="Unsubscribe link", **VISITOR),
        )
    if story in ("bounced", "complained"):
        services.record_delivery_event(
            site,
            provider="postmark",
            event_type=story,
            recipient=email,
            provider_event_id=f"demo-{story}-{contact.pk}",
            description="Demo event",
            raw={"demo": True},
        )


def _seed_segments(site, owner, stdout):
    """Three saved segments for the Contacts tab: the customers among the yoga and retreat people (the
    offers' demo makes them customers), subscribers active in the last 30 days (the activity demo's
    events), and the addresses that hard-bounced or complained."""
    yoga, retreat = services.tags_named(site, ["Yoga", "Retreat"])
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
        services.create_segment(site, name=name, filters={"all": items}, by_user=owner)
    stdout.write(f"  {len(saved)} saved segments on {site.name}")
