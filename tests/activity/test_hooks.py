"""The events that come from the member area, forms and purchases — each real service reports
exactly the expected activity event through creatorhub.events."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from activity.models import ActivityEvent
from contacts import services as contact_services
from contacts.models import Contact
from offers.models import Lesson
from offers.services import access, catalog, members
from tests.factories import ContactFactory, FormFactory


@pytest.fixture
def in_site(site):
    with scope(site=site):
        yield site


@pytest.fixture
def course(in_site):
    return catalog.create_product(in_site, title="Yoga Basics", lesson_titles=["Breathing", "Sun salutation"])


@pytest.fixture
def offer(in_site, course):
    return catalog.create_offer(
        in_site, title="Yoga Basics Course", price=49, currency="USD", product_ids=[course.pk]
    )


@pytest.fixture
def ana(in_site, offer):
    contact = ContactFactory(site=in_site, email="ana@example.com", name="Ana")
    access.grant_offer(in_site, offer=offer, contact=contact, send_grant_email=False)
    return Contact.objects.get(pk=contact.pk)


def events() -> list[tuple]:
    """What the contacts did (the grants that arranged the tests are left out)."""
    rows = ActivityEvent.objects.exclude(kind="offer_granted").order_by("id")
    return [(e.contact.email, e.kind, e.details) for e in rows]


def test_a_member_login_is_a_login_event(in_site, ana):
    members.log_in_member(in_site, contact=ana)
    assert [(email, kind) for email, kind, _ in events()] == [("ana@example.com", "login")]
    assert Contact.objects.get(pk=ana.pk).last_activity_at is not None


def test_completing_lessons_records_each_and_the_course_when_the_last_is_done(in_site, ana, course):
    breathing, sun = Lesson.objects.filter(product=course).order_by("position")
    members.complete_lesson(in_site, contact=ana, lesson=breathing)
    assert events() == [
        (
            "ana@example.com",
            "lesson_completed",
            {"lesson": "Breathing", "lesson_id": breathing.pk, "product": "Yoga Basics"},
        )
    ]
    members.complete_lesson(in_site, contact=ana, lesson=breathing)  # again: nothing new
    members.complete_lesson(in_site, contact=ana, lesson=sun)
    assert [kind for _, kind, _ in events()] == ["lesson_completed", "lesson_completed", "course_completed"]
    assert events()[-1][2] == {"product": "Yoga Basics", "product_id": course.pk}


def test_a_form_submission_records_it_and_the_opt_in_when_the_form_subscribes(in_site):
    form = FormFactory(site=in_site, name="Newsletter", double_opt_in=False)
    contact_services.submit_form(in_site, form=form, email="mia@example.com")
    assert [(email, kind) for email, kind, _ in events()] == [
        ("mia@example.com", "form_submitted"),
        ("mia@example.com", "opted_in"),
    ]
    assert events()[0][2] == {"form": "Newsletter", "form_id": form.pk}


def test_a_double_opt_in_form_submission_is_no_opt_in_yet(in_site):
    form = FormFactory(site=in_site, name="Newsletter", double_opt_in=True)
    contact_services.submit_form(in_site, form=form, email="mia@example.com")
    assert [kind for _, kind, _ in events()] == ["form_submitted"]


def test_a_purchase_is_a_purchased_event(in_site, offer):
    access.record_purchase(
        in_site,
        offer=offer,
        email="leo@example.com",
        name="Leo",
        amount=Decimal("49.00"),
        currency="USD",
        idempotency_key="checkout-1",
    )
    assert events() == [
        (
            "leo@example.com",
            "purchased",
            {"offer": "Yoga Basics Course", "offer_id": offer.pk, "amount": "49.00", "currency": "USD"},
        )
    ]
    leo = Contact.objects.get(email="leo@example.com")
    assert leo.last_activity_at <= timezone.now()


def test_a_grant_shows_in_the_timeline_but_is_not_activity_of_the_contact(
    site, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from activity.models import ActivityEvent
    from contacts.models import Contact
    from offers.services import access, catalog
    from tests.factories import ContactFactory
    from usage.selectors.active_customers import active_customers_on

    contact = ContactFactory(site=site)
    with scope(site=site):
        offer = catalog.create_offer(site, title="Yoga Basics Course", price=10)
        access.grant_offer(site, offer=offer, contact=contact)
        event = ActivityEvent.objects.get(contact=contact)
        assert (event.kind, event.details["offer"]) == ("offer_granted", "Yoga Basics Course")
        assert Contact.objects.get(pk=contact.pk).last_activity_at is None
        assert active_customers_on(site, site.today()) == 0
        from offers.services.members import log_in_member

        log_in_member(site, contact=Contact.objects.get(pk=contact.pk))
        assert active_customers_on(site, site.today()) == 1
        assert Contact.objects.get(pk=contact.pk).last_activity_at > timezone.now() - timedelta(minutes=1)
