"""Every segment filter and operator, against sets of contacts worked out by hand.

Ana's Yoga Studio is in Los Angeles (UTC-7 in summer), and it is now 1 August 2025, 20:00 there
(2 August 03:00 UTC): days and "days ago" are the site's days, not UTC's. Its people:

| who  | status       | offers (revoked) | tags          | forms      | added (LA)     | activity (LA)   |
|------|--------------|------------------|---------------|------------|----------------|-----------------|
| ana  | subscribed   | Yoga             | VIP           | Newsletter | 10 Jun 0:00:00 | 25 Jul: active  |
| ben  | pending      |                  |               | Newsletter | 9 Jun 23:59:59 | never           |
| cleo | never        | Yoga, Retreat    |               |            | 2 Jan          | 1 Jun: inactive |
| dev  | unsub manual | Retreat, (Yoga)  | Beginner      |            | 2 Jan          | never (granted) |
| eve  | opted out    | (Yoga)           | VIP           | Workshop   | 2 Jan          | 30 Jul          |
| finn | bounced      |                  | Beginner      | Workshop   | 2 Jan          | never           |
| gia  | complained   |                  |               |            | 2 Jan          | 1 Jul 0:00:00   |
| hal  | subscribed   | Retreat          | VIP, Beginner | both       | 1 Aug 0:05     | 1 Aug: active   |
| ivy  | never        |                  |               |            | 31 Jul 23:55   | never           |

Ben Codes, another site, holds the same people (at elsewhere.example) with offers, tags and forms of
the same names: they must never show up in Ana's segments.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from activity.services import NewEvent, record_events
from audience import segments
from contacts import services
from contacts.models import FormSubmission, Tag
from offers.services.access import grant_offer, revoke_access
from offers.services.catalog import create_offer
from tests.factories import ContactFactory, FormFactory, SiteFactory
from tests.support.module_rows import rolled_back_after_the_module

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
SETUP = datetime(2025, 1, 2, 17, 0, tzinfo=UTC)
NOW = datetime(2025, 8, 2, 3, 0, tzinfo=UTC)  # 1 August, 20:00 in Los Angeles
EVERYONE = {"ana", "ben", "cleo", "dev", "eve", "finn", "gia", "hal", "ivy"}


def at(month, day, hour=0, minute=0, second=0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=LA)


# who: name, status, reason, added, offers live, offers revoked, tags, forms, (activity, its kind)
PEOPLE = {
    "ana": ("Ana Alvarez", "subscribed", None, at(6, 10), ["Yoga"], [], ["VIP"], ["Newsletter"],
            (at(7, 25, 3), "login")),
    "ben": ("Ben Brown", "pending", None, at(6, 9, 23, 59, 59), [], [], [], ["Newsletter"], None),
    "cleo": ("Cleo Chan", "never_subscribed", None, SETUP, ["Yoga", "Retreat"], [], [], [],
             (at(6, 1, 3), "lesson_completed")),
    "dev": ("Dev Das", "unsubscribed", "manual", SETUP, ["Retreat"], ["Yoga"], ["Beginner"], [], None),
    "eve": ("Eve Evans", "unsubscribed", "opted_out", SETUP, [], ["Yoga"], ["VIP"], ["Workshop"],
            (at(7, 30, 3), "login")),
    "finn": ("Finn Ford", "unsubscribed", "bounced", SETUP, [], [], ["Beginner"], ["Workshop"], None),
    "gia": ("Gia Gomez", "unsubscribed", "complained", SETUP, [], [], [], [], (at(7, 1), "form_submitted")),
    "hal": ("", "subscribed", None, at(8, 1, 0, 5), ["Retreat"], [], ["VIP", "Beginner"],
            ["Newsletter", "Workshop"], (at(8, 1, 1), "course_completed")),
    "ivy": ("Ivy Ito", "never_subscribed", None, at(7, 31, 23, 55), [], [], [], [], None),
}  # fmt: skip


def email_of(who: str, domain: str) -> str:
    return f"Finn@{domain.upper()}" if who == "finn" else f"{who}@{domain}"  # Finn's is in capitals


def populate(site, domain: str) -> dict:
    """The people above on `site`; returns the ids of its offers, tags and forms by name."""
    with scope(site=site):
        offers = {title: create_offer(site, title=title) for title in ("Yoga", "Retreat")}
        ids = {
            "offer": {title: offer.pk for title, offer in offers.items()},
            "form": {
                name: FormFactory(site=site, name=name, slug=name.lower()).pk
                for name in ("Newsletter", "Workshop")
            },
        }
        events = []
        for who, (name, status, reason, added, live, revoked, tags, forms, activity) in PEOPLE.items():
            contact = ContactFactory(
                site=site,
                email=email_of(who, domain),
                name=name,
                subscription_status=status,
                unsubscribe_reason=reason,
                created_at=added,
            )
            for title in live + revoked:
                access = grant_offer(site, offer=offers[title], contact=contact, send_grant_email=False)
                if title in revoked:
                    revoke_access(site, access=access)
            services.add_tags(site, contact=contact, names=tags)
            for form in forms:
                FormSubmission.objects.create(site=site, form_id=ids["form"][form], contact=contact)
            if activity:
                events.append(NewEvent(contact=contact, kind=activity[1], occurred_at=activity[0]))
        ids["tag"] = {tag.name: tag.pk for tag in Tag.objects.all()}
    return {**ids, "events": events}


@pytest.fixture(scope="module")
def town(django_db_setup, django_db_blocker):
    """Ana's Yoga Studio and Ben Codes, populated alike, as they stand at NOW: once for the module, whose
    tests only read them (each runs in a savepoint of this transaction, at NOW)."""
    with rolled_back_after_the_module(django_db_blocker), time_machine.travel(SETUP, tick=False) as clock:
        ana = SiteFactory(slug="ana-yoga", name="Ana's Yoga Studio", time_zone="America/Los_Angeles")
        ben = SiteFactory(slug="ben-codes", name="Ben Codes", time_zone="America/Los_Angeles")
        ids = {
            site: populate(site, domain)
            for site, domain in ((ana, "example.com"), (ben, "elsewhere.example"))
        }
        clock.move_to(NOW)
        for site, site_ids in ids.items():
            with scope(site=site):
                record_events(site, site_ids.pop("events"))
        yield ana, ben, ids


@pytest.fixture
def site(town, db):
    return town[0]


def the(town, field: str, name: str, *, site=None) -> int:
    """The id of Ana's (or `site`'s) offer, tag or form of that name."""
    return town[2][site or town[0]][field][name]


def f(field, op, value=None, **more) -> dict:
    return {"field": field, "op": op, **({} if value is None else {"value": value}), **more}


def who(site, *items, search="") -> set[str]:
    """Who the filters match on `site`: Ana's people by their short name, anyone else by full email."""
    with scope(site=site):
        cleaned = segments.clean(site, {"all": list(items)})
        emails = segments.matching(site, filters=cleaned, search=search).values_list("email", flat=True)
        return {email.lower().removesuffix("@example.com") for email in emails}


