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
