"""The site's catalog: offers and the products (courses, with ordered lessons) they unlock."""

from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from creatorhub.models import Site
from creatorhub.tenancy import ensure_same_site
from offers.errors import OfferError
from offers.models import Lesson, Offer, OfferProduct, Product

_check_site = partial(ensure_same_site, error=OfferError)


def _clean(title: str, price: Decimal | None, currency: str | None) -> None:
    if not title.strip():
        raise OfferError("Give the offer a title.", field="title")
    if price is not None and price < 0:
        raise OfferError("The price cannot be negative.", field="price")
    if currency is not None and (len(currency) != 3 or not (currency.isascii() and currency.isalpha())):
        raise OfferError("Use a three-letter currency code such as USD or EUR.", field="currency")


def _set_products(site: Site, offer: Offer, product_ids) -> None:
    products = list(Product.objects.filter(pk__in=list(product_ids)))
    if len(products) != len(set(product_ids)):
        raise OfferError("Some of those products do not exist on this site.", field="products")
    OfferProduct.objects.filter(offer=offer).exclude(product__in=products).delete()
    OfferProduct.objects.bulk_create(
        [OfferProduct(site=site, offer=offer, product=p) for p in products], ignore_conflicts=True
    )


@transaction.atomic
def create_offer(
    site: Site,
    *,
    title: str,
    description: str = "",
    price: Decimal = Decimal(0),
    currency: str = "USD",
    product_ids=(),
) -> Offer:
    _clean(title, price, currency)
    offer = Offer.objects.create(
        site=site, title=title.strip(), description=description, price=price, currency=currency.upper()
    )
    _set_products(site, offer, product_ids)
    return offer


@transaction.atomic
def update_offer(
    site: Site,
    *,
    offer: Offer,
    title: str | None = None,
    description: str | None = None,
    price: Decimal | None = None,
    currency: str | None = None,
    product_ids=None,
) -> Offer:
    _check_site(site, offer)
    _clean(offer.title if title is None else title, price, currency)
    for field, value in (("title", title), ("description", description), ("price", price)):
        if value is not None:
            setattr(offer, field, value.strip() if field == "title" else value)
    if currency is not None:
        offer.currency = currency.upper()
    offer.save()
    if product_ids is not None:
        _set_products(site, offer, product_ids)
    return offer


@transaction.atomic
def archive_offer(site: Site, *, offer: Offer) -> Offer:
    """An archived offer can no longer be granted or bought; those who hold it keep it."""
    _check_site(site, offer)
    if offer.archived_at is None:
        offer.archived_at = timezone.now()
        offer.save(update_fields=["archived_at"])
    return offer


@transaction.atomic
def restore_offer(site: Site, *, offer: Offer) -> Offer:
    _check_site(site, offer)
    if offer.archived_at is not None:
        offer.archived_at = None
        offer.save(update_fields=["archived_at"])
    return offer


@transaction.atomic
def create_product(site: Site, *, title: str, description: str = "", lesson_titles=()) -> Product:
    if not title.strip():
        raise OfferError("Give the product a title.", field="title")
    product = Product.objects.create(site=site, title=title.strip(), description=description)
    for title_of_lesson in lesson_titles:
        add_lesson(site, product=product, title=title_of_lesson)
    return product


@transaction.atomic
def update_product(
    site: Site, *, product: Product, title: str | None = None, description: str | None = None
) -> Product:
    _check_site(site, product)
    if title is not None:
        if not title.strip():
            raise OfferError("Give the product a title.", field="title")
        product.title = title.strip()
    if description is not None:
        product.description = description
    product.save()
    return product


@transaction.atomic
def add_lesson(site: Site, *, product: Product, title: str, body: str = "") -> Lesson:
    _check_site(site, product)
    if not title.strip():
        raise OfferError("Give the lesson a title.", field="title")
    last = Lesson.objects.filter(product=product).aggregate(last=Max("position"))["last"] or 0
    return Lesson.objects.create(
        site=site, product=product, title=title.strip(), body=body, position=last + 1
    )


@transaction.atomic
def update_lesson(site: Site, *, lesson: Lesson, title: str | None = None, body: str | None = None) -> Lesson:
    _check_site(site, lesson)
    if title is not None:
        if not title.strip():
            raise OfferError("Give the lesson a title.", field="title")
        lesson.title = title.strip()
    if body is not None:
        lesson.body = body
    lesson.save()
    return lesson


@transaction.atomic
def delete_lesson(site: Site, *, lesson: Lesson) -> None:
    """Deletes the lesson and closes the gap in the numbering."""
    _check_site(site, lesson)
    product, position = lesson.product, lesson.position
    lesson.delete()
    for later in Lesson.objects.filter(product=product, position__gt=position).order_by("position"):
        later.position -= 1
        later.save(update_fields=["position"])
