import factory
from factory.django import DjangoModelFactory

from creatorhub.models import Membership, Plan, Site, User
from creatorhub.roles import Role

PASSWORD = "a-long-test-password"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site

    slug = factory.Sequence(lambda n: f"site-{n}")
    name = factory.Sequence(lambda n: f"Site {n}")
    plan = factory.LazyFunction(lambda: Plan.objects.get(name="Basic"))


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER
