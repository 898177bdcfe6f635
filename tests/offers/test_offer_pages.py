"""The offers and products pages: the team creates, edits, archives and restores offers,
and creates products (courses) with ordered lessons; assistants read; other sites see nothing."""

import html
import re
from decimal import Decimal

import pytest
from django_scopes import scope

from creatorhub.roles import Role
from offers.models import Lesson, Offer, OfferProduct, Product
from offers.services import access, catalog
from tests.factories import ContactFactory


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def offer_row(site, offer):
    with scope(site=site):
        offer = Offer.objects.get(pk=offer.pk)
        return (
            offer.title,
            offer.description,
            offer.price,
            offer.currency,
            offer.archived_at is not None,
            sorted(p.title for p in offer.products.all()),
        )


def lessons_of(site, product):
    with scope(site=site):
        return list(
            Lesson.objects.filter(product=product).order_by("position").values_list("position", "title")
        )


@pytest.fixture
def basics(site):
    with scope(site=site):
        return catalog.create_product(
            site, title="Yoga Basics", lesson_titles=["Breathing", "Sun salutation"]
        )


@pytest.fixture
def retreat(site):
    with scope(site=site):
        return catalog.create_product(site, title="Retreat Recordings")


@pytest.fixture
def yoga(site, basics):
    with scope(site=site):
        return catalog.create_offer(
            site, title="Yoga Basics Course", price=Decimal("49.00"), currency="USD", product_ids=[basics.pk]
        )


# -- Reading ------------------------------------------------------------------------------------------


def test_the_offers_tab_lists_offers_with_price_products_holders_and_archived_badge(
    client, site, owner, yoga, retreat
):
    with scope(site=site):
        old = catalog.create_offer(site, title="Old Workshop", price=Decimal("0"), product_ids=[retreat.pk])
        catalog.archive_offer(site, offer=old)
        for contact in ContactFactory.create_batch(2, site=site):
            access.grant_offer(site, offer=yoga, contact=contact)
        gone = ContactFactory(site=site)
        access.revoke_access(site, access=access.grant_offer(site, offer=yoga, contact=gone))
    client.force_login(owner)
    response = client.get(f"/app/{site.slug}/offers/")
    assert response.status_code == 200
    page = text(response)
    assert 'aria-current="page">Offers</a>' in response.content.decode()  # the tab
    assert "Yoga Basics Course 49.00 USD Yoga Basics 2" in page  # two live holders, not the revoked one
    assert "Old Workshop Archived Free Retreat Recordings 0" in page
    assert "New offer" in page


def test_the_offer_page_shows_the_offer_and_its_products(client, site, admin, yoga):
    client.force_login(admin)
    response = client.get(f"/app/{site.slug}/offers/{yoga.pk}/")
    assert response.status_code == 200
    page = text(response)
    assert "Yoga Basics Course" in page
    assert "Price 49.00 USD" in page
    assert "Products it unlocks Yoga Basics" in page
    assert response.content.decode().count("<h1") == 1


# -- Offers: create, edit, archive, restore ------------------------------------------------------------


def test_admin_creates_an_offer_with_products_from_the_page(client, site, admin, basics, retreat):
    client.force_login(admin)
    form = client.get(f"/app/{site.slug}/offers/new/")
    assert form.status_code == 200
    assert 'type="checkbox" name="products"' in form.content.decode()
    assert "<legend>Products</legend>" in form.content.decode()
    response = client.post(
        f"/app/{site.slug}/offers/new/",
        {
            "title": "Spring Bundle",
            "description": "Both courses.",
            "price": "99.50",
            "currency": "eur",
            "products": [basics.pk, retreat.pk],
        },
        follow=True,
    )
    with scope(site=site):
        offer = Offer.objects.get(title="Spring Bundle")
    assert response.redirect_chain[-1][0] == f"/app/{site.slug}/offers/{offer.pk}/"
    assert "Created the offer “Spring Bundle”." in text(response)
    assert offer_row(site, offer) == (
        "Spring Bundle",
        "Both courses.",
        Decimal("99.50"),
        "EUR",
        False,
        ["Retreat Recordings", "Yoga Basics"],
    )


