"""The Contacts tab's actions on a selection (chosen contacts, or all that a segment matches), run as
jobs: add or remove a tag, subscribe with the team's attestation of consent (never someone who
unsubscribed themselves), unsubscribe, revoke an offer (sends nothing), delete. Another site's
contacts are never touched."""

import pytest
from django_scopes import scope

from audience.services import bulk_actions, saved_segments
from contacts import services
from contacts.errors import BulkActionError
from contacts.models import BulkAction, ConsentEvent, Contact, ContactTag
from emails.models import OutboundEmail
from offers.models import Access
from offers.services.access import grant_offer
from offers.services.catalog import create_offer
from tests.factories import ContactFactory


@pytest.fixture
def in_site(site):
    with scope(site=site):
        yield site


@pytest.fixture
def act(in_site, admin, django_capture_on_commit_callbacks):
    """Starts an action as the admin, runs what waits for commit, and gives the action as stored."""

    def start(kind, selection, **params):
        with django_capture_on_commit_callbacks(execute=True):
            action = bulk_actions.start_bulk_action(
                in_site, kind=kind, selection=selection, params=params, acting_user=admin
            )
        return BulkAction.objects.get(pk=action.pk)

    return start


def contact(site, email, **fields):
    return ContactFactory(site=site, email=email, **fields)


def ids(*contacts) -> dict:
    return {"contact_ids": [c.pk for c in contacts]}


def tagged(name) -> list[str]:
    return sorted(ContactTag.objects.filter(tag__name__iexact=name).values_list("contact__email", flat=True))


def outcome(action) -> tuple:
    return action.status, action.total, action.done, action.changed, action.skipped, action.skipped_reasons


def status_of(person) -> tuple:
    person = Contact.objects.get(pk=person.pk)
    return person.subscription_status, person.unsubscribe_reason


# -- Tags ----------------------------------------------------------------------------------------------


def test_add_tag_tags_the_chosen_contacts_and_counts_those_who_had_it(in_site, act):
    ana, ben, cy = (contact(in_site, f"{n}@example.com") for n in ("ana", "ben", "cy"))
    contact(in_site, "dee@example.com")
    services.add_tags(in_site, contact=ana, names=["VIP"])

    action = act("add_tag", ids(ana, ben, cy), tag=" vip ")

    assert outcome(action) == ("done", 3, 3, 2, 1, {"Already had the tag": 1})
    assert action.description == "3 selected contacts"
    assert tagged("VIP") == ["ana@example.com", "ben@example.com", "cy@example.com"]
    assert ContactTag.objects.count() == 3
    assert [tag.name for tag in in_site.tags.all()] == ["VIP"]  # the tag of that name, whatever its case


def test_remove_tag_untags_and_counts_those_who_did_not_have_it(in_site, act):
    ana, ben, cy = (contact(in_site, f"{n}@example.com") for n in ("ana", "ben", "cy"))
    for person in (ana, ben):
        services.add_tags(in_site, contact=person, names=["VIP", "Beginner"])

    action = act("remove_tag", ids(ana, ben, cy), tag="VIP")

    assert outcome(action) == ("done", 3, 3, 2, 1, {"Did not have the tag": 1})
    assert tagged("VIP") == []
    assert tagged("Beginner") == ["ana@example.com", "ben@example.com"]


def test_removing_a_tag_nobody_has_changes_nothing(in_site, act):
    ana = contact(in_site, "ana@example.com")
    assert outcome(act("remove_tag", ids(ana), tag="Nope")) == (
        "done",
        1,
        1,
        0,
        1,
        {"Did not have the tag": 1},
    )


# -- Subscription status -------------------------------------------------------------------------------


def test_subscribe_records_the_attested_consent_for_never_subscribed_and_pending_contacts(
    in_site, act, admin
):
    never = contact(in_site, "never@example.com")
    pending = contact(in_site, "pending@example.com", subscription_status="pending")

    action = act("subscribe", ids(never, pending), consent="  Signed up at the   spring workshop ")

    assert outcome(action) == ("done", 2, 2, 2, 0, {})
    assert action.params == {"consent": "Signed up at the spring workshop"}
    for person, before in ((never, "never_subscribed"), (pending, "pending")):
        assert status_of(person) == ("subscribed", None)
        event = ConsentEvent.objects.get(contact=person)
        assert (event.from_status, event.to_status, event.source) == (before, "subscribed", "team")
        assert (event.note, event.actor_user) == ("Signed up at the spring workshop", admin)


