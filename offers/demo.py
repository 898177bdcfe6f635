"""Demo offers for `manage.py seed_demo`: courses with lessons, offers, purchases and grants (so the
email log shows purchase, grant and welcome emails, and a suppressed one), and lesson progress."""

from decimal import Decimal

from django.db import transaction

from contacts.selectors import contact_by_email
from creatorhub.tenancy import site_scope
from offers.models import Offer
from offers.services import access, catalog
from offers.services.members import complete_lesson

BUYERS = ["maya.fernandes@example.org", "liam.oconnor@example.org", "sofia.rossi@example.org"]
GRANTED = ["lucas.martin@example.org", "chloe.dubois@example.org"]  # Chloé's address hard-bounced


def seed(sites: dict, team: dict, stdout) -> None:
    site = sites["ana-yoga"]
    with site_scope(site), transaction.atomic():
        if Offer.objects.exists():
            return
        basics = catalog.create_product(
            site,
            title="Yoga Basics",
            description="Start here.",
            lesson_titles=["Breathing", "Sun salutation", "Standing poses"],
        )
        flow = catalog.create_product(site, title="Morning Flow", lesson_titles=["Wake up", "Flow"])
        course = catalog.create_offer(
            site, title="Yoga Basics Course", price=Decimal("49.00"), product_ids=[basics.pk]
        )
        membership = catalog.create_offer(
            site, title="Morning Flow Membership", price=Decimal("19.00"), product_ids=[flow.pk]
        )
        old = catalog.create_offer(site, title="2025 Retreat Recordings", price=Decimal("29.00"))
        catalog.archive_offer(site, offer=old)
        for number, email in enumerate(BUYERS, start=1):
            access.record_purchase(
                site,
                offer=course,
                email=email,
                amount=course.price,
                currency="USD",
                idempotency_key=f"demo-order-{number}",
            )
        owner = access.Granter(user=team["owner@example.com"])
        for email in GRANTED:
            access.grant_offer(site, offer=membership, contact=contact_by_email(email), by=owner)
        maya = contact_by_email(BUYERS[0])
        for lesson in basics.lessons.order_by("position")[:2]:
            complete_lesson(site, contact=maya, lesson=lesson)
    stdout.write(f"  3 offers, 3 purchases and 2 grants on {site.name}")