def test_admin_edits_an_offer_title_price_currency_and_products(client, site, admin, yoga, retreat):
    client.force_login(admin)
    form = client.get(f"/app/{site.slug}/offers/{yoga.pk}/edit/").content.decode()
    assert 'value="Yoga Basics Course"' in form
    assert re.search(r'<input type="checkbox" name="products" value="\d+"[^>]*checked', form)
    response = client.post(
        f"/app/{site.slug}/offers/{yoga.pk}/edit/",
        {
            "title": "Yoga Course",
            "description": "",
            "price": "59",
            "currency": "GBP",
            "products": [retreat.pk],
        },
        follow=True,
    )
    assert "Saved the offer “Yoga Course”." in text(response)
    assert offer_row(site, yoga) == (
        "Yoga Course",
        "",
        Decimal("59.00"),
        "GBP",
        False,
        ["Retreat Recordings"],
    )


def test_admin_archives_and_restores_an_offer(client, site, admin, yoga):
    client.force_login(admin)
    archived = client.post(f"/app/{site.slug}/offers/{yoga.pk}/archive/", follow=True)
    assert "Archived the offer “Yoga Basics Course”" in text(archived)
    assert offer_row(site, yoga)[4] is True
    assert "Grant this offer" not in text(archived)
    assert "Restore" in text(archived)
    assert "Archived" in text(client.get(f"/app/{site.slug}/offers/"))
    restored = client.post(f"/app/{site.slug}/offers/{yoga.pk}/restore/", follow=True)
    assert "Restored the offer “Yoga Basics Course”" in text(restored)
    assert offer_row(site, yoga)[4] is False
    assert "Grant this offer" in text(restored)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Give the offer a title."),
        ("title", "   ", "Give the offer a title."),
        ("price", "-1", "The price cannot be negative."),
        ("price", "ten", "Enter a number."),
        ("currency", "US", "Use a three-letter currency code such as USD or EUR."),
        ("currency", "DOLLARS", "Use a three-letter currency code such as USD or EUR."),
        ("currency", "U$D", "Use a three-letter currency code such as USD or EUR."),
        ("currency", "ÉUR", "Use a three-letter currency code such as USD or EUR."),
    ],
)
def test_bad_offer_input_is_a_form_error(client, site, admin, yoga, field, value, message):
    client.force_login(admin)
    data = {"title": "A title", "description": "", "price": "10", "currency": "USD", field: value}
    created = client.post(f"/app/{site.slug}/offers/new/", data)
    assert created.status_code == 400
    assert message in text(created)
    edited = client.post(f"/app/{site.slug}/offers/{yoga.pk}/edit/", data)
    assert edited.status_code == 400
    assert message in text(edited)
    with scope(site=site):
        assert Offer.objects.count() == 1
    assert offer_row(site, yoga) == (
        "Yoga Basics Course",
        "",
        Decimal("49.00"),
        "USD",
        False,
        ["Yoga Basics"],
    )


# -- Products and lessons -----------------------------------------------------------------------------


def test_admin_creates_a_product_with_lessons_in_order(client, site, admin):
    client.force_login(admin)
    assert client.get(f"/app/{site.slug}/products/new/").status_code == 200
    response = client.post(
        f"/app/{site.slug}/products/new/",
        {
            "title": "Pranayama",
            "description": "Breath work.",
            "lesson_titles": "Intro\n\n  Box breathing \nNadi",
        },
        follow=True,
    )
    with scope(site=site):
        product = Product.objects.get(title="Pranayama")
        assert product.description == "Breath work."
    assert response.redirect_chain[-1][0] == f"/app/{site.slug}/products/{product.pk}/"
    assert "Created the product “Pranayama” with 3 lessons." in text(response)
    assert lessons_of(site, product) == [(1, "Intro"), (2, "Box breathing"), (3, "Nadi")]
    assert "Lessons Intro Edit lesson 1, Intro Delete lesson 1, Intro Box breathing" in text(response)
    listing = text(client.get(f"/app/{site.slug}/products/"))
    assert "Pranayama 3 no offer" in listing


