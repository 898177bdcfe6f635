"""The member (the Member Welcome's one-time link, the member area under /s/<site>/):
setting a password through the link, logging in and out, password reset, the library and lessons, and
that nothing of one site's members reaches another site."""

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from contacts.models import Contact
from emails.models import EmailKind, OutboundEmail
from offers.errors import MemberError
from offers.models import Access, LessonCompletion
from offers.selectors import library_of
from offers.services import access as access_services
from offers.services import catalog, members
from tests.factories import ContactFactory

PASSWORD = "calm-river-sunrise-42"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def make_offer(site, title="Yoga for Beginners", lessons=("Breathing", "Sun salutation", "Rest")):
    with scope(site=site):
        course = catalog.create_product(site, title=f"{title}: the course", lesson_titles=list(lessons))
        return catalog.create_offer(site, title=title, product_ids=[course.pk])


def grant(site, offer, contact):
    with scope(site=site):
        return access_services.grant_offer(site, offer=offer, contact=contact)


def lessons_of(site, offer):
    with scope(site=site):
        return [lesson for product in offer.products.all() for lesson in product.lessons.order_by("position")]


@pytest.fixture
def yoga(site):
    return make_offer(site)


@pytest.fixture
def mia(site, yoga):
    """A contact who was just granted the offer: a new customer with a Member Welcome in the outbox."""
    contact = ContactFactory(site=site, email="Mia@Example.com", name="Mia")
    grant(site, yoga, contact)
    return contact


def welcome_link(site, contact) -> str:
    """The path of the set-password link of the contact's Member Welcome (as written in the outbox)."""
    with scope(site=site):
        email = OutboundEmail.objects.get(contact=contact, kind=EmailKind.MEMBER_WELCOME)
    return urlsplit(email.context["set_password_url"]).path


def reset_link(site, contact) -> str:
    with scope(site=site):
        email = OutboundEmail.objects.filter(contact=contact, kind=EmailKind.MEMBER_PASSWORD_RESET).first()
    return urlsplit(email.context["reset_url"]).path


def fresh(site, contact) -> Contact:
    with scope(site=site):
        return Contact.objects.get(pk=contact.pk)


def url(name, site, *args) -> str:
    return reverse(name, args=[site.slug, *args])


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def set_password(client, site, contact, password=PASSWORD):
    return client.post(welcome_link(site, contact), {"password": password, "password_again": password})


def log_in(client, site, email, password=PASSWORD):
    return client.post(url("member-login", site), {"email": email, "password": password})


@pytest.fixture
def member(client, site, mia):
    """Mia, with her password set through the welcome link, logged in on `client`."""
    response = set_password(client, site, mia)
    assert response.status_code == 302
    return mia


# -- The Member Welcome and its one-time link ----------------------------------------------------------


