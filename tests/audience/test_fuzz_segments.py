"""Issue 7 (5): the segment compiler fuzzed with hypothesis. Whatever filters it is given — any JSON, or
filters made of the real fields and operators with random values, days, and ids of this site and of
another — `segments.clean` either refuses them with a SegmentError that says why, or returns filters
that compile to a query that runs, matches only this site's contacts, and reads the same when cleaned
again. Through the API (`GET contacts/?filters=` and `POST segments/preview/`), the answer is a 200 or a
400 naming `filters`, never a 500.

Budget: FUZZ_MAX_EXAMPLES overrides each test's number of examples (100 to 200 by default, about ten
seconds in all on SQLite); derandomized, so a run is repeatable.
"""

import json
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope
from hypothesis import given
from hypothesis import strategies as st

from activity.services import record_one
from audience import segments
from contacts import services
from contacts.errors import SegmentError
from contacts.models import ConsentSource, Contact, SubscriptionStatus, UnsubscribeReason
from creatorhub.errors import DomainError
from offers.services.access import Granter, grant_offer
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, FormFactory
from tests.support.fuzzing import budget


def objects_of(site, *, mark: str) -> dict:
    """A few contacts of `site` (a customer with activity, a subscriber, an unsubscribed one) with a
    tag, an offer and a form; returns the ids by kind."""
    with scope(site=site):
        buyer, fan, gone = (ContactFactory(site=site, email=f"{n}-{mark}@example.com") for n in "abc")
        tag = services.tags_named(site, ["VIP"])[0]
        services.add_tags(site, contact=buyer, names=["VIP"])
        offer = create_offer(site, title=f"Yoga {mark}")
        grant_offer(site, offer=offer, contact=buyer, by=Granter(), send_grant_email=False)
        record_one(site, contact=buyer, kind="login", occurred_at=timezone.now() - timedelta(days=2))
        consent = services.Consent(source=ConsentSource.TEAM, note="fuzz")
        services.subscribe(site, contact=fan, by=consent)
        services.subscribe(site, contact=gone, by=consent)
        services.unsubscribe(site, contact=gone, reason=UnsubscribeReason.MANUAL, by=consent)
        form = FormFactory(site=site)
        return {
            "contacts": {buyer.pk, fan.pk, gone.pk},
            "tag": [tag.pk],
            "offer": [offer.pk],
            "form": [form.pk],
        }


@pytest.fixture
def world(site, other_site):
    return {"mine": objects_of(site, mark="mine"), "theirs": objects_of(other_site, mark="theirs")}


# -- Strategies -----------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
VALID_DAYS = st.integers(0, 36_500) | st.dates(date(1, 1, 2), date(9999, 12, 30)).map(date.isoformat)
OPERATORS = sorted({op for _, ops in segments.FIELDS.values() for op in ops})
DAYS = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.integers(min_value=-10, max_value=40_000),
    st.sampled_from(
        ["", "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "20260101", "2026-W01-1", "today"]
    ),
)


def filter_values(ids: dict):
    """Values a filter might carry: the right kind or the wrong one, this site's ids or another's."""
    own = [i for kind in ("tag", "offer", "form") for i in ids["mine"][kind]]
    theirs = [i for kind in ("tag", "offer", "form") for i in ids["theirs"][kind]]
    return st.one_of(
        st.sampled_from(SubscriptionStatus.values),
        st.booleans(),
        st.sampled_from(own),
        st.sampled_from(theirs),
        st.sampled_from(own + theirs).map(str),
        st.integers(),
        st.integers(min_value=2**31, max_value=2**80),
        DAYS,
        st.text(max_size=210),
        st.none(),
        JSON,
    )


def near_valid_filters(ids: dict):
    """Filters built from the real field and operator names, with random values and now and then a
    wrong or missing key, in AND lists and OR groups of any length (the limit is 20)."""
    one = st.fixed_dictionaries(
        {"field": st.sampled_from([*segments.FIELDS, "name", ""]), "op": st.sampled_from([*OPERATORS, "eq"])},
        optional={
            "value": filter_values(ids),
            "reason": st.sampled_from([*UnsubscribeReason.values, "spam", None]),
            "extra": JSON,
        },
    )
    item = one | st.fixed_dictionaries({"any": st.lists(one, max_size=22)}) | JSON
    return st.fixed_dictionaries({"all": st.lists(item, max_size=22)}) | st.fixed_dictionaries(
        {"all": st.lists(item, max_size=3)}, optional={"any": JSON}
    )


# What a hand-made URL may hold: Python reads NaN and Infinity as JSON, and deep nesting.
NOT_QUITE_JSON = [
    '{"all": [{"field": "added", "op": "before", "value": Infinity}]}',
    '{"all": [{"field": "tag", "op": "has", "value": NaN}]}',
    '{"all": [{"field": "offer", "op": "has", "value": 1e400}]}',
    '{"all": [{"field": "search", "op": "contains", "value": "\\u0000"}]}',
    "[" * 5000 + "]" * 5000,
    '{"all": ' + "[" * 2000 + "]" * 2000 + "}",
]


def any_filters(ids: dict):
    return st.one_of(JSON, near_valid_filters(ids))