# -- Subscription status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("subscribed", {"ana", "hal"}),
        ("pending", {"ben"}),
        ("never_subscribed", {"cleo", "ivy"}),
        ("unsubscribed", {"dev", "eve", "finn", "gia"}),
    ],
)
def test_status_is_matches_the_contacts_of_that_status(site, status, expected):
    assert who(site, f("status", "is", status)) == expected


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("manual", {"dev"}), ("opted_out", {"eve"}), ("bounced", {"finn"}), ("complained", {"gia"})],
)
def test_status_is_unsubscribed_with_a_reason_matches_only_that_reason(site, reason, expected):
    assert who(site, f("status", "is", "unsubscribed", reason=reason)) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("subscribed", {"ben", "cleo", "dev", "eve", "finn", "gia", "ivy"}),
        ("unsubscribed", {"ana", "ben", "cleo", "hal", "ivy"}),
    ],
)
def test_status_is_not_matches_every_other_status(site, status, expected):
    assert who(site, f("status", "is_not", status)) == expected


def test_status_is_not_unsubscribed_with_a_reason_keeps_the_other_reasons_and_statuses(site):
    assert who(site, f("status", "is_not", "unsubscribed", reason="bounced")) == EVERYONE - {"finn"}


# -- Customers and active customers --------------------------------------------------------------------


def test_customer_is_true_matches_contacts_holding_an_access_not_revoked(site):
    assert who(site, f("customer", "is", True)) == {"ana", "cleo", "dev", "hal"}


def test_customer_is_false_matches_the_others_former_customers_included(site):
    assert who(site, f("customer", "is", False)) == {"ben", "eve", "finn", "gia", "ivy"}


def test_active_customer_is_true_matches_customers_with_activity_in_the_last_30_days(site):
    # cleo's activity is older than 30 days, dev was only granted offers, eve is no longer a customer
    assert who(site, f("active_customer", "is", True)) == {"ana", "hal"}


def test_active_customer_is_false_matches_everyone_else(site):
    assert who(site, f("active_customer", "is", False)) == EVERYONE - {"ana", "hal"}


# -- Offers, tags, forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "expected"), [("Yoga", {"ana", "cleo"}), ("Retreat", {"cleo", "dev", "hal"})]
)
def test_offer_has_matches_its_holders_and_a_revoked_access_does_not_count(town, site, offer, expected):
    assert who(site, f("offer", "has", the(town, "offer", offer))) == expected


