import pytest
from django_scopes import scope

from offers.services import catalog


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
def other_offer(in_site):
    return catalog.create_offer(in_site, title="Retreat Recordings", price=19)