def test_admin_edits_a_product_and_its_lessons(client, site, admin, basics, yoga):
    client.force_login(admin)
    page = client.get(f"/app/{site.slug}/products/{basics.pk}/")
    assert "Unlocked by Yoga Basics Course" in text(page)
    saved = client.post(
        f"/app/{site.slug}/products/{basics.pk}/",
        {"title": "Yoga Basics 2", "description": "New"},
        follow=True,
    )
    assert "Saved the product “Yoga Basics 2”." in text(saved)
    added = client.post(
        f"/app/{site.slug}/products/{basics.pk}/lessons/",
        {"lesson-title": "Savasana", "lesson-body": "Rest."},
        follow=True,
    )
    assert "Added the lesson “Savasana” as lesson 3." in text(added)
    with scope(site=site):
        first, second, third = Lesson.objects.filter(product=basics).order_by("position")
        assert (third.title, third.body) == ("Savasana", "Rest.")
    assert client.get(f"/app/{site.slug}/products/{basics.pk}/lessons/{second.pk}/").status_code == 200
    edited = client.post(
        f"/app/{site.slug}/products/{basics.pk}/lessons/{second.pk}/",
        {"title": "Sun salutation A", "body": "Flow."},
        follow=True,
    )
    assert "Saved the lesson “Sun salutation A”." in text(edited)
    deleted = client.post(f"/app/{site.slug}/products/{basics.pk}/lessons/{first.pk}/delete/", follow=True)
    assert "Deleted the lesson “Breathing”" in text(deleted)
    assert lessons_of(site, basics) == [(1, "Sun salutation A"), (2, "Savasana")]
    with scope(site=site):
        assert Product.objects.get(pk=basics.pk).title == "Yoga Basics 2"


def test_bad_product_and_lesson_input_is_a_form_error(client, site, admin, basics):
    client.force_login(admin)
    created = client.post(f"/app/{site.slug}/products/new/", {"title": " ", "lesson_titles": "One"})
    assert created.status_code == 400
    assert "Give the product a title." in text(created)
    edited = client.post(f"/app/{site.slug}/products/{basics.pk}/", {"title": ""})
    assert edited.status_code == 400
    assert "Give the product a title." in text(edited)
    added = client.post(f"/app/{site.slug}/products/{basics.pk}/lessons/", {"lesson-title": ""})
    assert added.status_code == 400
    assert "Give the lesson a title." in text(added)
    with scope(site=site):
        lesson = Lesson.objects.filter(product=basics).first()
    renamed = client.post(f"/app/{site.slug}/products/{basics.pk}/lessons/{lesson.pk}/", {"title": "  "})
    assert renamed.status_code == 400
    assert "Give the lesson a title." in text(renamed)
    with scope(site=site):
        assert Product.objects.count() == 1
        assert Product.objects.get().title == "Yoga Basics"
    assert lessons_of(site, basics) == [(1, "Breathing"), (2, "Sun salutation")]


# -- Who may do what ----------------------------------------------------------------------------------


def test_assistants_see_offers_and_products_but_cannot_change_them(client, site, assistant, yoga, basics):
    with scope(site=site):
        lesson = Lesson.objects.filter(product=basics).first()
    before = (offer_row(site, yoga), lessons_of(site, basics))
    client.force_login(assistant)
    listing = client.get(f"/app/{site.slug}/offers/")
    assert listing.status_code == 200
    assert "Yoga Basics Course" in text(listing)
    assert "New offer" not in text(listing)
    detail = text(client.get(f"/app/{site.slug}/offers/{yoga.pk}/"))
    assert "Yoga Basics Course" in detail
    assert "Edit" not in detail
    assert "Archive" not in detail
    products = text(client.get(f"/app/{site.slug}/products/"))
    assert "Yoga Basics" in products
    assert "New product" not in products
    product = text(client.get(f"/app/{site.slug}/products/{basics.pk}/"))
    assert "Breathing" in product
    assert "Add a lesson" not in product
    assert "Delete" not in product
    for url in (
        "offers/new/",
        f"offers/{yoga.pk}/edit/",
        "products/new/",
        f"products/{basics.pk}/lessons/{lesson.pk}/",
    ):
        assert client.get(f"/app/{site.slug}/{url}").status_code == 403, url
    for url, data in (
        ("offers/new/", {"title": "Mine", "price": "1", "currency": "USD"}),
        (f"offers/{yoga.pk}/edit/", {"title": "Mine", "price": "1", "currency": "USD"}),
        (f"offers/{yoga.pk}/archive/", {}),
        (f"offers/{yoga.pk}/restore/", {}),
        ("products/new/", {"title": "Mine"}),
        (f"products/{basics.pk}/", {"title": "Mine"}),
        (f"products/{basics.pk}/lessons/", {"lesson-title": "Mine"}),
        (f"products/{basics.pk}/lessons/{lesson.pk}/", {"title": "Mine"}),
        (f"products/{basics.pk}/lessons/{lesson.pk}/delete/", {}),
    ):
        assert client.post(f"/app/{site.slug}/{url}", data).status_code == 403, url
    assert (offer_row(site, yoga), lessons_of(site, basics)) == before
    with scope(site=site):
        assert Offer.objects.count() == 1
        assert Product.objects.count() == 1


