"""Events: batch ingestion through POST /api/v1/sites/<site>/events/, validated as a
whole; the events listed; and `is_active_customer` with its explanation in the contacts API."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from activity.models import ActivityEvent
from activity.services import NewEvent, record_events
from contacts.models import Contact
from creatorhub import services as core_services
from creatorhub.roles import Role
from offers.services import access as access_services
from offers.services import catalog
from tests.factories import ContactFactory


def url(site) -> str:
    return f"/api/v1/sites/{site.slug}/events/"


def iso(moment) -> str:
    return moment.isoformat()


def events_of(site) -> list[tuple]:
    with scope(site=site):
        return sorted(
            (e.contact.email, e.kind, e.external_id) for e in ActivityEvent.objects.select_related("contact")
        )


@pytest.fixture
def ana(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana")


@pytest.fixture
def ben(site):
    return ContactFactory(site=site, email="ben@example.com", name="Ben")


def test_a_batch_of_email_and_contact_events_is_recorded_and_advances_last_activity(
    as_user, site, owner, ana, ben
):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    response = as_user(owner).post(
        url(site),
        {
            "events": [
                {"email": "ANA@example.com", "kind": "login", "occurred_at": iso(an_hour_ago)},
                {"contact": ben.pk, "kind": "lesson_completed", "occurred_at": iso(an_hour_ago), "id": "e-1"},
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"recorded": 2, "ignored": 0}
    assert events_of(site) == [
        ("ana@example.com", "login", ""),
        ("ben@example.com", "lesson_completed", "e-1"),
    ]
    with scope(site=site):
        assert Contact.objects.get(pk=ana.pk).last_activity_at == an_hour_ago
        assert Contact.objects.get(pk=ben.pk).last_activity_at == an_hour_ago


def test_a_bare_list_is_accepted(as_user, site, owner, ana):
    response = as_user(owner).post(
        url(site),
        [{"email": ana.email, "kind": "opted_in", "occurred_at": iso(timezone.now())}],
        format="json",
    )
    assert response.status_code == 201
    assert response.json() == {"recorded": 1, "ignored": 0}


def test_the_whole_batch_is_refused_for_one_bad_event_and_nothing_is_written(as_user, site, owner, ana):
    now = timezone.now()
    good = {"email": ana.email, "kind": "login", "occurred_at": iso(now)}
    response = as_user(owner).post(
        url(site),
        {
            "events": [
                good,
                {**good, "kind": "signup"},
                {**good, "occurred_at": "2026-05-04T09:30:00"},
                {**good, "occurred_at": iso(now + timedelta(minutes=6))},
                {**good, "contact": ana.pk},
                {"email": "nobody@example.com", "kind": "login", "occurred_at": iso(now)},
                good,
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "none was recorded" in body["message"]
    errors = body["fields"]["events"]
    assert sorted(errors, key=int) == ["1", "2", "3", "4", "5"]
    assert list(errors["1"]) == ["kind"]
    assert "time zone" in errors["2"]["occurred_at"][0]
    assert "future" in errors["3"]["occurred_at"][0]
    assert list(errors["4"]) == ["contact"]
    assert errors["5"] == {"email": ["No contact of this site has this email."]}
    assert events_of(site) == []
    with scope(site=site):
        assert Contact.objects.get(pk=ana.pk).last_activity_at is None


def test_a_batch_of_more_than_1000_events_is_refused(as_user, site, owner, ana):
    event = {"email": ana.email, "kind": "login", "occurred_at": iso(timezone.now())}
    response = as_user(owner).post(url(site), {"events": [event] * 1001}, format="json")
    assert response.status_code == 400
    assert "1,000" in response.json()["fields"]["events"][0]
    assert events_of(site) == []


def test_a_batch_of_1000_events_is_recorded_in_few_queries(as_user, site, owner, ana, ben):
    now = timezone.now()
    batch = [
        {"email": ana.email, "kind": "login", "occurred_at": iso(now - timedelta(seconds=i))}
        for i in range(500)
    ] + [{"contact": ben.pk, "kind": "other", "occurred_at": iso(now), "id": f"b-{i}"} for i in range(500)]
    client = as_user(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(site), batch, format="json")
    assert response.status_code == 201
    assert response.json() == {"recorded": 1000, "ignored": 0}
    contact_reads = [q for q in queries.captured_queries if 'FROM "contacts_contact"' in q["sql"]]
    assert len(contact_reads) <= 3  # the ids, the emails (and the session's user has its own table)
    assert len(queries) < 30


def test_a_repeated_event_id_is_ignored(as_user, site, owner, ana):
    event = {"email": ana.email, "kind": "purchased", "occurred_at": iso(timezone.now()), "id": "order-7"}
    client = as_user(owner)
    assert client.post(url(site), [event], format="json").json() == {"recorded": 1, "ignored": 0}
    second = client.post(url(site), [event, {**event, "id": "order-8"}], format="json")
    assert second.status_code == 201
    assert second.json() == {"recorded": 1, "ignored": 1}
    assert events_of(site) == [
        ("ana@example.com", "purchased", "order-7"),
        ("ana@example.com", "purchased", "order-8"),
    ]


def test_another_sites_contact_id_is_an_item_error(as_user, site, other_site, owner, ana):
    stranger = ContactFactory(site=other_site, email="ana@example.com")
    response = as_user(owner).post(
        url(site),
        [{"contact": stranger.pk, "kind": "login", "occurred_at": iso(timezone.now())}],
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["events"] == {"0": {"contact": ["No contact of this site has this id."]}}
    assert events_of(site) == []
    assert events_of(other_site) == []


def test_another_sites_user_gets_404(as_user, site, other_owner, ana):
    event = {"email": ana.email, "kind": "login", "occurred_at": iso(timezone.now())}
    client = as_user(other_owner)
    assert client.post(url(site), [event], format="json").status_code == 404
    assert client.get(url(site)).status_code == 404
    assert events_of(site) == []


def test_an_assistant_may_read_events_but_not_record_them(as_user, site, assistant, ana):
    event = {"email": ana.email, "kind": "login", "occurred_at": iso(timezone.now())}
    client = as_user(assistant)
    assert client.post(url(site), [event], format="json").status_code == 403
    assert client.get(url(site)).status_code == 200
    assert events_of(site) == []


def test_an_api_key_records_events(api_client, site, owner, ana):
    with scope(site=site):
        _, secret = core_services.create_api_key(site, name="App", role=Role.ADMIN, acting_user=owner)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    event = {"email": ana.email, "kind": "login", "occurred_at": iso(timezone.now())}
    response = api_client.post(url(site), {"events": [event]}, format="json")
    assert response.status_code == 201
    assert events_of(site) == [("ana@example.com", "login", "")]


def test_last_activity_is_not_rewritten_within_10_minutes_and_advanced_past_them(site, ana):
    start = timezone.now() - timedelta(hours=1)
    with scope(site=site):
        record_events(site, [NewEvent(contact=ana, kind="login", occurred_at=start)])
        record_events(site, [NewEvent(contact=ana, kind="login", occurred_at=start + timedelta(minutes=9))])
        assert Contact.objects.get(pk=ana.pk).last_activity_at == start
        later = start + timedelta(minutes=11)
        record_events(site, [NewEvent(contact=ana, kind="login", occurred_at=later)])
        assert Contact.objects.get(pk=ana.pk).last_activity_at == later


def test_events_are_listed_newest_first_with_filters_and_keyset_pages(as_user, site, owner, ana, ben):
    now = timezone.now()
    with scope(site=site):
        record_events(
            site,
            [NewEvent(contact=ana, kind="login", occurred_at=now - timedelta(hours=h)) for h in range(3)]
            + [NewEvent(contact=ben, kind="opted_in", occurred_at=now - timedelta(minutes=30))],
        )
    client = as_user(owner)
    body = client.get(url(site), {"page_size": 2}).json()
    assert [(e["contact_email"], e["kind"]) for e in body["results"]] == [
        ("ana@example.com", "login"),
        ("ben@example.com", "opted_in"),
    ]
    assert body["results"][0]["sentence"] == "Ana logged in"
    rest = client.get(body["next"]).json()
    assert [e["kind"] for e in rest["results"]] == ["login", "login"]
    assert rest["next"] is None
    only_ben = client.get(url(site), {"contact": ben.pk}).json()["results"]
    assert [e["kind"] for e in only_ben] == ["opted_in"]
    assert len(client.get(url(site), {"kind": "login"}).json()["results"]) == 3


# -- is_active_customer and its explanation ----------------------------------------------


@pytest.fixture
def customer_of(site):
    def make(email):
        with scope(site=site):
            contact = ContactFactory(site=site, email=email)
            offer = catalog.create_offer(site, title=f"Offer for {email}", price=10)
            with time_machine.travel(timezone.now() - timedelta(days=60)):
                access_services.grant_offer(site, offer=offer, contact=contact)
            return Contact.objects.get(pk=contact.pk)

    return make


def test_a_customer_with_a_login_29_days_ago_is_active_and_31_days_ago_is_not(
    as_user, site, owner, customer_of
):
    recent, lapsed = customer_of("recent@example.com"), customer_of("lapsed@example.com")
    now = timezone.now()
    with scope(site=site):
        record_events(site, [NewEvent(contact=recent, kind="login", occurred_at=now - timedelta(days=29))])
        record_events(site, [NewEvent(contact=lapsed, kind="login", occurred_at=now - timedelta(days=31))])
    client = as_user(owner)
    listed = {
        c["email"]: c["is_active_customer"]
        for c in client.get(f"/api/v1/sites/{site.slug}/contacts/").json()["results"]
    }
    assert listed == {"recent@example.com": True, "lapsed@example.com": False}
    detail = client.get(f"/api/v1/sites/{site.slug}/contacts/{recent.pk}/").json()
    assert detail["is_active_customer"] is True
    part = detail["explanation"]["active_customer"]
    assert part["value"] is True
    assert "logged in" in part["reason"]
    assert part["record"]["type"] == "activity_event"
    lapsed_detail = client.get(f"/api/v1/sites/{site.slug}/contacts/{lapsed.pk}/").json()
    assert lapsed_detail["is_active_customer"] is False
    assert lapsed_detail["explanation"]["active_customer"]["value"] is False
    assert "no activity" in lapsed_detail["explanation"]["active_customer"]["reason"]


def test_a_non_customer_with_activity_is_not_an_active_customer(as_user, site, owner, ana):
    with scope(site=site):
        record_events(site, [NewEvent(contact=ana, kind="form_submitted", occurred_at=timezone.now())])
    detail = as_user(owner).get(f"/api/v1/sites/{site.slug}/contacts/{ana.pk}/").json()
    assert detail["is_active_customer"] is False
    assert detail["explanation"]["active_customer"]["value"] is False
    assert detail["explanation"]["active_customer"]["reason"].startswith("Not a customer")


def test_the_contact_lists_flag_follows_the_sites_day(as_user, site, owner, customer_of, time_machine):
    """The query that reads a page's flags is compiled once a day: the next days get their own window."""
    recent = customer_of("recent@example.com")
    with scope(site=site):
        record_events(site, [NewEvent(contact=recent, kind="login", occurred_at=timezone.now())])

    def flag() -> bool:  # logged in anew: a session does not last a month
        page = as_user(owner).get(f"/api/v1/sites/{site.slug}/contacts/").json()
        return page["results"][0]["is_active_customer"]

    assert (flag(), flag()) == (True, True)
    time_machine.move_to(timezone.now() + timedelta(days=29))
    assert flag() is True
    time_machine.move_to(timezone.now() + timedelta(days=2))
    assert flag() is False