def test_subscribe_skips_who_unsubscribed_themselves_bounced_or_complained_and_who_is_subscribed(
    in_site, act
):
    people = {
        reason: contact(
            in_site, f"{reason}@example.com", subscription_status="unsubscribed", unsubscribe_reason=reason
        )
        for reason in ("opted_out", "bounced", "complained")
    }
    already = contact(in_site, "already@example.com", subscription_status="subscribed")

    action = act("subscribe", ids(*people.values(), already), consent="Workshop sign-up sheet")

    assert outcome(action) == (
        "done",
        4,
        4,
        0,
        4,
        {
            "Unsubscribed (opted out)": 1,
            "Unsubscribed (hard bounce)": 1,
            "Unsubscribed (marked as spam)": 1,
            "Already subscribed": 1,
        },
    )
    for reason, person in people.items():
        assert status_of(person) == ("unsubscribed", reason)
    assert status_of(already) == ("subscribed", None)
    assert not ConsentEvent.objects.exists()


def test_subscribe_may_undo_an_unsubscribe_made_by_the_team(in_site, act):
    dropped = contact(
        in_site, "dropped@example.com", subscription_status="unsubscribed", unsubscribe_reason="manual"
    )
    assert act("subscribe", ids(dropped), consent="Asked to be added back by email").changed == 1
    assert status_of(dropped) == ("subscribed", None)


def test_unsubscribe_by_the_team_has_the_reason_manual_and_a_consent_event(in_site, act, admin):
    people = [
        contact(in_site, f"{status}@example.com", subscription_status=status)
        for status in ("subscribed", "pending", "never_subscribed")
    ]
    gone = contact(
        in_site, "gone@example.com", subscription_status="unsubscribed", unsubscribe_reason="opted_out"
    )

    action = act("unsubscribe", ids(*people, gone))

    assert outcome(action) == ("done", 4, 4, 3, 1, {"Already unsubscribed": 1})
    for person in people:
        assert status_of(person) == ("unsubscribed", "manual")
        event = ConsentEvent.objects.get(contact=person)
        assert (event.to_status, event.to_reason, event.source, event.actor_user) == (
            "unsubscribed",
            "manual",
            "team",
            admin,
        )
    assert status_of(gone) == ("unsubscribed", "opted_out")  # their own reason is kept
    assert not ConsentEvent.objects.filter(contact=gone).exists()


# -- Offers and deleting -------------------------------------------------------------------------------


def test_revoke_offer_ends_the_accesses_keeps_them_in_history_and_sends_nothing(
    in_site, act, admin, mailoutbox
):
    yoga, retreat = create_offer(in_site, title="Yoga"), create_offer(in_site, title="Retreat")
    yoga_only, both, retreat_only = (
        contact(in_site, f"{n}@example.com") for n in ("yoga", "both", "retreat")
    )
    for person, offers in ((yoga_only, [yoga]), (both, [yoga, retreat]), (retreat_only, [retreat])):
        for offer in offers:
            grant_offer(in_site, offer=offer, contact=person)
    contact(in_site, "lead@example.com")  # not a customer: not in the segment
    OutboundEmail.objects.all().delete()

    action = act("revoke_offer", {"segment": "customers"}, offer=yoga.pk)

    assert outcome(action) == ("done", 3, 3, 2, 1, {"Did not hold the offer": 1})
    assert not Access.objects.filter(offer=yoga, revoked_at=None).exists()
    assert set(Access.objects.filter(offer=yoga).values_list("contact__email", "revoked_by")) == {
        ("yoga@example.com", admin.pk),
        ("both@example.com", admin.pk),
    }
    customers = dict(Contact.objects.values_list("email", "is_customer"))
    assert customers == {
        "yoga@example.com": False,
        "both@example.com": True,
        "retreat@example.com": True,
        "lead@example.com": False,
    }
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_delete_removes_the_selected_contacts_only(in_site, act):
    chosen = [contact(in_site, f"{n}@example.com") for n in ("ana", "ben", "cy")]
    services.add_tags(in_site, contact=chosen[0], names=["VIP"])
    contact(in_site, "stays@example.com")

    action = act("delete", ids(*chosen))

    assert outcome(action) == ("done", 3, 3, 3, 0, {})
    assert action.last_contact_id == max(c.pk for c in chosen)
    assert list(Contact.objects.values_list("email", flat=True)) == ["stays@example.com"]
    assert not ContactTag.objects.exists()


# -- Selections ----------------------------------------------------------------------------------------