def test_member_welcome_email_carries_a_one_time_set_password_link_and_no_password(
    site, yoga, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(site=site, email="mia@example.com", name="Mia")
    with django_capture_on_commit_callbacks(execute=True):
        grant(site, yoga, contact)

    welcome = next(m for m in mailoutbox if "set your password" in m.subject)
    assert welcome.to == ["mia@example.com"]
    links = re.findall(r"https?://\S+", welcome.body)
    assert len(links) == 1
    assert urlsplit(links[0]).path == welcome_link(site, contact)
    assert re.fullmatch(r"/s/ana-yoga/set-password/[\w-]+/[\w-]+/", urlsplit(links[0]).path)
    html_body = welcome.alternatives[0][0]
    assert links[0] in html.unescape(html_body)
    # No password exists to be emailed: the member chooses it through the link.
    assert fresh(site, contact).member_password == ""
    assert "password:" not in welcome.body.lower()


def test_member_welcome_link_sets_the_password_logs_in_and_shows_the_library(client, site, yoga, mia):
    link = welcome_link(site, mia)
    assert client.get(link).status_code == 200
    page = client.get(link)  # opening the link (or a mail scanner doing so) spends nothing
    assert page.status_code == 200
    assert "Choose your password" in text(page)
    assert page["Referrer-Policy"] == "same-origin"

    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == url("member-library", site)
    stored = fresh(site, mia)
    assert stored.member_password != PASSWORD
    assert check_password(PASSWORD, stored.member_password)
    assert stored.member_last_login_at is not None
    library = client.get(url("member-library", site))
    assert library.status_code == 200
    page_text = text(library)
    assert "Ana's Yoga Studio" in page_text
    assert "Yoga for Beginners" in page_text
    assert re.search(r"Breathing .*Sun salutation .*Rest", page_text)
    assert "0 of 3 done" in page_text


def test_the_set_password_link_works_once(client, site, member):
    link = welcome_link(site, member)

    again = Client()
    page = again.get(link)
    assert page.status_code == 400
    assert "This link has expired or was already used" in text(page)
    assert url("member-password-reset", site) in page.content.decode()
    post = again.post(link, {"password": "another-" + PASSWORD, "password_again": "another-" + PASSWORD})
    assert post.status_code == 400
    assert check_password(PASSWORD, fresh(site, member).member_password)
    assert again.get(url("member-library", site)).status_code == 302


def test_the_set_password_link_expires_after_three_days(client, site, mia, time_machine):
    link = welcome_link(site, mia)
    time_machine.move_to(timezone.now() + timedelta(days=4), tick=False)

    assert client.get(link).status_code == 400
    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD})

    assert response.status_code == 400
    assert "expired" in text(response)
    assert fresh(site, mia).member_password == ""


def test_set_password_refuses_a_weak_or_mismatched_password_and_keeps_the_link(client, site, mia):
    link = welcome_link(site, mia)

    weak = client.post(link, {"password": "12345678", "password_again": "12345678"})
    assert weak.status_code == 400
    assert "too common" in text(weak)
    mismatch = client.post(link, {"password": PASSWORD, "password_again": PASSWORD + "!"})
    assert mismatch.status_code == 400
    assert "The two passwords do not match." in text(mismatch)
    like_email = client.post(link, {"password": "mia@example.com", "password_again": "mia@example.com"})
    assert like_email.status_code == 400

    assert fresh(site, mia).member_password == ""
    assert client.post(link, {"password": PASSWORD, "password_again": PASSWORD}).status_code == 302


def test_a_bad_uid_in_the_link_shows_the_expired_page(client, site, mia):
    token = welcome_link(site, mia).rstrip("/").rsplit("/", 1)[1]
    for uid in ("not-base64!", "MTIzNDU2Nzg5", "YWJj"):
        assert client.get(url("member-set-password", site, uid, token)).status_code == 400
        response = client.post(
            url("member-set-password", site, uid, token), {"password": PASSWORD, "password_again": PASSWORD}
        )
        assert response.status_code == 400


# -- Login and logout ------------------------------------------------------------------------------------


def test_a_member_logs_in_with_their_email_and_password(client, site, member):
    client.post(url("member-logout", site))
    before = fresh(site, member).member_last_login_at

    response = log_in(client, site, "MIA@example.com")

    assert response.status_code == 302
    assert response["Location"] == url("member-library", site)
    assert fresh(site, member).member_last_login_at > before
    assert "Yoga for Beginners" in text(client.get(url("member-library", site)))


def test_a_wrong_password_and_an_unknown_email_fail_with_the_same_message(client, site, member):
    client.post(url("member-logout", site))

    wrong = log_in(client, site, "mia@example.com", "not-the-password")
    unknown = log_in(client, site, "nobody@example.com", "not-the-password")

    assert wrong.status_code == unknown.status_code == 400
    assert "do not match an account" in text(wrong)
    assert text(wrong).replace("mia@example.com", "X") == text(unknown).replace("nobody@example.com", "X")
    assert client.get(url("member-library", site)).status_code == 302


def test_a_contact_who_never_set_a_password_cannot_log_in(client, site, mia):
    response = log_in(client, site, "mia@example.com", "")
    assert response.status_code == 400
    response = log_in(client, site, "mia@example.com", "anything-at-all")
    assert response.status_code == 400
    assert "do not match an account" in text(response)


