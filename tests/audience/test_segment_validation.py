"""Segment filters that cannot be compiled are refused with a clear message naming the filter (another
site's tag, offer or form is not there), and segments are found by key on
the site in scope only."""

import pytest
from django_scopes import scope

from audience import segments
from audience.services import saved_segments
from contacts import services
from contacts.errors import SegmentError
from offers.services.catalog import create_offer
from tests.factories import FormFactory

FIELDS = "status, customer, active_customer, offer, tag, form, added, last_activity, search"
REASONS = "manual, opted_out, bounced, complained"
A_DAY = 'give a day as "YYYY-MM-DD" or a number of days ago.'


def objects_of(site) -> dict:
    with scope(site=site):
        return {
            "tag": services.tags_named(site, ["VIP"])[0].pk,
            "offer": create_offer(site, title="Yoga").pk,
            "form": FormFactory(site=site).pk,
        }


@pytest.fixture
def ids(site, other_site):
    """Ids of this site's tag, offer and form, and of another site's: `mine` and `theirs`."""
    return {"mine": objects_of(site), "theirs": objects_of(other_site)}


def f(field, op, value=None, **more) -> dict:
    return {"field": field, "op": op, **({} if value is None else {"value": value}), **more}


def fill(filters, ids):
    """Puts the real ids in place of "mine:tag", "theirs:offer" and the like."""
    if isinstance(filters, dict):
        return {key: fill(value, ids) for key, value in filters.items()}
    if isinstance(filters, list):
        return [fill(value, ids) for value in filters]
    if isinstance(filters, str) and filters.split(":")[0] in ("mine", "theirs"):
        whose, kind = filters.split(":")
        return ids[whose][kind]
    return filters


def refusal(site, filters) -> SegmentError:
    with scope(site=site), pytest.raises(SegmentError) as error:
        segments.clean(site, filters)
    return error.value


VIP = f("tag", "has", "mine:tag")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([VIP], 'Filters are an object {"all": [filter, …]}.'),
        ({"all": "tag"}, 'Filters are an object {"all": [filter, …]}.'),
        ({"all": [], "any": []}, 'Filters are an object {"all": [filter, …]}.'),
        ({"all": ["tag"]}, 'Filter 1: give an object {"field", "op", "value"}.'),
        ({"all": [f("colour", "is", "red")]}, f"Filter 1: unknown field 'colour'; use one of {FIELDS}."),
        ({"all": [{"op": "has", "value": 1}]}, f"Filter 1: unknown field None; use one of {FIELDS}."),
        ({"all": [f(["tag"], "has", 1)]}, f"Filter 1: unknown field ['tag']; use one of {FIELDS}."),
        (
            {"all": [f("tag", "is", "mine:tag")]},
            "Filter 1: tag takes the operator 'has' or 'has_not', not 'is'.",
        ),
        ({"all": [f("customer", "has", True)]}, "Filter 1: customer takes the operator 'is', not 'has'."),
        (
            {"all": [f("tag", ["has"], "mine:tag")]},
            "Filter 1: tag takes the operator 'has' or 'has_not', not ['has'].",
        ),
        (
            {"all": [f("status", "is")]},
            "Filter 1: the status is one of subscribed, pending, never_subscribed, unsubscribed.",
        ),
        (
            {"all": [f("status", "is", "gone")]},
            "Filter 1: the status is one of subscribed, pending, never_subscribed, unsubscribed.",
        ),
        (
            {"all": [f("status", "is", "subscribed", reason="bounced")]},
            f"Filter 1: a reason goes with unsubscribed and is one of {REASONS}.",
        ),
        (
            {"all": [f("status", "is_not", "unsubscribed", reason="tired")]},
            f"Filter 1: a reason goes with unsubscribed and is one of {REASONS}.",
        ),
        ({"all": [f("customer", "is", "yes")]}, "Filter 1: the value is true or false."),
        ({"all": [f("active_customer", "is")]}, "Filter 1: the value is true or false."),
        ({"all": [f("tag", "has", "vip")]}, "Filter 1: give the tag's id."),
        ({"all": [f("tag", "has", True)]}, "Filter 1: give the tag's id."),
        ({"all": [f("tag", "has", "²")]}, "Filter 1: give the tag's id."),
        ({"all": [f("offer", "has_not")]}, "Filter 1: give the offer's id."),
        ({"all": [f("form", "submitted", -1)]}, "Filter 1: give the form's id."),
        ({"all": [f("tag", "has", "theirs:tag")]}, "Filter 1: no tag with id theirs:tag on this site."),
        (
            {"all": [f("offer", "has", "theirs:offer")]},
            "Filter 1: no offer with id theirs:offer on this site.",
        ),
        (
            {"all": [f("form", "not_submitted", "theirs:form")]},
            "Filter 1: no form with id theirs:form on this site.",
        ),
        ({"all": [f("tag", "has", 10**30)]}, f"Filter 1: no tag with id {10**30} on this site."),
        ({"all": [f("added", "before", "2025-02-30")]}, f"Filter 1: {A_DAY}"),
        ({"all": [f("added", "after", "yesterday")]}, f"Filter 1: {A_DAY}"),
        ({"all": [f("added", "after")]}, f"Filter 1: {A_DAY}"),
        ({"all": [f("last_activity", "before", 1.5)]}, f"Filter 1: {A_DAY}"),
        (
            {"all": [f("last_activity", "before", -1)]},
            "Filter 1: a number of days ago is between 0 and 36,500.",
        ),
        ({"all": [f("added", "after", 36_501)]}, "Filter 1: a number of days ago is between 0 and 36,500."),
        ({"all": [f("search", "contains", "   ")]}, "Filter 1: search for 1 to 200 characters."),
        ({"all": [f("search", "contains", "a" * 201)]}, "Filter 1: search for 1 to 200 characters."),
        ({"all": [f("search", "contains", 7)]}, "Filter 1: search for 1 to 200 characters."),
        ({"all": [f("tag", "has", "mine:tag", colour="red")]}, "Filter 1: unexpected key 'colour'."),
        ({"all": [f("customer", "is", True, reason="manual")]}, "Filter 1: unexpected key 'reason'."),
        (
            {"all": [VIP, f("tag", "hass", "mine:tag")]},
            "Filter 2: tag takes the operator 'has' or 'has_not', not 'hass'.",
        ),
        ({"all": [VIP, {"any": [VIP, f("customer", "is", 1)]}]}, "Filter 2.2: the value is true or false."),
        ({"all": [{"any": []}]}, "Filter 1: an OR group lists 1 to 20 filters."),
        ({"all": [{"any": VIP}]}, "Filter 1: an OR group lists 1 to 20 filters."),
        ({"all": [{"any": [VIP] * 21}]}, "Filter 1: an OR group lists 1 to 20 filters."),
        (
            {"all": [{"any": [VIP], "op": "or"}]},
            'Filter 1: an OR group is an object {"any": [filter, …]} and nothing else.',
        ),
        ({"all": [VIP] * 21}, "At most 20 filters."),
    ],
)
def test_invalid_filters_are_refused_with_a_message_naming_the_filter(site, ids, filters, message):
    error = refusal(site, fill(filters, ids))
    for kind, pk in ids["theirs"].items():
        message = message.replace(f"theirs:{kind}", str(pk))
    assert error.message == message
    assert error.field == "filters"


