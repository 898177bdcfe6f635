"""Abuse limits (docs/security.md, "Abuse limits"): rate limits on the
dashboard and member-area logins, the password resets, the public forms and the API keys, each a 429
with Retry-After; django-axes' lockout of an account for the address its failures came from; the cap
on an account's failed logins, which never refuses the owner's own browser.

Rates are settings: each test sets small ones. Every test starts with an empty cache of its own
(tests/conftest.py) and axes' failures are rows of the test's rolled-back transaction, so nothing a test
counts reaches another one (test_no_failure_or_count_is_left_over_from_an_earlier_test)."""

import re
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from contacts.models import Contact
from creatorhub import services
from creatorhub.env import envrate
from creatorhub.login import KNOWN_DEVICE_COOKIE
from creatorhub.roles import Role
from offers.services import access, catalog, members
from tests.factories import PASSWORD, ContactFactory, FormFactory, SiteFactory

HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
MEMBER_PASSWORD = "calm-river-sunrise-42"


def log_in(client, email, password=PASSWORD, address=HOME):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def retry_after(response) -> int:
    return int(response["Retry-After"])


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# -- The dashboard login -----------------------------------------------------------------------------------


def test_an_address_over_its_login_rate_gets_429_with_retry_after(client, settings, owner):
    settings.LOGIN_RATE_PER_IP = "3/10m"
    for n in range(3):
        assert (
            log_in(client, f"nobody{n}@example.com", "wrong").status_code == 200
        )  # the form, with its error

    refused = log_in(client, owner.email)

    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 600
    assert "Too many login attempts from your network" in text(refused)
    assert f'value="{owner.email}"' in refused.content.decode()  # the email is kept
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert log_in(Client(), owner.email, address=ELSEWHERE).status_code == 302