def test_all_matching_a_saved_segment_with_filters_and_a_search(in_site, act):
    people = {
        "ana@example.com": (True, ["VIP"]),
        "anabel@example.org": (True, ["VIP"]),
        "bo@example.org": (True, []),
        "cy@example.org": (False, ["VIP"]),
        "dee@example.org": (True, ["VIP", "Beginner"]),
    }
    for email, (is_customer, tags) in people.items():
        services.add_tags(in_site, contact=contact(in_site, email, is_customer=is_customer), names=tags)
    paying = saved_segments.create_segment(
        in_site, name="Paying", filters={"all": [{"field": "customer", "op": "is", "value": True}]}
    )
    vip = in_site.tags.get(name="VIP")
    selection = {
        "segment": str(paying.pk),
        "filters": {"all": [{"field": "tag", "op": "has", "value": vip.pk}]},
        "search": " EXAMPLE.ORG ",
    }

    action = act("add_tag", selection, tag="Gold")

    assert outcome(action) == ("done", 2, 2, 2, 0, {})
    assert action.description == "the segment “Paying” where Tag has “VIP” matching “EXAMPLE.ORG”"
    assert tagged("Gold") == ["anabel@example.org", "dee@example.org"]


def test_the_contacts_are_those_matching_when_the_action_runs(
    in_site, act, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk_actions, "RUN_NOW_UP_TO", 0)
    contact(in_site, "ana@example.com", subscription_status="subscribed")
    with django_capture_on_commit_callbacks() as callbacks:
        action = bulk_actions.start_bulk_action(
            in_site, kind="add_tag", selection={"segment": "subscribed"}, params={"tag": "News"}
        )
    contact(in_site, "ben@example.com", subscription_status="subscribed")  # before the worker gets to it
    for callback in callbacks:
        callback()
    assert tagged("News") == ["ana@example.com", "ben@example.com"]
    action.refresh_from_db()
    assert (action.total, action.done) == (1, 2)  # the total is the count when it was asked for


def test_another_sites_contacts_in_a_selection_are_not_touched(in_site, other_site, act):
    mine = contact(in_site, "mine@example.com", subscription_status="subscribed")
    theirs = contact(other_site, "theirs@example.com", subscription_status="subscribed")

    action = act("unsubscribe", ids(mine, theirs))

    assert outcome(action) == ("done", 1, 1, 1, 0, {})
    assert status_of(mine) == ("unsubscribed", "manual")
    with scope(site=other_site):
        assert status_of(theirs) == ("subscribed", None)
        assert not ConsentEvent.objects.exists()


@pytest.fixture
def their_offer(other_site):
    with scope(site=other_site):
        return create_offer(other_site, title="Their course")


