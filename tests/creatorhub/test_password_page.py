"""The Password page (docs/security.md, "Dashboard accounts"): a logged-in user changes
their password, which keeps this session and logs out every other one, or logs out the other sessions
alone."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-lantern-73"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_logged_in(client) -> bool:
    return client.get(reverse("password")).status_code == 200


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.mark.parametrize(("method", "name"), [("get", "password"), ("post", "log-out-other-sessions")])
def test_anonymous_visitors_are_sent_to_log_in(client, db, method, name):
    response = getattr(client, method)(reverse(name))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse(name)}"


def test_the_user_menu_links_to_the_password_page(site, owner):
    page = logged_in(owner).get(f"/app/{site.slug}/")

    assert f'href="{reverse("password")}"' in page.content.decode()


def test_changing_the_password_keeps_this_session_and_logs_out_the_others(site, owner, admin):
    this, other, someone_else = logged_in(owner), logged_in(owner), logged_in(admin)

    response = this.post(
        reverse("password"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("password")
    assert "Your password is changed. Your other sessions were logged out." in text(
        this.get(reverse("password"))
    )
    assert this.get(f"/app/{site.slug}/").status_code == 200
    assert not is_logged_in(other)
    assert is_logged_in(someone_else)  # another user's sessions are theirs
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_wrong_current_password_or_a_weak_new_one_is_a_form_error(owner):
    client = logged_in(owner)

    wrong = client.post(
        reverse("password"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    weak = client.post(
        reverse("password"), {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )

    assert wrong.status_code == weak.status_code == 200
    assert "Your old password was entered incorrectly." in text(wrong)
    assert "This password is too short." in text(weak)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_log_out_other_sessions_keeps_this_one_and_the_password(site, owner, admin):
    this, other, someone_else = logged_in(owner), logged_in(owner), logged_in(admin)

    response = this.post(reverse("log-out-other-sessions"))

    assert response.status_code == 302
    assert response["Location"] == reverse("password")
    assert "Your other sessions were logged out. This one stays." in text(this.get(reverse("password")))
    assert this.get(f"/app/{site.slug}/").status_code == 200
    assert not is_logged_in(other)
    assert is_logged_in(someone_else)
    # The password still works, and a new login is a session like any other.
    again = Client()
    assert again.post(reverse("login"), {"username": owner.email, "password": PASSWORD}).status_code == 302
    assert is_logged_in(again)
    this.post(reverse("log-out-other-sessions"))  # and it can be done again
    assert is_logged_in(this)
    assert not is_logged_in(again)


def test_log_out_other_sessions_is_a_post(owner):
    assert logged_in(owner).get(reverse("log-out-other-sessions")).status_code == 405
