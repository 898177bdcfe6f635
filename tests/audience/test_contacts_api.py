"""The contacts API: shapes, filters, consent actions, tags, history, isolation, bad input."""

import pytest
from django_scopes import scope, scopes_disabled

from contacts import services
from contacts.models import ConsentEvent, ConsentSource, Contact
from contacts.services import Consent
from creatorhub import services as core_services
from creatorhub.roles import Role
from tests.factories import ContactFactory

FORM = Consent(source=ConsentSource.FORM, note="Submitted the form")


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/contacts/{rest}"


@pytest.fixture
def admin_client(as_user, admin):
    return as_user(admin)


def test_a_contact_has_the_fields_integrations_rely_on(admin_client, site):
    contact = ContactFactory(site=site, email="Ana@Example.com", name="Ana")
    body = admin_client.get(url(site, f"{contact.pk}/")).json()
    assert {
        "id",
        "email",
        "name",
        "subscription_status",
        "unsubscribe_reason",
        "is_customer",
        "tags",
        "created_at",
        "last_activity_at",
        "explanation",
    } <= set(body)
    assert body["email"] == "Ana@Example.com"
    assert body["subscription_status"] == "never_subscribed"
    assert body["unsubscribe_reason"] is None
    assert body["explanation"]["subscriber"] == {
        "value": False,
        "reason": "Never subscribed since the contact was added (added by hand).",
        "record": {"type": "contact", "id": contact.pk},
    }
    assert body["explanation"]["customer"]["value"] is False