def test_a_contact_whose_access_was_revoked_can_no_longer_log_in(client, site, member):
    client.post(url("member-logout", site))
    with scope(site=site):
        access_services.revoke_access(site, access=Access.objects.get(contact=member))

    response = log_in(client, site, "mia@example.com")

    assert response.status_code == 400
    assert "no access to any offer" in text(response)
    assert client.get(url("member-library", site)).status_code == 302


def test_logout_ends_the_member_session(client, site, member):
    assert client.get(url("member-logout", site)).status_code == 405

    response = client.post(url("member-logout", site))

    assert response.status_code == 302
    assert response["Location"] == url("member-login", site)
    library = client.get(url("member-library", site))
    assert library.status_code == 302
    assert library["Location"].startswith(url("member-login", site))


def test_login_starts_a_new_session_key(client, site, member):
    client.post(url("member-logout", site))
    before = client.cookies["sessionid"].value

    log_in(client, site, "mia@example.com")

    assert client.cookies["sessionid"].value != before


def test_a_new_password_ends_the_members_other_sessions(client, site, member):
    with scope(site=site):
        members.request_password_reset(site, email="mia@example.com")
    elsewhere = Client()
    elsewhere.post(
        reset_link(site, member), {"password": "new-" + PASSWORD, "password_again": "new-" + PASSWORD}
    )

    assert elsewhere.get(url("member-library", site)).status_code == 200
    assert client.get(url("member-library", site)).status_code == 302


