"""The team: owners invite by email with a role, change roles and remove members; a site keeps an owner."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scope, scopes_disabled

from creatorhub import services
from creatorhub.errors import TeamError
from creatorhub.models import Invitation, Membership, User
from creatorhub.roles import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def invitation_link():
    assert len(mail.outbox) == 1
    return re.search(r"https?://\S+/invitations/(\S+)/", mail.outbox[0].body).group(0)


def path_of(link):
    return "/" + link.split("/", 3)[3]


def test_owner_invites_by_email_and_the_invitee_gets_a_one_time_link(
    as_user, site, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            f"/api/v1/sites/{site.slug}/invitations/",
            {"email": "newbie@example.com", "role": "assistant"},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["invited_by"] == owner.email
    assert mail.outbox[0].to == ["newbie@example.com"]
    assert "Ana's Yoga Studio" in mail.outbox[0].subject
    with scopes_disabled():
        token_hashes = list(Invitation.objects.values_list("token_hash", flat=True))
    assert invitation_link().rstrip("/").rsplit("/", 1)[1] not in token_hashes  # stored hashed


def test_a_newcomer_accepts_by_choosing_a_password_and_lands_on_the_site(
    client, site, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.invite_member(site, email="newbie@example.com", role=Role.ADMIN, acting_user=owner)
    link = path_of(invitation_link())
    page = client.get(link)
    assert "Join Ana&#x27;s Yoga Studio" in page.content.decode()

    response = client.post(
        link,
        {"name": "New Bie", "password": "correct horse battery", "password_again": "correct horse battery"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/"
    user = User.objects.get(email="newbie@example.com")
    assert user.check_password("correct horse battery")
    with scope(site=site):
        assert Membership.objects.get(user=user).role == Role.ADMIN
    assert client.get(f"/app/{site.slug}/").status_code == 200  # logged in
    assert (
        client.post(
            link, {"name": "x", "password": "another long one", "password_again": "another long one"}
        ).status_code
        == 400
    )  # the link works once


def test_a_weak_password_or_a_mismatch_is_a_form_error_and_creates_nothing(
    client, site, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.invite_member(site, email="newbie@example.com", role=Role.ADMIN, acting_user=owner)
    link = path_of(invitation_link())
    weak = client.post(link, {"name": "N", "password": "123", "password_again": "123"})
    assert weak.status_code == 400
    assert "too short" in weak.content.decode()
    mismatch = client.post(
        link, {"name": "N", "password": "correct horse battery", "password_again": "correct horse battery!"}
    )
    assert "The two passwords differ." in mismatch.content.decode()
    assert not User.objects.filter(email="newbie@example.com").exists()


def test_an_existing_user_accepts_while_logged_in(
    client, site, owner, other_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.invite_member(site, email=other_owner.email.upper(), role=Role.ASSISTANT, acting_user=owner)
    link = path_of(invitation_link())
    assert "log in to accept" in client.get(link).content.decode()
    client.force_login(other_owner)
    assert client.post(link).status_code == 302
    with scope(site=site):
        assert Membership.objects.get(user=other_owner).role == Role.ASSISTANT


def test_an_invitation_for_someone_else_is_refused(
    client, site, owner, other_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        services.invite_member(site, email="someone@example.com", role=Role.ADMIN, acting_user=owner)
    client.force_login(other_owner)
    response = client.post(path_of(invitation_link()))
    assert response.status_code == 400
    assert "This invitation is for someone@example.com" in response.content.decode()
    with scope(site=site):
        assert not Membership.objects.filter(user=other_owner).exists()


def test_an_expired_or_revoked_invitation_cannot_be_used(
    client, site, owner, django_capture_on_commit_callbacks, time_machine
):
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        invitation, token = services.invite_member(
            site, email="late@example.com", role=Role.ADMIN, acting_user=owner
        )
    time_machine.move_to(invitation.expires_at, tick=False)
    response = client.post(
        f"/invitations/{token}/",
        {"name": "L", "password": "correct horse battery", "password_again": "correct horse battery"},
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="late@example.com").exists()
    assert client.get("/invitations/not-a-token/").status_code == 404


def test_inviting_a_current_member_is_a_field_error(as_user, site, owner, admin):
    response = as_user(owner).post(
        f"/api/v1/sites/{site.slug}/invitations/", {"email": admin.email, "role": "admin"}, format="json"
    )
    assert response.status_code == 400
    assert "already on this site's team" in response.json()["fields"]["email"][0]


def test_owner_changes_a_role_and_removes_a_member(as_user, site, owner, admin):
    client = as_user(owner)
    with scope(site=site):
        membership = Membership.objects.get(user=admin)
    url = f"/api/v1/sites/{site.slug}/members/{membership.pk}/"
    assert client.patch(url, {"role": "assistant"}, format="json").json()["role"] == "assistant"
    assert client.delete(url).status_code == 204
    with scope(site=site):
        assert not Membership.objects.filter(user=admin).exists()


def test_a_site_keeps_at_least_one_owner(site, owner):
    with scope(site=site):
        membership = Membership.objects.get(user=owner)
        with pytest.raises(TeamError, match="at least one owner"):
            services.change_member_role(site, membership=membership, role=Role.ADMIN)
        with pytest.raises(TeamError, match="at least one owner"):
            services.remove_member(site, membership=membership)
        second = MembershipFactory(site=site, role=Role.OWNER)
        services.change_member_role(site, membership=membership, role=Role.ADMIN)
        assert Membership.objects.get(pk=second.pk).role == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ASSISTANT])
def test_only_owners_manage_the_team_but_every_member_sees_it(as_user, site, owner, role, request):
    client = as_user(request.getfixturevalue(role))
    assert client.get(f"/api/v1/sites/{site.slug}/members/").status_code == 200
    with scope(site=site):
        owner_membership = Membership.objects.get(user=owner)
    assert (
        client.patch(
            f"/api/v1/sites/{site.slug}/members/{owner_membership.pk}/", {"role": "admin"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/sites/{site.slug}/invitations/",
            {"email": "x@example.com", "role": "admin"},
            format="json",
        ).status_code
        == 403
    )


def test_another_sites_owner_cannot_touch_this_sites_members_or_invitations(
    as_user, site, owner, other_site, other_owner
):
    with scope(site=site):
        invitation, _ = services.invite_member(
            site, email="x@example.com", role=Role.ADMIN, acting_user=owner
        )
        membership = Membership.objects.get(user=owner)
    client = as_user(other_owner)
    for slug in (site.slug, other_site.slug):
        assert (
            client.patch(
                f"/api/v1/sites/{slug}/members/{membership.pk}/", {"role": "admin"}, format="json"
            ).status_code
            == 404
        )
        assert client.delete(f"/api/v1/sites/{slug}/invitations/{invitation.pk}/").status_code == 404
    with scopes_disabled():
        assert Membership.objects.get(pk=membership.pk).role == Role.OWNER
        assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_the_member_list_is_paged_by_cursor(as_user, site, owner):
    for _ in range(4):
        MembershipFactory(site=site, role=Role.ASSISTANT, user=UserFactory())
    client = as_user(owner)
    first = client.get(f"/api/v1/sites/{site.slug}/members/?page_size=3").json()
    second = client.get(first["next"]).json()
    emails = [m["email"] for m in first["results"] + second["results"]]
    assert len(emails) == 5
    assert len(set(emails)) == 5
    assert second["next"] is None
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_login_is_by_email_in_any_case(client, owner):
    response = client.post("/accounts/login/", {"username": owner.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_removing_a_member_revokes_the_api_keys_they_made(as_user, site, owner, admin, api_client):
    with scope(site=site):
        theirs, secret = services.create_api_key(
            site, name="Their Zapier", role=Role.ADMIN, acting_user=admin
        )
        ours, our_secret = services.create_api_key(site, name="Checkout", role=Role.ADMIN, acting_user=owner)
        membership = Membership.objects.get(user=admin)
    contacts = f"/api/v1/sites/{site.slug}/contacts/"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.get(contacts).status_code == 200

    page = Client()
    page.force_login(owner)
    response = page.post(f"/app/{site.slug}/settings/team/{membership.pk}/remove/", follow=True)
    assert "The API keys they made no longer work: “Their Zapier”." in response.content.decode()
    assert api_client.get(contacts).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {our_secret}")
    assert api_client.get(contacts).status_code == 200  # another member's key is theirs to keep
    with scope(site=site):
        theirs.refresh_from_db()
        ours.refresh_from_db()
    assert theirs.revoked_at is not None
    assert ours.revoked_at is None


def test_the_invitation_token_never_travels_through_the_broker(
    site, owner, monkeypatch, client, mailoutbox, django_capture_on_commit_callbacks
):
    """The task is given ids only; the worker works the token out again from the server's secret."""
    from creatorhub import tasks

    sent = []
    monkeypatch.setattr(tasks.send_invitation_email, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True), scope(site=site):
        invitation, token = services.invite_member(
            site, email="newbie@example.com", role=Role.ADMIN, acting_user=owner
        )
    assert sent == [(site.pk, invitation.pk)]
    assert not any(token in str(arg) for arg in sent[0])

    tasks.send_invitation_email(*sent[0])  # as the worker runs it
    link = path_of(invitation_link())
    assert link.rstrip("/").rsplit("/", 1)[1] == token
    assert "Join Ana&#x27;s Yoga Studio" in client.get(link).content.decode()
