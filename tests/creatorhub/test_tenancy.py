"""The fail-closed scoping of site-owned models (DESIGN.md §2)."""

import pytest
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from creatorhub.models import Membership
from creatorhub.tasks import SiteTask
from creatorhub.tenancy import site_scope


def test_a_site_owned_query_outside_any_scope_raises(site, owner):
    with pytest.raises(ScopeError):
        list(Membership.objects.all())


def test_a_query_inside_a_scope_sees_only_that_sites_rows(site, owner, other_site, other_owner):
    with scope(site=site):
        assert [m.user for m in Membership.objects.all()] == [owner]
    with scope(site=other_site):
        assert [m.user for m in Membership.objects.all()] == [other_owner]


def test_the_scope_of_an_unknown_site_matches_nothing_rather_than_everything(site, owner):
    with site_scope(None):
        assert not Membership.objects.exists()


def test_a_site_task_runs_its_body_in_the_scope_of_the_site_it_is_given(site, owner, other_site, other_owner):
    class CountMembers(SiteTask):
        name = "tests.count_members"

        def run(self, site):
            return [m.user.email for m in Membership.objects.all()]

    task = CountMembers()
    assert task(other_site.pk) == [other_owner.email]
    assert task(site.pk) == [owner.email]


def test_a_sites_slug_never_changes(site):
    from django.core.exceptions import ValidationError

    site.slug = "renamed"
    with pytest.raises(ValidationError, match="never changes"):
        site.save()


def test_an_endpoint_that_overrides_the_scoped_lookup_is_refused_at_import():
    from creatorhub.api.base import SiteViewSet

    with pytest.raises(TypeError, match="overrides get_queryset"):
        type("Leaky", (SiteViewSet,), {"get_queryset": lambda self: None})


def test_options_on_a_post_only_page_says_what_it_allows_to_members_only(site, owner, other_owner):
    """OPTIONS needs what GET needs; where a page takes only POST, the site's access alone (it was a
    500: no scope was declared for it)."""
    from django.test import Client

    from creatorhub import services

    with scope(site=site):
        api_key, _ = services.create_api_key(site, name="Checkout", role="admin", acting_user=owner)
    path = f"/app/{site.slug}/settings/api-keys/{api_key.pk}/revoke/"
    member, stranger = Client(), Client()
    member.force_login(owner)
    stranger.force_login(other_owner)
    answer = member.options(path)
    assert answer.status_code == 200
    assert "POST" in answer["Allow"]
    assert stranger.options(path).status_code == 404
    with scope(site=site):
        api_key.refresh_from_db()
    assert api_key.revoked_at is None  # nothing was done


def test_options_on_the_api_answers_and_needs_the_site(as_user, site, owner, other_owner):
    assert as_user(owner).options(f"/api/v1/sites/{site.slug}/contacts/").status_code == 200
    assert as_user(other_owner).options(f"/api/v1/sites/{site.slug}/contacts/").status_code == 404