def test_offer_has_not_matches_contacts_without_a_live_access_revoked_ones_included(town, site):
    expected = {"ben", "dev", "eve", "finn", "gia", "hal", "ivy"}
    assert who(site, f("offer", "has_not", the(town, "offer", "Yoga"))) == expected


@pytest.mark.parametrize(
    ("tag", "expected"), [("VIP", {"ana", "eve", "hal"}), ("Beginner", {"dev", "finn", "hal"})]
)
def test_tag_has_matches_the_contacts_with_the_tag(town, site, tag, expected):
    assert who(site, f("tag", "has", the(town, "tag", tag))) == expected


def test_tag_has_not_matches_contacts_without_the_tag(town, site):
    expected = {"ben", "cleo", "dev", "finn", "gia", "ivy"}
    assert who(site, f("tag", "has_not", the(town, "tag", "VIP"))) == expected


@pytest.mark.parametrize(
    ("form", "expected"), [("Newsletter", {"ana", "ben", "hal"}), ("Workshop", {"eve", "finn", "hal"})]
)
def test_form_submitted_matches_the_contacts_who_submitted_it(town, site, form, expected):
    assert who(site, f("form", "submitted", the(town, "form", form))) == expected


def test_form_not_submitted_matches_the_contacts_who_did_not(town, site):
    expected = {"cleo", "dev", "eve", "finn", "gia", "ivy"}
    assert who(site, f("form", "not_submitted", the(town, "form", "Newsletter"))) == expected


# -- Added, last activity: days in the site's time zone -----------------------------------------------


def test_added_before_a_day_means_before_it_starts_in_the_site_time_zone(site):
    # ana was added at midnight on the 10th in Los Angeles, ben a second before (both on the 10th in UTC)
    assert who(site, f("added", "before", "2025-06-10")) == {"ben", "cleo", "dev", "eve", "finn", "gia"}


@pytest.mark.parametrize(
    ("day", "expected"), [("2025-06-09", {"ana", "hal", "ivy"}), ("2025-06-10", {"hal", "ivy"})]
)
def test_added_after_a_day_means_after_it_ends_in_the_site_time_zone(site, day, expected):
    assert who(site, f("added", "after", day)) == expected


@pytest.mark.parametrize(
    ("op", "days", "expected"),
    [
        ("before", 0, EVERYONE - {"hal"}),  # before today (1 August in Los Angeles)
        ("before", 1, EVERYONE - {"hal", "ivy"}),  # before yesterday
        ("after", 1, {"hal"}),  # after yesterday: today (UTC's "today" is already 2 August)
        ("after", 2, {"hal", "ivy"}),
        ("after", 0, set()),  # after today: nobody yet
    ],
)
def test_added_a_number_of_days_ago_counts_the_site_days(site, op, days, expected):
    assert who(site, f("added", op, days)) == expected


def test_last_activity_never_matches_contacts_with_no_activity_a_grant_is_not_activity(site):
    assert who(site, f("last_activity", "never")) == {"ben", "dev", "finn", "ivy"}


@pytest.mark.parametrize(("day", "expected"), [("2025-07-01", {"cleo"}), ("2025-07-02", {"cleo", "gia"})])
def test_last_activity_before_a_day_leaves_out_contacts_never_active(site, day, expected):
    # gia's last activity is at midnight starting 1 July in Los Angeles
    assert who(site, f("last_activity", "before", day)) == expected


@pytest.mark.parametrize(
    ("day", "expected"), [("2025-06-30", {"ana", "eve", "gia", "hal"}), ("2025-07-01", {"ana", "eve", "hal"})]
)
def test_last_activity_after_a_day_means_after_it_ends_in_the_site_time_zone(site, day, expected):
    assert who(site, f("last_activity", "after", day)) == expected


@pytest.mark.parametrize(
    ("op", "days", "expected"),
    [("after", 1, {"hal"}), ("before", 7, {"cleo", "gia"}), ("after", 8, {"ana", "eve", "hal"})],
)
def test_last_activity_a_number_of_days_ago_counts_the_site_days(site, op, days, expected):
    assert who(site, f("last_activity", op, days)) == expected


# -- Text search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ALVAREZ", {"ana"}),
        ("evans", {"eve"}),
        ("finn@example", {"finn"}),  # the address is Finn@EXAMPLE.COM
        ("HAL@", {"hal"}),  # hal has no name
        ("Example.Com", EVERYONE),
        ("zed", set()),
    ],
)
def test_search_contains_matches_the_name_or_the_email_in_any_case(site, text, expected):
    assert who(site, f("search", "contains", text)) == expected