def test_twenty_filters_and_groups_of_twenty_are_accepted(site, ids):
    vip = fill(VIP, ids)
    with scope(site=site):
        cleaned = segments.clean(site, {"all": [vip] * 19 + [{"any": [vip] * 20}]})
    assert len(cleaned["all"]) == 20


def test_clean_keeps_ids_as_numbers_days_as_iso_text_and_search_trimmed(site, ids):
    given = {
        "all": [
            f("tag", "has", str(ids["mine"]["tag"])),
            {"any": [f("added", "after", "20250610"), f("last_activity", "never", "ignored")]},
            f("status", "is", "unsubscribed", reason="opted_out"),
            f("search", "contains", "  Ana "),
        ]
    }
    with scope(site=site):
        cleaned = segments.clean(site, given)
    assert cleaned == {
        "all": [
            f("tag", "has", ids["mine"]["tag"]),
            {"any": [f("added", "after", "2025-06-10"), f("last_activity", "never")]},
            f("status", "is", "unsubscribed", reason="opted_out"),
            f("search", "contains", "Ana"),
        ]
    }


def test_saving_a_segment_with_another_sites_tag_is_refused(site, ids):
    with scope(site=site), pytest.raises(SegmentError, match=r"Filter 1: no tag with id \d+ on this site\."):
        saved_segments.create_segment(
            site, name="Their VIPs", filters={"all": [fill(f("tag", "has", "theirs:tag"), ids)]}
        )


# -- resolve: a segment by key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name"), [("all", "All"), ("customers", "Customers"), (" subscribed ", "Subscribed")]
)
def test_resolve_gives_the_default_segments_by_key(site, key, name):
    with scope(site=site):
        found = segments.resolve(key)
    assert (found.key, found.name, found.saved) == (key.strip(), name, None)


def test_resolve_gives_a_saved_segment_by_its_id(site):
    filters = {"all": [f("customer", "is", True)]}
    with scope(site=site):
        saved = saved_segments.create_segment(site, name="Paying", filters=filters)
        found = segments.resolve(str(saved.pk))
        assert segments.resolve(saved.pk) == found
    assert (found.key, found.name, found.filters, found.saved) == (str(saved.pk), "Paying", filters, saved)


@pytest.mark.parametrize("key", ["vips", "All", "", "0", "-1", "²", "99999999999999999999"])
def test_resolve_refuses_an_unknown_key(site, key):
    with scope(site=site), pytest.raises(SegmentError) as error:
        segments.resolve(key)
    assert (error.value.message, error.value.field) == (f"No segment {key!r} on this site.", "segment")


def test_resolve_refuses_another_sites_segment_id(site, other_site):
    with scope(site=other_site):
        theirs = saved_segments.create_segment(other_site, name="Paying", filters={"all": []})
    with scope(site=site), pytest.raises(SegmentError) as error:
        segments.resolve(str(theirs.pk))
    assert error.value.message == f"No segment '{theirs.pk}' on this site."
