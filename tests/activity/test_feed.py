"""The contact page's timeline and the site's activity page: events read as sentences, newest
first, keyset pages, and another site's user refused."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from activity.feed import sentence
from activity.models import ActivityEvent
from activity.services import NewEvent, record_events
from tests.factories import ContactFactory


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def next_link(response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
    return html.unescape(found.group(1)).split("#")[0] if found else None


@pytest.fixture
def ana(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana")


@pytest.mark.parametrize(
    ("kind", "details", "expected"),
    [
        (
            "lesson_completed",
            {"lesson": "Breathing", "product": "Yoga Basics"},
            "Ana completed Breathing in Yoga Basics",
        ),
        ("login", {}, "Ana logged in"),
        ("form_submitted", {"form": "Newsletter"}, "Ana submitted the form “Newsletter”"),
        ("purchased", {"offer": "Yoga Basics Course"}, "Ana bought Yoga Basics Course"),
        ("opted_in", {"source": "form"}, "Ana opted in"),
        ("course_completed", {"product": "Yoga Basics"}, "Ana completed the course Yoga Basics"),
        ("lesson_completed", {}, "Ana completed a lesson"),
        ("other", {"anything": 1}, "Ana had other activity"),
    ],
)
def test_events_read_as_sentences(ana, kind, details, expected):
    assert sentence(ActivityEvent(contact=ana, kind=kind, details=details)) == expected


def record(site, contact, count, *, kind="login"):
    now = timezone.now()
    with scope(site=site):
        record_events(
            site,
            [
                NewEvent(contact=contact, kind=kind, occurred_at=now - timedelta(minutes=i))
                for i in range(count)
            ],
        )


def test_the_contact_page_shows_the_timeline_newest_first_20_at_a_time(client, site, owner, ana):
    record(site, ana, 21)
    with scope(site=site):
        record_events(
            site,
            [
                NewEvent(
                    contact=ana,
                    kind="purchased",
                    occurred_at=timezone.now() + timedelta(seconds=1),
                    details={"offer": "Yoga Basics Course"},
                )
            ],
        )
    client.force_login(owner)
    page = client.get(f"/app/{site.slug}/contacts/{ana.pk}/")
    assert page.status_code == 200
    shown = text(page)
    assert "Activity" in shown
    assert shown.index("Ana bought Yoga Basics Course") < shown.index("Ana logged in")
    assert len(page.context["timeline"]) == 20
    older = client.get(next_link(page))
    assert older.status_code == 200
    assert [row["sentence"] for row in older.context["timeline"]] == ["Ana logged in"] * 2
    assert next_link(older) is None


def test_a_contact_without_activity_says_so(client, site, owner, ana):
    client.force_login(owner)
    assert "No activity." in text(client.get(f"/app/{site.slug}/contacts/{ana.pk}/"))


def test_the_activity_page_lists_events_linking_to_their_contacts(client, site, owner, ana):
    ben = ContactFactory(site=site, email="ben@example.com", name="Ben")
    record(site, ana, 1)
    record(site, ben, 1, kind="opted_in")
    client.force_login(owner)
    page = client.get(f"/app/{site.slug}/activity/")
    assert page.status_code == 200
    assert "Ana logged in" in text(page)
    assert "Ben opted in" in text(page)
    assert f'href="/app/{site.slug}/contacts/{ben.pk}/"' in page.content.decode()


def test_the_activity_page_refuses_another_sites_user(client, site, other_owner, ana):
    record(site, ana, 1)
    client.force_login(other_owner)
    assert client.get(f"/app/{site.slug}/activity/").status_code == 404


def test_an_assistant_sees_the_activity_page(client, site, assistant, ana):
    record(site, ana, 1)
    client.force_login(assistant)
    assert client.get(f"/app/{site.slug}/activity/").status_code == 200


def test_the_activity_page_pages_without_offset(client, site, owner, ana):
    record(site, ana, 51)
    client.force_login(owner)
    first = client.get(f"/app/{site.slug}/activity/")
    assert len(first.context["rows"]) == 50
    with CaptureQueriesContext(connection) as queries:
        second = client.get(next_link(first))
    assert len(second.context["rows"]) == 1
    assert next_link(second) is None
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)


def test_a_bad_cursor_shows_the_newest_activity(client, site, owner, ana):
    record(site, ana, 1)
    client.force_login(owner)
    page = client.get(f"/app/{site.slug}/activity/", {"before": "nonsense"})
    assert page.status_code == 400
    assert "Ana logged in" in text(page)