def test_the_library_asks_a_visitor_to_log_in_and_then_returns_there(client, site, member):
    client.post(url("member-logout", site))
    response = client.get(url("member-library", site))
    assert response.status_code == 302
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200
    assert 'name="next"' in login_page.content.decode()

    back = client.post(
        response["Location"],
        {"email": "mia@example.com", "password": PASSWORD, "next": url("member-library", site)},
    )
    assert back["Location"] == url("member-library", site)
    # A `next` outside the site's member area is ignored.
    client.post(url("member-logout", site))
    elsewhere = client.post(
        url("member-login", site),
        {"email": "mia@example.com", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert elsewhere["Location"] == url("member-library", site)


def test_the_login_form_needs_its_csrf_token(site, member):
    strict = Client(enforce_csrf_checks=True)
    assert log_in(strict, site, "mia@example.com").status_code == 403


def test_repeated_wrong_passwords_for_one_email_are_slowed_down(client, site, member):
    # MEMBER_LOGIN_FAILURES_PER_EMAIL: 5 failures in 15 minutes (tests/creatorhub/test_abuse_limits.py).
    client.post(url("member-logout", site))
    codes = [log_in(client, site, "mia@example.com", f"guess-{n}").status_code for n in range(6)]
    assert codes[:5] == [400] * 5
    assert codes[5] == 429
    assert log_in(client, site, "mia@example.com").status_code == 429


# -- Password reset --------------------------------------------------------------------------------------


def test_password_reset_sends_a_one_time_link_to_a_member(client, site, member):
    client.post(url("member-logout", site))

    response = client.post(url("member-password-reset", site), {"email": "mia@example.com"})

    assert response.status_code == 200
    assert "If an account exists for mia@example.com, we sent it a link" in text(response)
    with scope(site=site):
        assert OutboundEmail.objects.filter(contact=member, kind=EmailKind.MEMBER_PASSWORD_RESET).count() == 1
    link = reset_link(site, member)
    assert client.get(link).status_code == 200
    new = "a-new-" + PASSWORD
    assert client.post(link, {"password": new, "password_again": new}).status_code == 302
    assert client.get(url("member-library", site)).status_code == 200
    client.post(url("member-logout", site))
    assert log_in(client, site, "mia@example.com").status_code == 400
    assert log_in(client, site, "mia@example.com", new).status_code == 302
    assert client.get(link).status_code == 400


def test_password_reset_answers_the_same_for_an_unknown_address_and_sends_nothing(client, site, member):
    known = client.post(url("member-password-reset", site), {"email": "mia@example.com"})
    unknown = client.post(url("member-password-reset", site), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert text(known).replace("mia@example.com", "X") == text(unknown).replace("nobody@example.com", "X")
    with scope(site=site):
        assert not OutboundEmail.objects.filter(to_email="nobody@example.com").exists()
        assert not Contact.objects.filter(email="nobody@example.com").exists()


def test_password_reset_sends_nothing_to_a_contact_who_is_neither_member_nor_customer(client, site):
    ContactFactory(site=site, email="lead@example.com")
    response = client.post(url("member-password-reset", site), {"email": "lead@example.com"})
    assert response.status_code == 200
    with scope(site=site):
        assert not OutboundEmail.objects.filter(kind=EmailKind.MEMBER_PASSWORD_RESET).exists()


def test_asking_twice_within_the_hour_sends_one_email(client, site, member):
    for _ in range(3):
        client.post(url("member-password-reset", site), {"email": "mia@example.com"})
    with scope(site=site):
        assert OutboundEmail.objects.filter(kind=EmailKind.MEMBER_PASSWORD_RESET).count() == 1


def test_password_reset_email_carries_the_link(
    client, site, member, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("member-password-reset", site), {"email": "mia@example.com"})

    (email,) = [m for m in mailoutbox if "Reset your password" in m.subject]
    assert email.to == ["Mia@Example.com"]
    assert reset_link(site, member) in email.body


# -- The library and lessons -----------------------------------------------------------------------------


def test_completing_a_lesson_records_one_completion_and_shows_it_done(client, site, yoga, member):
    _, second, _ = lessons_of(site, yoga)
    page = client.get(url("member-lesson", site, second.pk))
    assert page.status_code == 200
    assert "Sun salutation" in text(page)
    assert "Mark complete" in text(page)
    assert "Next: Rest" in text(page)

    for _ in range(2):
        response = client.post(url("member-lesson-complete", site, second.pk))
        assert response.status_code == 302
        assert response["Location"] == url("member-lesson", site, second.pk)

    with scope(site=site):
        assert LessonCompletion.objects.filter(contact=member, lesson=second).count() == 1
    assert "Completed" in text(client.get(url("member-lesson", site, second.pk)))
    library = client.get(url("member-library", site)).content.decode()
    assert "1 of 3 done" in library
    done = re.findall(r'<li class="done">.*?</li>', library, flags=re.S)
    assert len(done) == 1
    assert "Sun salutation" in done[0]
    assert "(completed)" in done[0]


def test_a_lesson_of_an_offer_the_member_does_not_hold_is_not_found(client, site, member):
    other = make_offer(site, title="Advanced Inversions", lessons=["Headstand"])
    (headstand,) = lessons_of(site, other)

    assert client.get(url("member-lesson", site, headstand.pk)).status_code == 404
    assert client.post(url("member-lesson-complete", site, headstand.pk)).status_code == 404
    assert client.get(url("member-lesson", site, 999999)).status_code == 404
    with scope(site=site):
        assert not LessonCompletion.objects.exists()
    assert "Advanced Inversions" not in text(client.get(url("member-library", site)))


def test_lessons_close_when_the_access_is_revoked(client, site, yoga, member):
    first = lessons_of(site, yoga)[0]
    with scope(site=site):
        access_services.revoke_access(site, access=Access.objects.get(contact=member))

    assert client.get(url("member-lesson", site, first.pk)).status_code == 404
    assert client.post(url("member-lesson-complete", site, first.pk)).status_code == 404
    library = client.get(url("member-library", site))
    assert "You have no offers from Ana's Yoga Studio" in text(library)


def test_complete_lesson_is_idempotent_and_only_for_held_lessons(site, yoga, mia):
    other = make_offer(site, title="Advanced Inversions", lessons=["Headstand"])
    first = lessons_of(site, yoga)[0]
    (headstand,) = lessons_of(site, other)
    with scope(site=site):
        completion, created = members.complete_lesson(site, contact=mia, lesson=first)
        again, created_again = members.complete_lesson(site, contact=mia, lesson=first)
        assert (created, created_again) == (True, False)
        assert again.pk == completion.pk
        with pytest.raises(MemberError) as refused:
            members.complete_lesson(site, contact=mia, lesson=headstand)
        assert refused.value.field == "lesson"


def test_the_library_is_read_in_three_queries(site, mia, django_assert_num_queries):
    for n in range(3):
        grant(site, make_offer(site, title=f"Offer {n}", lessons=[f"Lesson {n}.1", f"Lesson {n}.2"]), mia)
    with scope(site=site), django_assert_num_queries(3):
        library = library_of(mia)
        titles = [
            (
                held.offer.title,
                [lesson.title for c in held.courses for lesson in c.lessons],
                held.courses[0].completed,
            )
            for held in library
        ]
    assert titles[0] == ("Offer 2", ["Lesson 2.1", "Lesson 2.2"], 0)
    assert titles[-1] == ("Yoga for Beginners", ["Breathing", "Sun salutation", "Rest"], 0)


# -- Tenant isolation ------------------------------------------------------------------------------------


def test_an_unknown_site_is_not_found(client, db):
    assert client.get("/s/no-such-site/login/").status_code == 404
    assert client.get("/s/no-such-site/library/").status_code == 404


def test_a_member_of_one_site_cannot_open_another_sites_library(client, site, other_site, member):
    assert client.get(url("member-library", site)).status_code == 200

    response = client.get(url("member-library", other_site))

    assert response.status_code == 302
    assert response["Location"].startswith(url("member-login", other_site))


def test_a_session_key_forged_with_another_sites_contact_loads_nothing(
    client, site, other_site, yoga, member
):
    session = client.session
    session[f"member:{other_site.pk}"] = member.pk
    session[f"member-auth:{other_site.pk}"] = members.member_session_hash(fresh(site, member))
    session.save()
    first = lessons_of(site, yoga)[0]

    library = client.get(url("member-library", other_site))
    assert library.status_code == 302
    assert library["Location"].startswith(url("member-login", other_site))
    lesson = client.get(url("member-lesson", other_site, first.pk))
    assert lesson.status_code == 302
    assert client.post(url("member-lesson-complete", other_site, first.pk)).status_code == 302
    with scope(site=site):
        assert not LessonCompletion.objects.exists()


def test_a_member_of_another_site_cannot_open_this_sites_lessons(client, site, other_site, yoga):
    first = lessons_of(site, yoga)[0]
    ben = ContactFactory(site=other_site, email="ben@example.com")
    grant(other_site, make_offer(other_site, title="Python 101", lessons=["Variables"]), ben)
    client.post(welcome_link(other_site, ben), {"password": PASSWORD, "password_again": PASSWORD})
    assert client.get(url("member-library", other_site)).status_code == 200

    assert client.get(url("member-lesson", other_site, first.pk)).status_code == 404
    assert client.post(url("member-lesson-complete", other_site, first.pk)).status_code == 404
    assert "Yoga for Beginners" not in text(client.get(url("member-library", other_site)))


def test_the_set_password_link_of_one_site_fails_under_another_sites_slug(client, site, other_site, mia):
    link = welcome_link(site, mia).replace(f"/s/{site.slug}/", f"/s/{other_site.slug}/")

    assert client.get(link).status_code == 400
    response = client.post(link, {"password": PASSWORD, "password_again": PASSWORD})

    assert response.status_code == 400
    assert fresh(site, mia).member_password == ""
    assert client.get(url("member-library", other_site)).status_code == 302
    assert client.get(url("member-library", site)).status_code == 302


def test_login_and_reset_on_another_site_do_not_know_this_sites_members(client, site, other_site, member):
    client.post(url("member-logout", site))
    assert log_in(client, other_site, "mia@example.com").status_code == 400
    client.post(url("member-password-reset", other_site), {"email": "mia@example.com"})
    with scope(site=other_site):
        assert not OutboundEmail.objects.exists()
