"""The bulk actions API: actions on chosen contacts or on all that a segment matches, with the scope
each needs, and another site's contacts never touched."""

import pytest
from django_scopes import scope

from contacts.models import BulkAction, Contact, ContactTag, SubscriptionStatus
from tests.factories import ContactFactory


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/bulk-actions/{rest}"


def tagged(site, name):
    with scope(site=site):
        return sorted(ContactTag.objects.filter(tag__name=name).values_list("contact__email", flat=True))


def test_tagging_chosen_contacts_is_done_at_once(as_user, admin, site):
    a = ContactFactory(site=site, email="a@example.net")
    ContactFactory(site=site, email="b@example.net")
    response = as_user(admin).post(
        url(site), {"kind": "add_tag", "contact_ids": [a.pk], "tag": "VIP"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total"], body["changed"], body["skipped"]) == ("done", 1, 1, 0)
    assert response["Location"].endswith(url(site, f"{body['id']}/"))
    assert tagged(site, "VIP") == ["a@example.net"]


def test_unsubscribing_all_of_a_segment_with_a_search(as_user, admin, site):
    for email in ("ann@example.net", "anna@example.net", "bob@example.net"):
        ContactFactory(site=site, email=email, subscription_status=SubscriptionStatus.SUBSCRIBED)
    response = as_user(admin).post(
        url(site), {"kind": "unsubscribe", "segment": "subscribed", "search": "ann"}, format="json"
    )
    body = response.json()
    assert body["description"] == "the segment “Subscribed” matching “ann”"
    assert body["changed"] == 2
    with scope(site=site):
        assert sorted(
            Contact.objects.filter(subscription_status="subscribed").values_list("email", flat=True)
        ) == ["bob@example.net"]


def test_subscribing_needs_the_consent_attestation(as_user, admin, site):
    a = ContactFactory(site=site)
    response = as_user(admin).post(url(site), {"kind": "subscribe", "contact_ids": [a.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["consent"] == [
        "Say how these contacts gave their consent to marketing email."
    ]
    with scope(site=site):
        assert not BulkAction.objects.exists()


@pytest.mark.parametrize("kind", ["delete", "subscribe", "unsubscribe", "revoke_offer"])
def test_an_assistant_may_tag_but_not_change_status_delete_or_revoke(as_user, assistant, site, kind):
    a = ContactFactory(site=site)
    client = as_user(assistant)
    body = {"kind": kind, "contact_ids": [a.pk], "consent": "Asked", "offer": 1}
    assert client.post(url(site), body, format="json").status_code == 403
    assert (
        client.post(
            url(site), {"kind": "add_tag", "contact_ids": [a.pk], "tag": "x"}, format="json"
        ).status_code
        == 201
    )


def test_another_sites_contacts_in_a_selection_are_not_touched(as_user, admin, site, other_site):
    mine = ContactFactory(site=site, email="mine@example.net")
    theirs = ContactFactory(site=other_site, email="theirs@example.net")
    body = (
        as_user(admin)
        .post(url(site), {"kind": "delete", "contact_ids": [mine.pk, theirs.pk]}, format="json")
        .json()
    )
    assert (body["total"], body["changed"]) == (1, 1)
    with scope(site=other_site):
        assert Contact.objects.filter(pk=theirs.pk).exists()


def test_another_sites_action_is_a_404(as_user, admin, other_owner, site, other_site):
    a = ContactFactory(site=other_site)
    theirs = (
        as_user(other_owner)
        .post(url(other_site), {"kind": "add_tag", "contact_ids": [a.pk], "tag": "x"}, format="json")
        .json()
    )
    assert as_user(admin).get(url(site, f"{theirs['id']}/")).status_code == 404


def test_a_selection_is_either_ids_or_a_segment(as_user, admin, site):
    response = as_user(admin).post(url(site), {"kind": "delete"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "Give `contact_ids`, or a `segment` and/or `filters`."