# -- The compiler ---------------------------------------------------------------------------------------


def check_compiles_or_refuses(site, filters, own_contacts: set) -> None:
    """The property: refused with a message, or cleaned into filters whose query runs, stays on the
    site, reads in words, and is cleaned again to itself."""
    with scope(site=site), transaction.atomic():
        try:
            cleaned = segments.clean(site, filters)
        except SegmentError as error:
            refusal = error
        else:
            refusal = None
        if refusal is not None:
            assert isinstance(refusal, DomainError)
            assert refusal.message.strip()
            assert refusal.field == "filters"
            return
        found = list(segments.matching(site, filters=cleaned).values_list("pk", flat=True))
        assert set(found) <= own_contacts
        assert all(phrase for phrase in segments.describe(cleaned))
        assert segments.clean(site, json.loads(json.dumps(cleaned))) == cleaned
        transaction.set_rollback(True)


@pytest.mark.slow
def test_any_filters_are_refused_with_a_message_or_compile_to_a_query_that_runs(site, world):
    @budget(200)
    @given(filters=st.data())
    def property_holds(filters):
        check_compiles_or_refuses(site, filters.draw(any_filters(world)), world["mine"]["contacts"])

    property_holds()


@budget(100)
@given(data=st.data())
def test_another_sites_tag_offer_or_form_is_always_refused(site, world, data):
    field = data.draw(st.sampled_from(["tag", "offer", "form"]))
    op = data.draw(st.sampled_from(list(segments.FIELDS[field][1])))
    value = data.draw(st.sampled_from(world["theirs"][field]))
    value = data.draw(st.sampled_from([value, str(value)]))
    with scope(site=site), pytest.raises(SegmentError) as refused:
        segments.clean(site, {"all": [{"any": [{"field": field, "op": op, "value": value}]}]})
    assert f"no {field} with id {value} on this site" in refused.value.message


@budget(100)
@given(data=st.data())
def test_valid_filters_only_ever_match_this_sites_contacts(site, other_site, world, data):
    """Filters that are right in every way, any field and operator: the query matches contacts of the
    site it was compiled for, whichever of the two sites that is."""
    whose = data.draw(st.sampled_from(["mine", "theirs"]))
    target = site if whose == "mine" else other_site
    ids = world[whose]
    field = data.draw(st.sampled_from(list(segments.FIELDS)))
    op = data.draw(st.sampled_from(list(segments.FIELDS[field][1])))
    value = {
        "status": st.sampled_from(SubscriptionStatus.values),
        "customer": st.booleans(),
        "active_customer": st.booleans(),
        "offer": st.sampled_from(ids["offer"]),
        "tag": st.sampled_from(ids["tag"]),
        "form": st.sampled_from(ids["form"]),
        "added": VALID_DAYS,
        "last_activity": VALID_DAYS,
        "search": st.text(min_size=1, max_size=50).filter(lambda s: s.strip() and "\x00" not in s),
    }[field]
    item = {"field": field, "op": op}
    if op != "never":
        item["value"] = data.draw(value)
    with scope(site=target):
        cleaned = segments.clean(target, {"all": [item]})
        found = set(segments.matching(target, filters=cleaned).values_list("pk", flat=True))
        everyone = set(Contact.objects.values_list("pk", flat=True))
    assert found <= ids["contacts"] == everyone


# -- Through the API ------------------------------------------------------------------------------------


@pytest.fixture
def api(as_user, owner):
    client = as_user(owner)
    client.raise_request_exception = True  # a crash fails the test with its traceback
    return client


def assert_answered(response, *, field="filters") -> None:
    assert response.status_code in (200, 400), response.content[:500]
    body = response.json()
    if response.status_code == 400:
        assert body["code"] == "invalid"
        assert body["message"]
        assert set(body["fields"]) <= {field, "search", "filters", "segment"}, body


@pytest.mark.slow
def test_the_contacts_list_answers_any_filters_with_a_200_or_a_400(api, site, world):
    url = f"/api/v1/sites/{site.slug}/contacts/"

    @budget(100)
    @given(data=st.data())
    def property_holds(data):
        filters = data.draw(any_filters(world) | st.text(max_size=50) | st.sampled_from(NOT_QUITE_JSON))
        raw = filters if isinstance(filters, str) else json.dumps(filters)
        with transaction.atomic():
            response = api.get(url, {"filters": raw})
            transaction.set_rollback(True)
        assert_answered(response)
        if response.status_code == 200:
            assert {c["id"] for c in response.json()["results"]} <= world["mine"]["contacts"]

    property_holds()


@pytest.mark.slow
def test_the_preview_answers_any_filters_with_a_count_or_a_400(api, site, world):
    url = f"/api/v1/sites/{site.slug}/segments/preview/"

    @budget(100)
    @given(data=st.data())
    def property_holds(data):
        body = {"filters": data.draw(any_filters(world)), "search": data.draw(st.text(max_size=200))}
        with transaction.atomic():
            response = api.post(url, body, format="json")
            transaction.set_rollback(True)
        assert_answered(response)
        if response.status_code == 200:
            assert 0 <= response.json()["count"] <= len(world["mine"]["contacts"])

    property_holds()
