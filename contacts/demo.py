"""Demo contacts for `manage.py seed_demo`: every subscription status and reason, tags, forms, and the
consent events and emails that got them there. Run only on a site that has no contacts yet."""

from django.db import transaction

from contacts import services
from contacts.imports import demo as import_demo
from contacts.models import ConsentSource, Contact, ContactOrigin
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
    stdout.write(f"  {len(PEOPLE)} contacts and 2 forms on {site.name}")
    import_demo.seed(site, owner=team["owner@example.com"], stdout=stdout)


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
