from io import StringIO

from django.core.management import call_command
from django_scopes import scopes_disabled

from creatorhub.models import Membership, Site, User


def run_seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    with scopes_disabled():
        return Site.objects.count(), User.objects.count(), Membership.objects.count()


def test_seed_demo_creates_a_user_per_role_and_prints_their_logins(db):
    output = run_seed()
    for email in ("owner@example.com", "admin@example.com", "assistant@example.com", "support@example.com"):
        assert email in output
        assert User.objects.get(email=email).check_password("creatorhub-demo")
    with scopes_disabled():
        roles = set(Membership.objects.filter(site__slug="ana-yoga").values_list("role", flat=True))
    assert roles == {"owner", "admin", "assistant"}
    assert User.objects.get(email="support@example.com").is_support


def test_seed_demo_is_idempotent(db):
    run_seed()
    first = counts()
    run_seed()
    assert counts() == first == (2, 5, 5)