# -- Combining -----------------------------------------------------------------------------------------


def test_no_filters_match_every_contact_of_the_site(site):
    assert who(site) == EVERYONE


def test_filters_in_the_list_must_all_match(town, site):
    assert who(site, f("customer", "is", True), f("tag", "has", the(town, "tag", "VIP"))) == {"ana", "hal"}
    retreat = the(town, "offer", "Retreat")
    assert who(site, f("status", "is", "subscribed"), f("offer", "has", retreat)) == {"hal"}


def test_an_or_group_matches_contacts_matching_any_of_its_filters(town, site):
    group = {
        "any": [
            f("tag", "has", the(town, "tag", "Beginner")),
            f("form", "submitted", the(town, "form", "Newsletter")),
        ]
    }
    assert who(site, group) == {"ana", "ben", "dev", "finn", "hal"}


def test_or_groups_combine_with_and(town, site):
    paying_or_subscribed = {"any": [f("status", "is", "subscribed"), f("customer", "is", True)]}
    beginner_or_quiet = {"any": [f("tag", "has", the(town, "tag", "Beginner")), f("last_activity", "never")]}
    assert who(site, paying_or_subscribed, beginner_or_quiet) == {"dev", "hal"}


def test_an_or_group_and_a_filter(town, site):
    either_offer = {
        "any": [
            f("offer", "has", the(town, "offer", "Yoga")),
            f("offer", "has", the(town, "offer", "Retreat")),
        ]
    }
    assert who(site, either_offer, f("active_customer", "is", False)) == {"cleo", "dev"}


def test_the_search_box_narrows_what_the_filters_match(site):
    assert who(site, f("customer", "is", True), search="  chan ") == {"cleo"}
    assert who(site, f("customer", "is", True), search="GOMEZ") == set()
    assert who(site, search="gomez") == {"gia"}


def test_another_sites_segments_match_its_own_contacts_only(town):
    _, ben, _ = town
    vip = the(town, "tag", "VIP", site=ben)
    assert who(ben, f("tag", "has", vip)) == {
        "ana@elsewhere.example",
        "eve@elsewhere.example",
        "hal@elsewhere.example",
    }
    assert who(ben, f("active_customer", "is", True), search="ALVAREZ") == {"ana@elsewhere.example"}


def test_matching_keeps_to_its_site_even_outside_a_scope(town, site):
    vip = the(town, "tag", "VIP")
    with scopes_disabled():
        cleaned = segments.clean(site, {"all": [f("customer", "is", False)]})
        emails = set(segments.matching(site, filters=cleaned).values_list("email", flat=True))
        assert segments.clean(site, {"all": [f("tag", "has", vip)]})  # Ana's tag is Ana's, in or out of scope
    assert emails == {
        "ben@example.com",
        "eve@example.com",
        "Finn@EXAMPLE.COM",
        "gia@example.com",
        "ivy@example.com",
    }


def test_a_segment_is_one_query_whatever_its_filters(town, site, django_assert_num_queries):
    with scope(site=site):
        filters = segments.clean(
            site,
            {
                "all": [
                    {
                        "any": [
                            f("active_customer", "is", False),
                            f("offer", "has", the(town, "offer", "Yoga")),
                        ]
                    },
                    f("tag", "has_not", the(town, "tag", "Beginner")),
                    f("form", "not_submitted", the(town, "form", "Workshop")),
                    f("added", "before", 1),
                    f("status", "is_not", "unsubscribed", reason="complained"),
                ]
            },
        )
        with django_assert_num_queries(1):
            emails = {c.email for c in segments.matching(site, filters=filters, search="example")}
    assert emails == {"ana@example.com", "ben@example.com", "cleo@example.com"}


def test_describe_says_each_filter_in_words(town, site):
    filters = {
        "all": [
            f("status", "is", "unsubscribed", reason="bounced"),
            {
                "any": [
                    f("tag", "has", the(town, "tag", "VIP")),
                    f("offer", "has_not", the(town, "offer", "Yoga")),
                ]
            },
            f("customer", "is", False),
            f("added", "after", 7),
            f("added", "before", "2025-06-10"),
            f("last_activity", "never"),
            f("form", "submitted", the(town, "form", "Workshop")),
            f("search", "contains", "ana"),
        ]
    }
    with scope(site=site):
        words = segments.describe(segments.clean(site, filters))
    assert words == [
        "Subscription status is unsubscribed (hard bounce)",
        "Tag has “VIP” or Offer does not have “Yoga”",
        "Customer is no",
        "Added after 7 days ago",
        "Added before 2025-06-10",
        "Last activity: never",
        "Form submitted “Workshop”",
        "Name or email contains “ana”",
    ]
