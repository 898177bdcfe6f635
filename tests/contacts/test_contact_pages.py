"""The contact pages: the list, the contact page with its status, cause and consent history,
and what the team does there: add, edit, tag, subscribe, unsubscribe, delete."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from contacts import services
from contacts.models import ConsentEvent, ConsentSource, Contact, ContactOrigin, UnsubscribeReason
from contacts.services import Consent
from creatorhub import services as core_services
from creatorhub.roles import Role
from tests.factories import ContactFactory, FormFactory

TEAM = Consent(source=ConsentSource.TEAM, note="Signed up at the spring workshop")


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def next_link(response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def listed_emails(response) -> list[str]:
    return [contact.email for contact in response.context["contacts"]]


def state(site, contact):
    """What a contact looks like in the database: email, name, status, reason, tags, consent events."""
    with scope(site=site):
        contact = Contact.objects.filter(pk=contact.pk).first()
        if contact is None:
            return None
        return (
            contact.email,
            contact.name,
            contact.subscription_status,
            contact.unsubscribe_reason,
            sorted(tag.name for tag in contact.tags.all()),
            ConsentEvent.objects.filter(contact=contact).count(),
        )


@pytest.fixture
def contact(site):
    with scope(site=site):
        contact = ContactFactory(site=site, email="lea@example.net", name="Léa Martin")
        services.add_tags(site, contact=contact, names=["yoga"])
    return contact


def url(site, contact=None, action=""):
    if contact is None:
        return f"/app/{site.slug}/contacts/{action}"
    return f"/app/{site.slug}/contacts/{contact.pk}/{action}"


# -- The list ----------------------------------------------------------------------------------------


def test_the_contact_pages_ask_for_login_first(client, site, contact):
    for page in (url(site), url(site, contact)):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.ASSISTANT])
def test_every_role_sees_the_list_and_the_contact_page(client, site, contact, role, request):
    client.force_login(request.getfixturevalue(role))
    listing = client.get(url(site))
    assert listing.status_code == 200
    assert 'aria-current="page">Contacts</a>' in listing.content.decode()
    assert "Léa Martin lea@example.net Never subscribed yoga" in text(listing)
    assert client.get(url(site, contact)).status_code == 200


def test_the_list_shows_each_contact_newest_first_with_status_tags_and_date(client, site, owner):
    with scope(site=site), time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        old = ContactFactory(site=site, email="old@example.net", name="Old Friend")
        services.subscribe(site, contact=old, by=TEAM)
    with scope(site=site), time_machine.travel(datetime(2026, 11, 3, 9, tzinfo=UTC), tick=False):
        new = ContactFactory(site=site, email="new@example.net", name="")
        services.unsubscribe(site, contact=new, reason=UnsubscribeReason.OPTED_OUT, by=TEAM)
        services.add_tags(site, contact=new, names=["vip", "workshop"])
    client.force_login(owner)
    page = text(client.get(url(site)))
    assert "new@example.net Unsubscribed · opted out vip workshop Nov 3, 2026" in page
    assert "Old Friend old@example.net Subscribed — Mar 2, 2026" in page
    assert page.index("new@example.net") < page.index("old@example.net")


def test_customers_have_a_blue_check_on_their_avatar(client, site, owner):
    with scope(site=site):
        ContactFactory(site=site, email="buyer@example.net", is_customer=True)
        ContactFactory(site=site, email="reader@example.net", is_customer=False)
    client.force_login(owner)
    listing = client.get(url(site)).content.decode()
    assert listing.count('class="customer-check" role="img" aria-label="Customer"') == 1
    with scope(site=site):
        buyer = Contact.objects.get(email="buyer@example.net")
        reader = Contact.objects.get(email="reader@example.net")
    assert 'aria-label="Customer"' in client.get(url(site, buyer)).content.decode()
    assert 'aria-label="Customer"' not in client.get(url(site, reader)).content.decode()


def test_the_list_is_paged_by_cursor_newest_first_without_repeats(client, site, owner):
    same_moment = datetime(2026, 5, 1, 12, tzinfo=UTC)  # ties on created_at are broken by id
    with scope(site=site):
        for n in range(55):
            ContactFactory(site=site, email=f"p{n:02}@example.net", created_at=same_moment)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url(site))
    assert not any("OFFSET" in query["sql"].upper() for query in queries.captured_queries)
    assert len(listed_emails(first)) == 50
    assert listed_emails(first)[0] == "p54@example.net"
    second = client.get(next_link(first))
    assert second.status_code == 200
    assert listed_emails(second) == ["p04@example.net", "p03@example.net", "p02@example.net",
                                     "p01@example.net", "p00@example.net"]  # fmt: skip
    assert set(listed_emails(first)).isdisjoint(listed_emails(second))
    assert next_link(second) is None
    assert "Newest contacts" in text(second)


def test_search_finds_contacts_by_name_or_email_and_keeps_the_search_across_pages(client, site, owner):
    with scope(site=site):
        ContactFactory(site=site, email="ana@studio.example", name="Someone")
        ContactFactory(site=site, email="x@example.net", name="Ana Lima")
        ContactFactory(site=site, email="bob@example.net", name="Bob")
        for n in range(51):
            ContactFactory(site=site, email=f"fan{n}@example.org", name="Fan")
    client.force_login(owner)
    found = client.get(url(site), {"q": "ana"})
    assert sorted(listed_emails(found)) == ["ana@studio.example", "x@example.net"]
    assert client.get(url(site), {"q": "nobody"}).context["contacts"] == []
    assert "No contacts match “nobody”." in text(client.get(url(site), {"q": "nobody"}))
    fans = client.get(url(site), {"q": "example.org"})
    assert "q=example.org" in next_link(fans)
    assert len(listed_emails(client.get(next_link(fans)))) == 1


def test_a_broken_page_link_is_a_400_that_shows_the_newest_contacts(client, site, owner, contact):
    client.force_login(owner)
    response = client.get(url(site), {"before": "not-a-cursor"})
    assert response.status_code == 400
    assert "This page link is not valid" in text(response)
    assert listed_emails(response) == ["lea@example.net"]


# -- Adding, editing, deleting -----------------------------------------------------------------------


def test_admin_adds_a_contact_and_lands_on_their_page(client, site, admin):
    client.force_login(admin)
    assert "Add contact" in text(client.get(url(site)))
    response = client.post(url(site, action="new/"), {"email": "Nina@Example.com", "name": "Nina"})
    with scope(site=site):
        contact = Contact.objects.get(email="Nina@Example.com")
    assert response.status_code == 302
    assert response["Location"] == url(site, contact)
    page = text(client.get(response["Location"]))
    assert "Added Nina@Example.com, not subscribed to marketing email." in page
    assert "Never subscribed — added by hand" in page
    assert (contact.name, contact.subscription_status, contact.origin) == (
        "Nina",
        "never_subscribed",
        "manual",
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "Enter a valid email address."),
        ("LEA@example.net", "A contact with the email LEA@example.net exists already."),
    ],
)
def test_adding_a_contact_with_a_bad_or_taken_email_is_a_form_error(
    client, site, admin, contact, email, message
):
    client.force_login(admin)
    response = client.post(url(site, action="new/"), {"email": email, "name": "Someone"})
    assert response.status_code == 400
    assert message in text(response)
    with scope(site=site):
        assert Contact.objects.count() == 1


def test_admin_edits_a_contact(client, site, admin, contact):
    client.force_login(admin)
    form = client.get(url(site, contact, "edit/"))
    assert form.status_code == 200
    assert 'value="lea@example.net"' in form.content.decode()
    response = client.post(url(site, contact, "edit/"), {"email": "lea.m@example.net", "name": "Léa M."})
    assert response.status_code == 302
    assert "Saved lea.m@example.net." in text(client.get(response["Location"]))
    assert state(site, contact)[:2] == ("lea.m@example.net", "Léa M.")


@pytest.mark.parametrize(
    ("email", "message"),
    [("lea@", "Enter a valid email address."), ("Taken@example.net", "Another contact has the email")],
)
def test_editing_to_a_bad_or_taken_email_is_a_form_error(client, site, admin, contact, email, message):
    with scope(site=site):
        ContactFactory(site=site, email="taken@example.net")
    before = state(site, contact)
    client.force_login(admin)
    response = client.post(url(site, contact, "edit/"), {"email": email, "name": "Changed"})
    assert response.status_code == 400
    assert message in text(response)
    assert state(site, contact) == before


def test_admin_deletes_a_contact_after_confirming(client, site, admin, contact):
    with scope(site=site):
        services.subscribe(site, contact=contact, by=TEAM)
    client.force_login(admin)
    confirm = client.get(url(site, contact, "delete/"))
    assert confirm.status_code == 200
    assert "Delete lea@example.net? This erases their personal data everywhere" in text(confirm)
    assert state(site, contact) is not None  # looking is not deleting
    response = client.post(url(site, contact, "delete/"))
    assert response.status_code == 302
    assert response["Location"] == url(site)
    assert "Deleted lea@example.net and their consent history." in text(client.get(url(site)))
    assert state(site, contact) is None
    with scope(site=site):
        assert not ConsentEvent.objects.exists()


# -- Status, its cause, and the consent history -------------------------------------------------------


def test_the_contact_page_shows_the_profile(client, site, owner):
    with scope(site=site):
        contact = ContactFactory(
            site=site,
            email="kim@example.net",
            name="Kim",
            fields={"city": "Lyon"},
            origin=ContactOrigin.IMPORT,
            created_at=datetime(2026, 1, 15, 10, tzinfo=UTC),
            last_activity_at=datetime(2026, 2, 20, 10, tzinfo=UTC),
        )
    client.force_login(owner)
    page = text(client.get(url(site, contact)))
    assert "Email kim@example.net" in page
    assert "Name Kim" in page
    assert "city Lyon" in page
    assert "Added Jan 15, 2026" in page
    assert "Origin Import" in page
    assert "Last activity Feb 20, 2026" in page
    assert "Never subscribed — added by import on Jan 15, 2026" in page
    assert "No change of status yet." in page


def test_the_dates_show_in_the_sites_time_zone(client, site, owner):
    site.time_zone = "Pacific/Auckland"
    site.save()
    with scope(site=site):
        contact = ContactFactory(site=site, created_at=datetime(2026, 1, 15, 20, tzinfo=UTC))
    client.force_login(owner)
    assert "Added Jan 16, 2026" in text(client.get(url(site, contact)))


def test_an_opt_out_shows_its_reason_and_the_link_that_caused_it(client, site, owner, contact):
    with scope(site=site), time_machine.travel(datetime(2026, 11, 3, 8, tzinfo=UTC), tick=False):
        services.subscribe(site, contact=contact, by=TEAM)
        services.unsubscribe(
            site,
            contact=contact,
            reason=UnsubscribeReason.OPTED_OUT,
            by=Consent(source=ConsentSource.LINK, note="Clicked unsubscribe", ip="198.51.100.7"),
        )
    client.force_login(owner)
    page = text(client.get(url(site, contact)))
    assert (
        "Unsubscribed · opted out — via email link on Nov 3, 2026, from IP 198.51.100.7 “Clicked unsubscribe”"
        in page
    )


def test_a_form_subscription_shows_the_form_and_the_ip(client, site, owner, contact):
    with scope(site=site), time_machine.travel(datetime(2026, 6, 9, 8, tzinfo=UTC), tick=False):
        form = FormFactory(site=site, name="Newsletter")
        consent = Consent(source=ConsentSource.FORM, note="Submitted", form=form, ip="203.0.113.9")
        services.subscribe(site, contact=contact, by=consent)
    client.force_login(owner)
    assert "Subscribed — form “Newsletter” on Jun 9, 2026, from IP 203.0.113.9" in text(
        client.get(url(site, contact))
    )


def test_the_consent_history_lists_every_change_newest_first_with_who_and_where(client, site, owner, contact):
    with scope(site=site):
        api_key, _ = core_services.create_api_key(site, name="Zapier", role=Role.ADMIN, acting_user=owner)
        form = FormFactory(site=site, name="Free class")
    with scope(site=site), time_machine.travel(datetime(2026, 4, 1, 9, tzinfo=UTC), tick=False):
        services.start_double_opt_in(
            site,
            contact=contact,
            by=Consent(
                source=ConsentSource.FORM, note="Submitted the form", form=form, ip="203.0.113.9",
                user_agent="Mozilla/5.0 (Phone)",
            ),
        )  # fmt: skip
    with scope(site=site), time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False):
        services.subscribe(
            site, contact=contact, by=Consent(source=ConsentSource.API, note="Paid webinar", api_key=api_key)
        )
    with scope(site=site), time_machine.travel(datetime(2026, 4, 3, 9, tzinfo=UTC), tick=False):
        services.unsubscribe(
            site,
            contact=contact,
            reason=UnsubscribeReason.MANUAL,
            by=Consent(source=ConsentSource.TEAM, note="Asked by phone", user=owner),
        )
    client.force_login(owner)
    response = client.get(url(site, contact))
    page = text(response)
    rows = [
        "Apr 3, 2026, 09:00 Subscribed → Unsubscribed · by the site's team Team member "
        "owner@ana-yoga.example Asked by phone",
        "Apr 2, 2026, 09:00 Pending confirmation → Subscribed API API key “Zapier” Paid webinar",
        "Apr 1, 2026, 09:00 Never subscribed → Pending confirmation Form form “Free class” IP 203.0.113.9 "
        "Mozilla/5.0 (Phone) Submitted the form",
    ]
    for row in rows:
        assert row in page
    assert page.index(rows[0]) < page.index(rows[1]) < page.index(rows[2])
    assert "Unsubscribed · by the site's team — by owner@ana-yoga.example on Apr 3, 2026" in page


# -- Subscribing and unsubscribing --------------------------------------------------------------------


def test_admin_subscribes_a_contact_with_a_consent_statement(client, site, admin, contact):
    client.force_login(admin)
    response = client.post(
        url(site, contact, "subscribe/"),
        {"statement": "Signed up at my spring workshop", "attestation": "on"},
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="Firefox/140",
    )
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "lea@example.net is subscribed to marketing email." in page
    assert f"Subscribed — by {admin.email}" in page
    with scope(site=site):
        event = ConsentEvent.objects.get(contact=contact)
    assert state(site, contact)[2:4] == ("subscribed", None)
    assert (event.source, event.note, event.actor_user, event.ip, event.user_agent) == (
        "team",
        "Signed up at my spring workshop",
        admin,
        "192.0.2.44",
        "Firefox/140",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"statement": "Signed up at my workshop"},
            "Confirm that this person agreed to receive marketing emails.",
        ),
        ({"statement": "   ", "attestation": "on"}, "Say how this person gave consent."),
    ],
)
def test_subscribing_needs_a_statement_and_the_attestation(client, site, admin, contact, data, message):
    before = state(site, contact)
    client.force_login(admin)
    response = client.post(url(site, contact, "subscribe/"), data)
    assert response.status_code == 400
    assert message in text(response)
    assert '<details class="subscribe" open>' in response.content.decode()
    assert state(site, contact) == before


@pytest.mark.parametrize("reason", [UnsubscribeReason.OPTED_OUT, UnsubscribeReason.BOUNCED])
def test_subscribing_a_contact_who_unsubscribed_themselves_says_only_they_can(
    client, site, admin, contact, reason
):
    with scope(site=site):
        services.unsubscribe(site, contact=contact, reason=reason, by=Consent(source=ConsentSource.LINK))
    before = state(site, contact)
    client.force_login(admin)
    page = text(client.get(url(site, contact)))
    assert "Subscribe to marketing email" not in page  # the form is not offered
    assert "only they can subscribe again" in page
    response = client.post(url(site, contact, "subscribe/"), {"statement": "They asked", "attestation": "on"})
    assert response.status_code == 400
    assert "lea@example.net unsubscribed" in text(response)
    assert "only they can subscribe again, through one of your forms" in text(response)
    assert state(site, contact) == before


def test_the_team_may_subscribe_again_someone_the_team_unsubscribed(client, site, admin, contact):
    with scope(site=site):
        services.unsubscribe(site, contact=contact, reason=UnsubscribeReason.MANUAL, by=TEAM)
    client.force_login(admin)
    assert "Subscribe to marketing email" in text(client.get(url(site, contact)))
    client.post(url(site, contact, "subscribe/"), {"statement": "Asked to come back", "attestation": "on"})
    assert state(site, contact)[2:4] == ("subscribed", None)


def test_admin_unsubscribes_a_contact(client, site, admin, contact):
    with scope(site=site):
        services.subscribe(site, contact=contact, by=TEAM)
    client.force_login(admin)
    response = client.post(url(site, contact, "unsubscribe/"), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "lea@example.net is unsubscribed: they get no more marketing email." in page
    assert f"Unsubscribed · by the site's team — by {admin.email}" in page
    with scope(site=site):
        event = ConsentEvent.objects.filter(contact=contact).first()
    assert state(site, contact)[2:4] == ("unsubscribed", "manual")
    assert (event.source, event.note, event.actor_user, event.ip) == (
        "team",
        f"Unsubscribed by {admin.email}",
        admin,
        "192.0.2.44",
    )


def test_unsubscribing_twice_changes_nothing_more(client, site, admin, contact):
    with scope(site=site):
        services.unsubscribe(site, contact=contact, reason=UnsubscribeReason.OPTED_OUT, by=TEAM)
    before = state(site, contact)
    client.force_login(admin)
    response = client.post(url(site, contact, "unsubscribe/"), follow=True)
    assert "lea@example.net is unsubscribed already." in text(response)
    assert state(site, contact) == before  # the contact's own opt-out stays the reason


# -- Tags ---------------------------------------------------------------------------------------------


def test_assistant_adds_and_removes_tags(client, site, assistant, contact):
    client.force_login(assistant)
    response = client.post(url(site, contact, "tags/"), {"add": "vip, Workshop 2026 ,, vip"})
    assert response.status_code == 302
    assert "Tagged lea@example.net “vip”, “Workshop 2026”." in text(client.get(response["Location"]))
    assert state(site, contact)[4] == ["Workshop 2026", "vip", "yoga"]
    response = client.post(url(site, contact, "tags/"), {"remove": "YOGA"}, follow=True)
    assert "Removed the tag “YOGA” from lea@example.net." in text(response)
    assert state(site, contact)[4] == ["Workshop 2026", "vip"]


def test_bad_tag_input_says_what_is_wrong_and_changes_nothing(client, site, assistant, contact):
    client.force_login(assistant)
    assert "Type the name of a tag to add." in text(
        client.post(url(site, contact, "tags/"), {"add": " , "}, follow=True)
    )
    too_long = client.post(url(site, contact, "tags/"), {"add": "x" * 101}, follow=True)
    assert "A tag has at most 100 characters." in text(too_long)
    missing = client.post(url(site, contact, "tags/"), {"remove": "gold"}, follow=True)
    assert "lea@example.net did not have the tag “gold”." in text(missing)
    assert state(site, contact)[4] == ["yoga"]


# -- Who may do what ----------------------------------------------------------------------------------


def test_the_assistant_sees_no_controls_they_may_not_use(client, site, assistant, contact):
    client.force_login(assistant)
    listing = text(client.get(url(site)))
    assert "Add contact" not in listing
    page = client.get(url(site, contact)).content.decode()
    for control in ("contact-edit", "/edit/", "/delete/", "/subscribe/", "/unsubscribe/"):
        assert control not in page
    assert "Add tags" in page
    assert "Remove the tag yoga" in page


def test_assistant_gets_403_on_create_edit_subscribe_unsubscribe_and_delete(client, site, assistant, contact):
    before = state(site, contact)
    client.force_login(assistant)
    assert client.get(url(site, action="new/")).status_code == 403
    assert client.post(url(site, action="new/"), {"email": "new@example.net"}).status_code == 403
    assert client.get(url(site, contact, "edit/")).status_code == 403
    assert client.post(url(site, contact, "edit/"), {"email": "x@example.net"}).status_code == 403
    consent = {"statement": "Workshop", "attestation": "on"}
    assert client.post(url(site, contact, "subscribe/"), consent).status_code == 403
    assert client.post(url(site, contact, "unsubscribe/")).status_code == 403
    assert client.get(url(site, contact, "delete/")).status_code == 403
    assert client.post(url(site, contact, "delete/")).status_code == 403
    assert state(site, contact) == before
    with scope(site=site):
        assert Contact.objects.count() == 1


def test_another_sites_owner_gets_404_on_every_contact_page_and_action(
    client, site, contact, other_site, other_owner
):
    with scope(site=site):
        services.subscribe(site, contact=contact, by=TEAM)
    before = state(site, contact)
    client.force_login(other_owner)
    for slug in (site.slug, other_site.slug):
        base = f"/app/{slug}/contacts/{contact.pk}/"
        for action in ("", "edit/", "delete/"):
            assert client.get(base + action).status_code == 404, base + action
        for action, data in (
            ("edit/", {"email": "stolen@example.net", "name": "Stolen"}),
            ("tags/", {"add": "stolen"}),
            ("tags/", {"remove": "yoga"}),
            ("subscribe/", {"statement": "Mine now", "attestation": "on"}),
            ("unsubscribe/", {}),
            ("delete/", {}),
        ):
            assert client.post(base + action, data).status_code == 404, base + action
    assert client.get(f"/app/{site.slug}/contacts/").status_code == 404
    assert client.post(f"/app/{site.slug}/contacts/new/", {"email": "x@example.net"}).status_code == 404
    assert "lea@example.net" not in text(client.get(f"/app/{other_site.slug}/contacts/"))
    assert "lea@example.net" not in text(client.get(f"/app/{other_site.slug}/contacts/", {"q": "lea"}))
    assert state(site, contact) == before


def test_action_pages_refuse_methods_they_do_not_serve(client, site, owner, contact):
    client.force_login(owner)
    for action in ("subscribe/", "unsubscribe/", "tags/"):
        assert client.get(url(site, contact, action)).status_code == 405
    assert client.post(url(site, contact)).status_code == 405


def test_a_contact_added_today_lists_first_even_among_older_ones(client, site, owner):
    with scope(site=site):
        ContactFactory(site=site, email="older@example.net", created_at=datetime.now(UTC) - timedelta(days=3))
    client.force_login(owner)
    client.post(url(site, action="new/"), {"email": "today@example.net"})
    assert listed_emails(client.get(url(site)))[:2] == ["today@example.net", "older@example.net"]