@pytest.mark.parametrize(
    ("kind", "selection", "params", "field"),
    [
        ("archive", "me", {}, "kind"),
        ("add_tag", {"contact_ids": []}, {"tag": "VIP"}, "contact_ids"),
        ("add_tag", {"contact_ids": ["1"]}, {"tag": "VIP"}, "contact_ids"),
        ("add_tag", {}, {"tag": "VIP"}, "selection"),
        ("add_tag", {"segment": "all", "colour": "red"}, {"tag": "VIP"}, "selection"),
        ("add_tag", {"segment": "vips"}, {"tag": "VIP"}, "segment"),
        ("add_tag", {"filters": {"all": [{"field": "colour"}]}}, {"tag": "VIP"}, "filters"),
        ("add_tag", "me", {}, "tag"),
        ("add_tag", "me", {"tag": "   "}, "tag"),
        ("add_tag", "me", {"tag": None}, "tag"),
        ("remove_tag", "me", {"tag": "x" * 101}, "tag"),
        ("subscribe", "me", {}, "consent"),
        ("subscribe", "me", {"consent": "  "}, "consent"),
        ("revoke_offer", "me", {}, "offer"),
        ("revoke_offer", "me", {"offer": 999_999}, "offer"),
        ("revoke_offer", "me", {"offer": "theirs"}, "offer"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_recorded(
    in_site, their_offer, kind, selection, params, field
):
    me = contact(in_site, "me@example.com")
    selection = ids(me) if selection == "me" else selection
    params = {key: their_offer.pk if value == "theirs" else value for key, value in params.items()}
    with pytest.raises(BulkActionError) as error:
        bulk_actions.start_bulk_action(in_site, kind=kind, selection=selection, params=params)
    assert error.value.field == field
    assert error.value.message
    assert not BulkAction.objects.exists()
    assert not in_site.tags.exists()


def test_another_sites_saved_segment_cannot_be_selected(in_site, other_site):
    with scope(site=other_site):
        theirs = saved_segments.create_segment(other_site, name="Theirs", filters={"all": []})
    with pytest.raises(BulkActionError) as error:
        bulk_actions.start_bulk_action(in_site, kind="delete", selection={"segment": str(theirs.pk)})
    assert (error.value.field, error.value.message) == ("segment", f"No segment '{theirs.pk}' on this site.")


# -- Running as a job ----------------------------------------------------------------------------------


def test_a_small_selection_is_worked_at_once(in_site, django_capture_on_commit_callbacks):
    ana = contact(in_site, "ana@example.com")
    with django_capture_on_commit_callbacks():  # nothing waits for the commit
        action = bulk_actions.start_bulk_action(
            in_site, kind="add_tag", selection=ids(ana), params={"tag": "VIP"}
        )
    assert (action.status, action.changed) == ("done", 1)
    assert tagged("VIP") == ["ana@example.com"]


def test_a_large_selection_is_queued_and_a_worker_runs_it_in_batches_after_commit(
    in_site, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk_actions, "RUN_NOW_UP_TO", 2)
    monkeypatch.setattr(bulk_actions, "BATCH", 2)
    people = [contact(in_site, f"p{n}@example.com") for n in range(5)]
    with django_capture_on_commit_callbacks() as callbacks:
        action = bulk_actions.start_bulk_action(
            in_site, kind="add_tag", selection={"segment": "all"}, params={"tag": "VIP"}
        )
    assert (action.status, action.total) == ("queued", 5)
    assert tagged("VIP") == []
    for callback in callbacks:  # the commit: the Celery task (eager in tests) runs
        callback()
    action.refresh_from_db()
    assert outcome(action) == ("done", 5, 5, 5, 0, {})
    assert action.last_contact_id == people[-1].pk
    assert action.finished_at is not None
    assert len(tagged("VIP")) == 5


def test_running_a_finished_action_again_does_not_redo_its_work(in_site, act):
    people = [contact(in_site, f"p{n}@example.com") for n in range(2)]
    action = act("subscribe", {"segment": "all"}, consent="Signed the paper list")
    contact(in_site, "late@example.com")  # matches the segment now, but the action is done

    again = bulk_actions.run_bulk_action(in_site, action=action)

    assert outcome(again) == outcome(action) == ("done", 2, 2, 2, 0, {})
    assert ConsentEvent.objects.count() == 2
    assert set(ConsentEvent.objects.values_list("contact", flat=True)) == {p.pk for p in people}


def test_a_run_after_a_crash_resumes_after_the_last_contact_worked(
    in_site, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk_actions, "RUN_NOW_UP_TO", 0)
    people = [contact(in_site, f"p{n}@example.com") for n in range(4)]
    with django_capture_on_commit_callbacks():
        action = bulk_actions.start_bulk_action(
            in_site, kind="add_tag", selection={"segment": "all"}, params={"tag": "VIP"}
        )
    # A worker ran the first batch (p0, p1) and died before the next one.
    BulkAction.objects.filter(pk=action.pk).update(
        status="running", done=2, changed=2, last_contact_id=people[1].pk
    )

    action = bulk_actions.run_bulk_action(in_site, action=action)

    assert outcome(action) == ("done", 4, 4, 4, 0, {})
    assert tagged("VIP") == ["p2@example.com", "p3@example.com"]  # p0 and p1 were not worked again


def test_a_failure_stops_the_action_says_why_and_keeps_the_batches_done(
    in_site, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk_actions, "RUN_NOW_UP_TO", 0)
    monkeypatch.setattr(bulk_actions, "BATCH", 2)
    people = [contact(in_site, f"p{n}@example.com") for n in range(4)]
    add_tag = bulk_actions.HANDLERS["add_tag"]

    def fails_on_the_second_batch(site, *, action, contacts):
        outcomes = add_tag(site, action=action, contacts=contacts)
        if people[2] in contacts:
            raise RuntimeError("disk full")
        return outcomes

    monkeypatch.setitem(bulk_actions.HANDLERS, "add_tag", fails_on_the_second_batch)
    with django_capture_on_commit_callbacks():
        action = bulk_actions.start_bulk_action(
            in_site, kind="add_tag", selection=ids(*people), params={"tag": "VIP"}
        )
    with pytest.raises(RuntimeError):
        bulk_actions.run_bulk_action(in_site, action=action)

    action.refresh_from_db()
    assert outcome(action) == ("failed", 4, 2, 2, 0, {})
    assert action.error == "The action stopped: RuntimeError: disk full"
    assert action.last_contact_id == people[1].pk
    assert action.finished_at is not None
    assert tagged("VIP") == ["p0@example.com", "p1@example.com"]  # the failed batch left nothing behind
