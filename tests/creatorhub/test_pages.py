"""The dashboard shell: login, the site chooser, a site's pages, and who may see what."""

import pytest
from django_scopes import scope, scopes_disabled

from creatorhub import services
from creatorhub.models import ApiKey, Invitation, Membership
from creatorhub.roles import Role
from tests.factories import PASSWORD, MembershipFactory

SITE_PAGES = ["", "settings/team/"]


def test_the_dashboard_asks_for_login_first(client, site):
    for url in ("/app/", f"/app/{site.slug}/", f"/app/{site.slug}/settings/team/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_login_with_a_wrong_password_says_so(client, owner):
    response = client.post("/accounts/login/", {"username": owner.email, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()


def test_a_user_on_one_site_goes_straight_to_it(client, site, owner):
    client.post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
    response = client.get("/app/")
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/"


def test_a_user_on_several_sites_chooses_and_switches(client, site, other_site, owner):
    MembershipFactory(site=other_site, user=owner, role=Role.ASSISTANT)
    client.force_login(owner)
    chooser = client.get("/app/").content.decode()
    assert "Ana&#x27;s Yoga Studio" in chooser
    assert "Ben Codes" in chooser
    page = client.get(f"/app/{site.slug}/").content.decode()
    assert f'href="/app/{other_site.slug}/"' in page  # the switcher
    assert client.get(f"/app/{other_site.slug}/").status_code == 200


def test_logout_is_a_post_and_ends_the_session(client, site, owner):
    client.force_login(owner)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(f"/app/{site.slug}/").status_code == 302


@pytest.mark.parametrize("page", SITE_PAGES)
def test_another_sites_user_gets_404_on_every_site_page(client, site, other_owner, page):
    client.force_login(other_owner)
    assert client.get(f"/app/{site.slug}/{page}").status_code == 404


def test_an_unknown_site_is_404(client, owner):
    client.force_login(owner)
    assert client.get("/app/no-such-site/").status_code == 404


def test_the_overview_shows_the_plan_to_owners_only(client, site, owner, admin):
    client.force_login(owner)
    assert "Basic</a>: 10,000 contacts" in client.get(f"/app/{site.slug}/").content.decode()
    client.force_login(admin)
    assert "10,000 contacts" not in client.get(f"/app/{site.slug}/").content.decode()


def test_the_tabs_show_only_what_the_role_may_open(client, site, owner, assistant):
    client.force_login(assistant)
    page = client.get(f"/app/{site.slug}/settings/team/").content.decode()
    assert 'aria-current="page">Settings</a>' in page
    assert "API keys" not in page
    assert "Send invitation" not in page
    assert "Remove" not in page


def test_owner_invites_from_the_team_page(
    client, site, owner, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/app/{site.slug}/settings/team/", {"email": "new@example.com", "role": "admin"}
        )
    assert response.status_code == 302
    assert mailoutbox[0].to == ["new@example.com"]
    page = client.get(f"/app/{site.slug}/settings/team/").content.decode()
    assert "Invitation sent to new@example.com." in page
    assert "new@example.com as Admin" in page


def test_a_bad_invitation_is_a_form_error(client, site, owner):
    client.force_login(owner)
    response = client.post(f"/app/{site.slug}/settings/team/", {"email": "not-an-email", "role": "boss"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert "Select a valid choice." in page
    with scopes_disabled():
        assert not Invitation.objects.exists()


def test_the_last_owner_cannot_demote_themselves_from_the_page(client, site, owner):
    client.force_login(owner)
    with scope(site=site):
        membership = Membership.objects.get(user=owner)
    response = client.post(
        f"/app/{site.slug}/settings/team/{membership.pk}/role/", {"role": "admin"}, follow=True
    )
    assert "A site keeps at least one owner" in response.content.decode()
    with scope(site=site):
        assert Membership.objects.get(pk=membership.pk).role == Role.OWNER


def test_owner_removes_a_member_from_the_page(client, site, owner, admin):
    client.force_login(owner)
    with scope(site=site):
        membership = Membership.objects.get(user=admin)
    response = client.post(f"/app/{site.slug}/settings/team/{membership.pk}/remove/", follow=True)
    assert f"{admin.email} was removed from the team." in response.content.decode()
    client.force_login(admin)
    assert client.get(f"/app/{site.slug}/").status_code == 404


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ASSISTANT])
def test_only_owners_change_the_team_or_open_api_keys(client, site, owner, role, request):
    client.force_login(request.getfixturevalue(role))
    with scope(site=site):
        owner_membership = Membership.objects.get(user=owner)
    assert (
        client.post(
            f"/app/{site.slug}/settings/team/", {"email": "x@example.com", "role": "owner"}
        ).status_code
        == 403
    )
    assert client.post(f"/app/{site.slug}/settings/team/{owner_membership.pk}/remove/").status_code == 403
    assert client.get(f"/app/{site.slug}/settings/api-keys/").status_code == 403
    with scope(site=site):
        assert Membership.objects.filter(pk=owner_membership.pk).exists()


def test_another_sites_owner_cannot_act_on_this_sites_members_through_their_own_site(
    client, site, owner, other_site, other_owner
):
    with scope(site=site):
        membership = Membership.objects.get(user=owner)
    client.force_login(other_owner)
    for slug in (site.slug, other_site.slug):
        assert client.post(f"/app/{slug}/settings/team/{membership.pk}/remove/").status_code == 404
        assert (
            client.post(f"/app/{slug}/settings/team/{membership.pk}/role/", {"role": "admin"}).status_code
            == 404
        )
    with scope(site=site):
        assert Membership.objects.get(pk=membership.pk).role == Role.OWNER


def test_owner_creates_a_key_on_the_page_and_sees_it_once(client, site, owner):
    client.force_login(owner)
    created = client.post(f"/app/{site.slug}/settings/api-keys/", {"name": "Zapier", "role": "assistant"})
    assert created.status_code == 200
    secret = created.context["secret"]
    assert secret in created.content.decode()
    again = client.get(f"/app/{site.slug}/settings/api-keys/").content.decode()
    assert "Zapier" in again
    assert secret not in again


def test_owner_revokes_a_key_on_the_page(client, site, owner):
    with scope(site=site):
        api_key, _ = services.create_api_key(site, name="Old", role=Role.ADMIN, acting_user=owner)
    client.force_login(owner)
    response = client.post(f"/app/{site.slug}/settings/api-keys/{api_key.pk}/revoke/", follow=True)
    assert "The key “Old” was revoked" in response.content.decode()
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None


def test_another_sites_owner_cannot_revoke_this_sites_key(client, site, owner, other_site, other_owner):
    with scope(site=site):
        api_key, _ = services.create_api_key(site, name="Mine", role=Role.ADMIN, acting_user=owner)
    client.force_login(other_owner)
    for slug in (site.slug, other_site.slug):
        assert client.post(f"/app/{slug}/settings/api-keys/{api_key.pk}/revoke/").status_code == 404
    with scopes_disabled():
        assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None


def test_a_key_without_a_name_is_a_form_error(client, site, owner):
    client.force_login(owner)
    response = client.post(f"/app/{site.slug}/settings/api-keys/", {"name": "", "role": "admin"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_pages_refuse_methods_they_do_not_serve(client, site, owner):
    client.force_login(owner)
    assert client.delete(f"/app/{site.slug}/settings/team/").status_code == 405
    assert client.get(f"/app/{site.slug}/settings/api-keys/1/revoke/").status_code == 405
