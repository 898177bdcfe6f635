import factory
from factory.django import DjangoModelFactory

from contacts.models import Contact, Form
from creatorhub.models import Membership, Plan, Site, User
from creatorhub.roles import Role
from creatorhub.tenancy import site_scope

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


class SiteOwnedFactory(DjangoModelFactory):
    """A site-owned row is written in its site's scope, as the product writes it: under row-level security
    (PostgreSQL) an insert outside it is refused."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with site_scope(kwargs["site"]):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(SiteOwnedFactory):
    class Meta:
        model = Membership

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class ContactFactory(SiteOwnedFactory):
    """A contact as the database holds it; change statuses through contacts.services in tests of rules."""

    class Meta:
        model = Contact

    site = factory.SubFactory(SiteFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.net")
    # From the email, not Faker: a random "Joanne" would make a search for "ann" match by chance.
    name = factory.LazyAttribute(lambda contact: contact.email.split("@")[0].title())


class FormFactory(SiteOwnedFactory):
    class Meta:
        model = Form

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Newsletter {n}")
    slug = factory.Sequence(lambda n: f"newsletter-{n}")