def test_creating_without_consent_makes_a_never_subscribed_contact(admin_client, site):
    response = admin_client.post(
        url(site),
        {"email": "new@example.com", "name": "New", "tags": ["VIP", "vip"], "fields": {"city": "Lisbon"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["subscription_status"], body["tags"], body["fields"]) == (
        "never_subscribed",
        ["VIP"],
        {"city": "Lisbon"},
    )


def test_creating_with_a_stated_consent_subscribes_and_records_the_api_key(api_client, site, owner):
    with scope(site=site):
        api_key, secret = core_services.create_api_key(
            site, name="Checkout", role=Role.ADMIN, acting_user=owner
        )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api_client.post(
        url(site),
        {"email": "fan@example.com", "consent": "Ticked the box at checkout"},
        format="json",
        HTTP_USER_AGENT="shop/1.0",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["subscription_status"] == "subscribed"
    assert "by API key “Checkout”: Ticked the box at checkout" in body["explanation"]["subscriber"]["reason"]
    with scope(site=site):
        event = ConsentEvent.objects.get(contact_id=body["id"])
        assert (event.source, event.actor_api_key, event.user_agent) == ("api", api_key, "shop/1.0")


def test_a_duplicate_email_is_a_400_on_the_email_field(admin_client, site):
    ContactFactory(site=site, email="ana@example.com")
    response = admin_client.post(url(site), {"email": "ANA@example.com"}, format="json")
    assert response.status_code == 400
    assert "exists already" in response.json()["fields"]["email"][0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a@example.com", "colour": "red"}, "colour"),
        ({"email": "a@example.com", "fields": ["not", "an", "object"]}, "fields"),
        ({"email": "a@example.com", "fields": {"bio": "x" * 1001}}, "fields"),
        ({"email": "a@example.com", "tags": ["x" * 101]}, "tags"),
        ({"email": "a@example.com", "consent": ""}, "consent"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(admin_client, site, payload, field):
    response = admin_client.post(url(site), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    with scope(site=site):
        assert not Contact.objects.exists()


def test_an_oversized_body_is_refused(admin_client, site, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = admin_client.post(url(site), {"email": "a@example.com", "name": "x" * 20_000}, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    with scope(site=site):
        assert not Contact.objects.exists()


def test_the_list_filters_by_status_customer_tag_and_text(admin_client, site):
    with scope(site=site):
        ana = ContactFactory(site=site, email="ana@example.com", name="Ana Lima", is_customer=True)
        ben = ContactFactory(site=site, email="ben@example.com", name="Ben")
        cleo = ContactFactory(site=site, email="cleo@sample.org", name="Cleo")
        services.subscribe(site, contact=ana, by=FORM)
        services.unsubscribe(site, contact=cleo, reason="opted_out", by=FORM)
        services.add_tags(site, contact=ben, names=["Yoga"])

    def emails(query):
        response = admin_client.get(url(site, f"?{query}"))
        assert response.status_code == 200, response.json()
        return sorted(c["email"] for c in response.json()["results"])

    assert emails("status=subscribed") == ["ana@example.com"]
    assert emails("status=unsubscribed&reason=opted_out") == ["cleo@sample.org"]
    assert emails("customer=true") == ["ana@example.com"]
    assert emails("customer=false") == ["ben@example.com", "cleo@sample.org"]
    assert emails("tag=yoga") == ["ben@example.com"]
    assert emails("q=LIMA") == ["ana@example.com"]
    assert emails("q=sample.org") == ["cleo@sample.org"]
    bad = admin_client.get(url(site, "?status=happy"))
    assert bad.status_code == 400
    assert "status" in bad.json()["fields"]


def test_the_list_is_newest_first_and_paged_by_cursor(admin_client, site):
    made = [ContactFactory(site=site) for _ in range(5)]
    first = admin_client.get(url(site, "?page_size=2")).json()
    ids = [c["id"] for c in first["results"]]
    page = first
    while page["next"]:
        page = admin_client.get(page["next"]).json()
        ids += [c["id"] for c in page["results"]]
    assert ids == [c.pk for c in reversed(made)]


def test_update_changes_name_email_and_fields(admin_client, site):
    contact = ContactFactory(site=site, email="old@example.com")
    response = admin_client.patch(
        url(site, f"{contact.pk}/"),
        {"email": "New@example.com", "name": "Nia", "fields": {"plan": "gold"}},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["name"]) == ("New@example.com", "Nia")


def test_update_cannot_take_another_contacts_email(admin_client, site):
    ContactFactory(site=site, email="taken@example.com")
    contact = ContactFactory(site=site)
    response = admin_client.patch(url(site, f"{contact.pk}/"), {"email": "TAKEN@example.com"}, format="json")
    assert response.status_code == 400
    assert "Another contact" in response.json()["fields"]["email"][0]


def test_subscribe_needs_a_stated_consent_and_is_refused_for_someone_who_opted_out(admin_client, site):
    contact = ContactFactory(site=site)
    assert admin_client.post(url(site, f"{contact.pk}/subscribe/"), {}, format="json").status_code == 400
    ok = admin_client.post(
        url(site, f"{contact.pk}/subscribe/"), {"consent": "Workshop sign-up sheet"}, format="json"
    )
    assert ok.json()["subscription_status"] == "subscribed"
    gone = ContactFactory(site=site)
    with scope(site=site):
        services.unsubscribe(site, contact=gone, reason="opted_out", by=FORM)
    refused = admin_client.post(
        url(site, f"{gone.pk}/subscribe/"), {"consent": "They said so"}, format="json"
    )
    assert refused.status_code == 400
    assert "only they can subscribe again" in refused.json()["fields"]["subscription_status"][0]


def test_unsubscribe_through_the_api_records_the_reason(admin_client, site, admin):
    contact = ContactFactory(site=site)
    response = admin_client.post(
        url(site, f"{contact.pk}/unsubscribe/"), {"reason": "opted_out"}, format="json"
    )
    assert (response.json()["subscription_status"], response.json()["unsubscribe_reason"]) == (
        "unsubscribed",
        "opted_out",
    )
    bounced = admin_client.post(url(site, f"{contact.pk}/unsubscribe/"), {"reason": "bounced"}, format="json")
    assert bounced.status_code == 400  # bounces come from the provider's webhooks only
    history = admin_client.get(url(site, f"{contact.pk}/consent-events/")).json()["results"]
    assert [(e["from_status"], e["to_status"], e["to_reason"], e["source"], e["actor"]) for e in history] == [
        ("never_subscribed", "unsubscribed", "opted_out", "api", admin.email)
    ]


def test_tags_are_added_and_removed_by_assistants_too(as_user, site, assistant):
    contact = ContactFactory(site=site)
    client = as_user(assistant)
    added = client.post(url(site, f"{contact.pk}/tags/"), {"add": ["Yoga", "Retreat"]}, format="json")
    assert sorted(added.json()["tags"]) == ["Retreat", "Yoga"]
    removed = client.post(url(site, f"{contact.pk}/tags/"), {"remove": ["yoga"]}, format="json")
    assert removed.json()["tags"] == ["Retreat"]
    assert client.post(url(site, f"{contact.pk}/tags/"), {}, format="json").status_code == 400


@pytest.mark.parametrize(
    ("method", "rest", "payload"),
    [
        ("post", "", {"email": "x@example.com"}),
        ("patch", "{pk}/", {"name": "x"}),
        ("delete", "{pk}/", None),
        ("post", "{pk}/subscribe/", {"consent": "x"}),
        ("post", "{pk}/unsubscribe/", {}),
    ],
)
def test_assistants_read_but_do_not_change_contacts(as_user, site, assistant, method, rest, payload):
    contact = ContactFactory(site=site)
    client = as_user(assistant)
    assert client.get(url(site, f"{contact.pk}/")).status_code == 200
    response = getattr(client, method)(url(site, rest.format(pk=contact.pk)), payload, format="json")
    assert response.status_code == 403


def test_delete_removes_the_contact_with_their_consent_events(admin_client, site):
    contact = ContactFactory(site=site)
    with scope(site=site):
        services.subscribe(site, contact=contact, by=FORM)
    assert admin_client.delete(url(site, f"{contact.pk}/")).status_code == 204
    with scope(site=site):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert not ConsentEvent.objects.filter(contact_id=contact.pk).exists()


def test_another_sites_user_and_ids_get_404_everywhere(as_user, site, other_site, other_owner):
    contact = ContactFactory(site=site, name="Private")
    client = as_user(other_owner)
    assert client.get(url(site)).status_code == 404
    for slug_site in (site, other_site):
        base = url(slug_site, f"{contact.pk}/")
        assert client.get(base).status_code == 404
        assert client.patch(base, {"name": "Hacked"}, format="json").status_code == 404
        assert client.delete(base).status_code == 404
        assert client.post(base + "subscribe/", {"consent": "x"}, format="json").status_code == 404
        assert client.post(base + "tags/", {"add": ["x"]}, format="json").status_code == 404
        assert client.get(base + "consent-events/").status_code == 404
    assert client.get(url(other_site)).json()["results"] == []
    with scopes_disabled():
        fresh = Contact.objects.get(pk=contact.pk)
    assert (fresh.name, fresh.subscription_status) == ("Private", "never_subscribed")


def test_forms_are_created_listed_and_archived_through_the_api(admin_client, site):
    created = admin_client.post(
        f"/api/v1/sites/{site.slug}/forms/",
        {"name": "Newsletter", "slug": "news", "tag_names": ["Lead"]},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["double_opt_in"] is True  # on by default
    assert body["public_url"].endswith(f"/f/{site.slug}/news/")
    duplicate = admin_client.post(
        f"/api/v1/sites/{site.slug}/forms/", {"name": "Again", "slug": "news"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "slug" in duplicate.json()["fields"]
    assert admin_client.delete(f"/api/v1/sites/{site.slug}/forms/{body['id']}/").status_code == 204
    archived = admin_client.get(f"/api/v1/sites/{site.slug}/forms/{body['id']}/").json()
    assert archived["archived_at"] is not None


def test_another_sites_owner_cannot_read_or_change_this_sites_forms(as_user, site, other_site, other_owner):
    from tests.factories import FormFactory

    form = FormFactory(site=site)
    client = as_user(other_owner)
    for slug in (site.slug, other_site.slug):
        assert client.get(f"/api/v1/sites/{slug}/forms/{form.pk}/").status_code == 404
        assert (
            client.patch(f"/api/v1/sites/{slug}/forms/{form.pk}/", {"name": "x"}, format="json").status_code
            == 404
        )