def test_the_contact_list_reads_is_active_customer_in_one_query_for_the_page(
    as_user, site, owner, customer_of
):
    for i in range(3):
        customer_of(f"c{i}@example.com")
    client = as_user(owner)
    client.get(f"/api/v1/sites/{site.slug}/contacts/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/v1/sites/{site.slug}/contacts/", {"page_size": 1})
    for i in range(3, 8):
        customer_of(f"c{i}@example.com")
    with CaptureQueriesContext(connection) as many:
        body = client.get(f"/api/v1/sites/{site.slug}/contacts/").json()
    assert len(body["results"]) == 8
    assert len(many) == len(few)


def test_pages_of_every_size_show_each_contacts_own_flag(as_user, site, owner, customer_of):
    """One compiled query serves pages of any size: each row gets its own flag, never a neighbour's."""
    people = [customer_of(f"p{i}@example.com") for i in range(5)]
    with scope(site=site):
        record_events(
            site, [NewEvent(contact=p, kind="login", occurred_at=timezone.now()) for p in people[::2]]
        )
    client = as_user(owner)
    expected = {p.email: i % 2 == 0 for i, p in enumerate(people)}
    for size in (1, 2, 5, 3):
        rows = client.get(f"/api/v1/sites/{site.slug}/contacts/", {"page_size": size}).json()["results"]
        assert {row["email"]: row["is_active_customer"] for row in rows} == {
            email: expected[email] for email in [row["email"] for row in rows]
        }
        assert len(rows) == size


@pytest.mark.postgres
def test_the_flags_query_takes_the_pages_ids_as_one_array(as_user, site, owner, customer_of):
    """Psycopg keeps a parsed query only when it has at most 50 parameters: a page of 50 ids as 50
    parameters was parsed anew on every request."""
    for i in range(3):
        customer_of(f"c{i}@example.com")
    client = as_user(owner)
    client.get(f"/api/v1/sites/{site.slug}/contacts/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/sites/{site.slug}/contacts/").status_code == 200
    flags = [q["sql"] for q in queries if '"is_active_customer"' in q["sql"]]
    assert len(flags) == 1
    assert "= ANY(ARRAY[" in flags[0] or "= ANY('{" in flags[0], flags[0]


def test_the_api_does_not_take_grants_as_activity(site, owner, api_client):
    from django.utils import timezone

    from tests.factories import ContactFactory

    contact = ContactFactory(site=site)
    api_client.force_login(owner)
    response = api_client.post(
        f"/api/v1/sites/{site.slug}/events/",
        {
            "events": [
                {"contact": contact.pk, "kind": "offer_granted", "occurred_at": timezone.now().isoformat()}
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "recorded by CreatorHub itself" in str(response.json()["fields"])
