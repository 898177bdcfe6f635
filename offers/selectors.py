"""Reads of the offers app that are more than a filter. Call them inside the site's scope."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from contacts.models import Contact
from offers.models import Access, Lesson, LessonCompletion, Offer, Product, Purchase

MAX_ID = 2**63 - 1  # no row has a larger id, and SQLite cannot even compare one


def require_in_scope(queryset, values) -> None:
    """404 when a posted id names no row of this site: another site's id is "not found", as in the URL.
    Malformed values are left to the form, which refuses them with a message."""
    ids = {int(value) for value in values if value.isascii() and value.isdigit()}
    if any(pk > MAX_ID for pk in ids) or (ids and queryset.filter(pk__in=ids).count() != len(ids)):
        raise Http404("No such object on this site.")


def describe_target(target: dict) -> str:
    """What a grant job was given, in words: the segment “Customers”, 3 emails, 12 selected contacts."""
    if "description" in target:
        return target["description"]
    if "emails" in target:
        n = len(target["emails"])
        return target["emails"][0] if n == 1 else f"{n} emails"
    n = len(target.get("contact_ids", []))
    return f"{n} selected contact{'s' if n != 1 else ''}"


def _live_accesses(contact: Contact) -> QuerySet[Access]:
    return Access.objects.filter(contact=contact, revoked_at=None)


def _lessons_with_completion(contact: Contact) -> QuerySet[Lesson]:
    """Lessons, each with `is_completed` for this contact."""
    done = LessonCompletion.objects.filter(contact=contact, lesson=OuterRef("pk"))
    return Lesson.objects.annotate(is_completed=Exists(done))


def holds_lesson(contact: Contact, lesson: Lesson) -> bool:
    """Whether the contact holds (a live access to) an offer that unlocks the lesson's course."""
    return _live_accesses(contact).filter(offer__offer_products__product_id=lesson.product_id).exists()


def lesson_for_member(contact: Contact, lesson_id: int) -> Lesson | None:
    """The lesson with its course and `is_completed`, when the contact holds it; else None (the
    same for a lesson of an offer they do not hold and for one that does not exist on the site)."""
    held = _live_accesses(contact).filter(offer__offer_products__product_id=OuterRef("product_id"))
    return (
        _lessons_with_completion(contact).filter(Exists(held), pk=lesson_id).select_related("product").first()
    )


def next_lesson(lesson: Lesson) -> Lesson | None:
    return (
        Lesson.objects.filter(product_id=lesson.product_id, position__gt=lesson.position)
        .order_by("position")
        .first()
    )


@dataclass(frozen=True)
class Course:
    """A product as a member sees it: its lessons in order, each with `is_completed`."""

    product: Product
    lessons: list[Lesson]

    @property
    def completed(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.is_completed)

    @property
    def total(self) -> int:
        return len(self.lessons)


@dataclass(frozen=True)
class HeldOffer:
    offer: Offer
    access: Access
    courses: list[Course]


def library_of(contact: Contact) -> list[HeldOffer]:
    """The offers the contact holds (live accesses, newest first) with their courses (by title) and
    lessons (in order), and which lessons the contact completed. Three queries, however many offers."""
    lessons = _lessons_with_completion(contact).order_by("position")
    products = Product.objects.order_by("title", "pk").prefetch_related(Prefetch("lessons", queryset=lessons))
    accesses = (
        _live_accesses(contact)
        .select_related("offer")
        .prefetch_related(Prefetch("offer__products", queryset=products))
        .order_by("-created_at", "-pk")
    )
    return [
        HeldOffer(
            offer=access.offer,
            access=access,
            courses=[Course(product=p, lessons=list(p.lessons.all())) for p in access.offer.products.all()],
        )
        for access in accesses
    ]


def offers_data_of(contact: Contact) -> dict:
    """What the offers room holds about the contact, for their data export (creatorhub.personal_data)."""
    return {
        "accesses": list(
            Access.objects.filter(contact=contact)
            .order_by("created_at", "id")
            .values("offer__title", "source", "created_at", "revoked_at")
        ),
        "purchases": list(
            Purchase.objects.filter(contact=contact)
            .order_by("created_at", "id")
            .values("offer__title", "email", "amount", "currency", "created_at")
        ),
        "lessons_completed": list(
            LessonCompletion.objects.filter(contact=contact)
            .order_by("completed_at", "id")
            .values("lesson__title", "lesson__product__title", "completed_at")
        ),
    }