def test_another_sites_owner_gets_404_on_every_offer_and_product_page(
    client, site, owner, yoga, basics, other_site, other_owner
):
    with scope(site=site):
        lesson = Lesson.objects.filter(product=basics).first()
    with scope(site=other_site):
        their_product = catalog.create_product(other_site, title="Theirs", lesson_titles=["Their lesson"])
        their_offer = catalog.create_offer(other_site, title="Their offer", product_ids=[their_product.pk])
    before = (offer_row(site, yoga), lessons_of(site, basics))
    client.force_login(other_owner)
    for page in ("offers/", "offers/new/", "products/", "products/new/"):
        assert client.get(f"/app/{site.slug}/{page}").status_code == 404, page
    edit = {"title": "Taken", "price": "1", "currency": "USD"}
    for slug in (site.slug, other_site.slug):
        for page in (
            f"offers/{yoga.pk}/",
            f"offers/{yoga.pk}/edit/",
            f"products/{basics.pk}/",
            f"products/{basics.pk}/lessons/{lesson.pk}/",
            f"products/{their_product.pk}/lessons/{lesson.pk}/",
        ):
            assert client.get(f"/app/{slug}/{page}").status_code == 404, (slug, page)
        for url, data in (
            (f"offers/{yoga.pk}/edit/", edit),
            (f"offers/{yoga.pk}/archive/", {}),
            (f"offers/{yoga.pk}/restore/", {}),
            (f"products/{basics.pk}/", {"title": "Taken"}),
            (f"products/{basics.pk}/lessons/", {"lesson-title": "Taken"}),
            (f"products/{basics.pk}/lessons/{lesson.pk}/", {"title": "Taken"}),
            (f"products/{basics.pk}/lessons/{lesson.pk}/delete/", {}),
            (f"products/{their_product.pk}/lessons/{lesson.pk}/", {"title": "Taken"}),
            (f"products/{their_product.pk}/lessons/{lesson.pk}/delete/", {}),
        ):
            assert client.post(f"/app/{slug}/{url}", data).status_code == 404, (slug, url)
    # Their own offer may not unlock this site's product.
    for url in ("offers/new/", f"offers/{their_offer.pk}/edit/"):
        response = client.post(f"/app/{other_site.slug}/{url}", {**edit, "products": [basics.pk]})
        assert response.status_code == 404, url
    listing = text(client.get(f"/app/{other_site.slug}/offers/"))
    assert "Their offer" in listing
    assert "Yoga Basics Course" not in listing
    assert "Yoga Basics" not in text(client.get(f"/app/{other_site.slug}/products/"))
    assert (offer_row(site, yoga), lessons_of(site, basics)) == before
    with scope(site=other_site):
        assert Offer.objects.count() == 1
        assert OfferProduct.objects.filter(product_id=basics.pk).count() == 0
        assert Lesson.objects.filter(product=their_product).count() == 1


def test_the_offers_tab_shows_for_every_role(client, site, assistant):
    client.force_login(assistant)
    page = client.get(f"/app/{site.slug}/").content.decode()
    assert f'href="/app/{site.slug}/offers/">Offers</a>' in page


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_see_the_offer_controls(client, site, request, role, yoga):
    client.force_login(request.getfixturevalue(role))
    page = text(client.get(f"/app/{site.slug}/offers/{yoga.pk}/"))
    assert "Edit Yoga Basics Course" in page
    assert "Archive Yoga Basics Course" in page
    assert "Grant this offer" in page


def test_offer_pages_refuse_methods_they_do_not_serve(client, site, owner, yoga, basics):
    client.force_login(owner)
    for url in (
        f"offers/{yoga.pk}/archive/",
        f"offers/{yoga.pk}/restore/",
        f"offers/{yoga.pk}/grant/",
        f"offers/{yoga.pk}/revoke/",
        f"products/{basics.pk}/lessons/",
    ):
        assert client.get(f"/app/{site.slug}/{url}").status_code == 405, url
    assert client.delete(f"/app/{site.slug}/offers/{yoga.pk}/").status_code == 405
    assert client.post(f"/app/{site.slug}/offers/").status_code == 405