def test_failed_logins_lock_the_account_for_that_address_only_until_the_cool_off(
    client, settings, owner, admin, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    limit, cool_off = settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME  # the defaults
    assert (limit, cool_off) == (5, timedelta(minutes=15))
    # The case of the email does not make a new count.
    codes = [
        log_in(client, email, "wrong").status_code for email in [owner.email] * 4 + [owner.email.upper()]
    ]

    assert codes == [200, 200, 200, 200, 429]
    locked = log_in(client, owner.email)  # even the right password
    assert locked.status_code == 429
    assert retry_after(locked) == 15 * 60
    assert "logging in to it from here is paused" in text(locked)
    assert "_auth_user_id" not in client.session
    # From another address the owner logs in: an attacker cannot lock them out from everywhere.
    assert log_in(Client(), owner.email, address=ELSEWHERE).status_code == 302
    # Another account from the locked address is not affected.
    assert log_in(Client(), admin.email).status_code == 302
    assert AccessAttempt.objects.get().username == owner.email
    time_machine.shift(timedelta(minutes=14))
    assert log_in(client, owner.email).status_code == 429  # and the cool-off starts again
    time_machine.shift(timedelta(minutes=15, seconds=1))

    assert log_in(client, owner.email).status_code == 302


def test_no_failure_or_count_is_left_over_from_an_earlier_test(client, owner):
    """Runs after the lockout above: its failures, and its cache counters, are gone."""
    assert not AccessAttempt.objects.exists()
    assert log_in(client, owner.email).status_code == 302


def test_failed_logins_for_one_account_from_many_addresses_are_capped(client, settings, owner, admin):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    for n in range(3):
        assert log_in(Client(), owner.email, "wrong", address=f"192.0.2.{n}").status_code == 200

    refused = log_in(client, owner.email, address="192.0.2.200")

    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 3600
    assert "Too many failed logins for this account" in text(refused)
    assert "Reset your password" in text(refused)
    assert f'href="{reverse("password-reset")}?email={quote(owner.email)}"' in refused.content.decode()
    assert log_in(client, admin.email, address="192.0.2.200").status_code == 302


def test_a_stranger_who_uses_up_the_accounts_cap_does_not_keep_the_owner_out_of_their_own_browser(
    settings, owner
):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "3/h"
    owners_browser = Client()
    assert log_in(owners_browser, owner.email).status_code == 302  # known for the account from now on
    owners_browser.post(reverse("logout"))
    for n in range(3):
        assert log_in(Client(), owner.email, "wrong", address=f"192.0.2.{n}").status_code == 200

    # The owner's browser: a wrong password is a form error, the right one gets in.
    assert log_in(owners_browser, owner.email, "typo").status_code == 200
    assert log_in(owners_browser, owner.email).status_code == 302
    # Any other browser, with the right password too, is sent to the password reset.
    refused = log_in(Client(), owner.email, address="192.0.2.200")
    assert refused.status_code == 429
    assert "Log in from a browser you used for it before, reset your password" in text(refused)


def test_a_known_browser_still_meets_the_lockout_of_its_own_address(client, settings, owner):
    assert log_in(client, owner.email).status_code == 302
    client.post(reverse("logout"))
    codes = [log_in(client, owner.email, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    assert codes[-1] == 429
    locked = log_in(client, owner.email)
    assert locked.status_code == 429
    assert "logging in to it from here is paused. Reset your password" in text(locked)
    assert f'href="{reverse("password-reset")}?email=' in locked.content.decode()


def test_a_browser_is_known_only_for_the_accounts_it_logged_in_to(client, settings, owner, admin):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "1/h"
    shared = Client()
    for user in (owner, admin):  # a computer the team shares
        assert log_in(shared, user.email).status_code == 302
        shared.post(reverse("logout"))
    assert log_in(client, admin.email).status_code == 302
    client.post(reverse("logout"))
    for user in (owner, admin):
        log_in(Client(), user.email, "wrong", address=ELSEWHERE)

    assert log_in(client, owner.email).status_code == 429  # known for the admin, not the owner
    assert log_in(client, admin.email).status_code == 302
    for user in (owner, admin):
        assert log_in(shared, user.email).status_code == 302
        shared.post(reverse("logout"))
    assert log_in(Client(), owner.email).status_code == 429
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = str(owner.pk)  # unsigned
    assert log_in(forged, owner.email).status_code == 429


def test_the_known_browser_cookie_is_signed_http_only_and_lax(client, settings, owner):
    settings.SESSION_COOKIE_SECURE = True

    cookie = log_in(client, owner.email).cookies[KNOWN_DEVICE_COOKIE]

    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 365 * 24 * 3600
    assert str(owner.pk) in cookie.value
    assert cookie.value != str(owner.pk)  # with its signature


def test_a_logged_in_user_is_not_counted_or_locked(client, owner):
    assert log_in(client, owner.email).status_code == 302
    assert not AccessAttempt.objects.exists()


# -- The member area ---------------------------------------------------------------------------------------


def member(site, email="mia@example.com"):
    """A customer of the site with a member password."""
    with scope(site=site):
        offer = catalog.create_offer(site, title="Yoga for Beginners")
        contact = ContactFactory(site=site, email=email, name="Mia")
        access.grant_offer(site, offer=offer, contact=contact)
        token = members.member_link_tokens.make_token(contact)
        members.set_member_password(
            site, contact=contact, token=token, password=MEMBER_PASSWORD, password_again=MEMBER_PASSWORD
        )
    return contact


def member_log_in(client, site, email, password=MEMBER_PASSWORD, address=HOME):
    url = reverse("member-login", args=[site.slug])
    return client.post(url, {"email": email, "password": password}, REMOTE_ADDR=address)


def test_failed_member_logins_are_capped_per_site_and_email(client, settings, site, other_site):
    settings.MEMBER_LOGIN_FAILURES_PER_EMAIL = "3/15m"
    mia = member(site)
    member(other_site)  # the same email, a member of another site
    for n in range(3):
        assert (
            member_log_in(Client(), site, "mia@example.com", "wrong", address=f"192.0.2.{n}").status_code
            == 400
        )

    refused = member_log_in(client, site, "MIA@example.com")  # from anywhere, with the right password

    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 900
    assert "Too many failed logins for this email" in text(refused)
    assert "Forgot your password?" in text(refused)
    # The same email on another site, and another email on this site, are not affected.
    assert member_log_in(Client(), other_site, "mia@example.com").status_code == 302
    member(site, "noah@example.com")
    assert member_log_in(Client(), site, "noah@example.com").status_code == 302
    # Mia gets in through a password reset link, which no login limit counts.
    with scope(site=site):
        link = members.set_password_url(site, Contact.objects.get(pk=mia.pk))
    response = client.post(link, {"password": "new-quiet-harbour-7", "password_again": "new-quiet-harbour-7"})
    assert response.status_code == 302, text(response)
    assert response["Location"] == reverse("member-library", args=[site.slug])


def test_an_address_over_its_member_login_rate_gets_429_on_every_site(client, settings, site, other_site):
    settings.MEMBER_LOGIN_RATE_PER_IP = "3/10m"
    member(site)
    member(other_site)
    for n in range(3):
        assert member_log_in(client, site, f"someone{n}@example.com", "wrong").status_code == 400

    refused = member_log_in(client, other_site, "mia@example.com")

    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 600
    assert "Too many attempts from your network" in text(refused)
    assert member_log_in(Client(), other_site, "mia@example.com", address=ELSEWHERE).status_code == 302


def test_member_password_resets_are_limited_per_email_and_per_address(client, settings, site, mailoutbox):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "2/h"
    settings.PASSWORD_RESET_RATE_PER_IP = "4/h"
    member(site)
    url = reverse("member-password-reset", args=[site.slug])

    def reset(email, address=HOME):
        return client.post(url, {"email": email}, REMOTE_ADDR=address)

    assert [reset("mia@example.com", address=a).status_code for a in ("192.0.2.1", "192.0.2.2")] == [200, 200]
    refused = reset("Mia@example.com", address="192.0.2.3")
    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 3600
    assert "Check your inbox" in text(refused)
    # The address's own rate: four requests, whatever the email.
    codes = [reset(f"someone{n}@example.com").status_code for n in range(5)]
    assert codes == [200, 200, 200, 200, 429]


def test_dashboard_password_resets_are_limited_per_email_and_per_address(client, settings, owner, mailoutbox):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "2/h"
    settings.PASSWORD_RESET_RATE_PER_IP = "4/h"

    def reset(email, address=HOME):
        return client.post(reverse("password-reset"), {"email": email}, REMOTE_ADDR=address)

    assert [reset(owner.email, address=a).status_code for a in ("192.0.2.1", "192.0.2.2")] == [200, 200]
    refused = reset(owner.email.upper(), address="192.0.2.3")
    assert refused.status_code == 429
    assert 1 <= retry_after(refused) <= 3600
    assert "We sent links to this address a moment ago" in text(refused)
    # The address's own rate: four requests, whatever the email.
    codes = [reset(f"someone{n}@example.com").status_code for n in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    assert "Too many attempts from your network" in text(reset("another@example.com"))


# -- Public forms ----------------------------------------------------------------------------------------


def test_a_flood_of_sign_ups_on_one_form_gets_429_and_other_forms_are_not_affected(client, settings, site):
    settings.FORM_SUBMISSION_RATE_PER_IP = "3/10m"
    newsletter = FormFactory(site=site, slug="newsletter")
    workshop = FormFactory(site=site, slug="workshop")

    def submit(form, n, address=HOME):
        url = reverse("public-form", args=[site.slug, form.slug])
        return client.post(url, {"email": f"person{n}@example.com"}, REMOTE_ADDR=address)

    assert [submit(newsletter, n).status_code for n in range(4)] == [200, 200, 200, 429]
    refused = submit(newsletter, 9)
    assert 1 <= retry_after(refused) <= 600
    assert "Too many sign-ups came from your network" in text(refused)
    assert submit(workshop, 10).status_code == 200
    assert submit(newsletter, 11, address=ELSEWHERE).status_code == 200


# -- API keys --------------------------------------------------------------------------------------------


@pytest.fixture
def two_keys(site, owner):
    with scope(site=site):
        _, first = services.create_api_key(site, name="Checkout", role=Role.ADMIN, acting_user=owner)
        _, second = services.create_api_key(site, name="Zapier", role=Role.ADMIN, acting_user=owner)
    return first, second


def with_key(secret):
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_an_api_key_over_its_rate_gets_429_json_with_retry_after_and_other_keys_do_not(
    settings, site, owner, two_keys, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    settings.API_RATE_PER_KEY = "3/m"
    first, second = two_keys
    url = f"/api/v1/sites/{site.slug}/contacts/"
    assert [with_key(first).get(url).status_code for _ in range(3)] == [200, 200, 200]

    refused = with_key(first).get(url)

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    body = refused.json()
    assert body["code"] == "throttled"
    assert "Expected available in" in body["message"]
    assert 1 <= retry_after(refused) <= 60
    assert with_key(second).get(url).status_code == 200
    session = Client()
    session.force_login(owner)
    assert [session.get(url).status_code for _ in range(5)] == [200] * 5  # sessions: no key, no rate
    time_machine.shift(timedelta(seconds=61))
    assert with_key(first).get(url).status_code == 200


def test_an_api_keys_writes_have_a_stricter_rate_of_their_own(settings, site, two_keys):
    settings.API_WRITE_RATE_PER_KEY = "2/m"
    first, _ = two_keys
    url = f"/api/v1/sites/{site.slug}/contacts/"

    def create(n):
        return with_key(first).post(url, {"email": f"person{n}@example.com"}, content_type="application/json")

    assert [create(n).status_code for n in range(3)] == [201, 201, 429]
    assert with_key(first).get(url).status_code == 200  # reads keep their own budget


# -- When the cache fails --------------------------------------------------------------------------------


def test_when_the_cache_fails_the_limits_let_requests_through(client, settings, site, owner, two_keys):
    settings.API_RATE_PER_KEY = "1/m"
    settings.MEMBER_LOGIN_RATE_PER_IP = "1/m"
    member(site)
    with (
        mock.patch.object(LocMemCache, "add", side_effect=ConnectionError("the cache is down")),
        mock.patch.object(LocMemCache, "get", side_effect=ConnectionError("the cache is down")),
    ):
        url = f"/api/v1/sites/{site.slug}/contacts/"
        assert [with_key(two_keys[0]).get(url).status_code for _ in range(2)] == [200, 200]
        assert member_log_in(client, site, "mia@example.com", "wrong").status_code == 400
        assert member_log_in(client, site, "mia@example.com").status_code == 302


def test_a_rate_setting_is_checked_when_read(monkeypatch):
    monkeypatch.setenv("LOGIN_RATE_PER_IP", "ten a minute")
    with pytest.raises(ImproperlyConfigured, match='LOGIN_RATE_PER_IP must look like "10/15m"'):
        envrate("LOGIN_RATE_PER_IP", "30/10m")
    monkeypatch.setenv("LOGIN_RATE_PER_IP", "5/15m")
    assert envrate("LOGIN_RATE_PER_IP", "30/10m") == "5/15m"


def test_another_sites_member_is_never_counted_with_this_one(settings, site):
    """Site ids are part of the member keys: the same email on a site made later starts at zero."""
    settings.MEMBER_LOGIN_FAILURES_PER_EMAIL = "1/15m"
    member(site)
    assert member_log_in(Client(), site, "mia@example.com", "wrong").status_code == 400
    assert member_log_in(Client(), site, "mia@example.com").status_code == 429
    later = SiteFactory(slug="cleo-cooks")
    member(later)
    assert member_log_in(Client(), later, "mia@example.com").status_code == 302
