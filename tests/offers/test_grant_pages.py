"""Grants and revokes from the offer page, and the grant job page: one email, a pasted list or
a segment, with "Send offer grant email" on by default; bulk grants run as a job with progress and a
result; revoking ends an access and sends nothing."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from audience.services.grant_jobs import run_grant_job, start_grant_job
from contacts import services as contacts
from contacts.models import ConsentSource, Contact
from emails.models import OutboundEmail
from offers import views
from offers.models import Access, GrantJob, JobStatus
from offers.services import access, catalog
from tests.factories import ContactFactory


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def next_link(response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def kinds_sent_to(site, contact) -> list[str]:
    with scope(site=site):
        return sorted(OutboundEmail.objects.filter(contact=contact).values_list("kind", flat=True))


def live_holders(site, offer) -> list[str]:
    with scope(site=site):
        return sorted(
            Access.objects.filter(offer=offer, revoked_at=None).values_list("contact__email", flat=True)
        )


def contact_of(site, email) -> Contact | None:
    with scope(site=site):
        return Contact.objects.filter(email__iexact=email).first()


def only_job(site) -> GrantJob:
    with scope(site=site):
        return GrantJob.objects.get()


@pytest.fixture
def yoga(site):
    with scope(site=site):
        product = catalog.create_product(site, title="Yoga Basics", lesson_titles=["Breathing"])
        return catalog.create_offer(
            site, title="Yoga Basics Course", price=Decimal(49), product_ids=[product.pk]
        )


@pytest.fixture
def retreat(site):
    with scope(site=site):
        return catalog.create_offer(site, title="Retreat Recordings", price=Decimal(19))


@pytest.fixture
def grant(client, site, yoga, django_capture_on_commit_callbacks):
    """Posts the grant form and runs what waits for commit: the job (a Celery task, eager in tests)
    and the emails it queues."""

    def post(data, offer=yoga):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/app/{site.slug}/offers/{offer.pk}/grant/", data)

    return post


def holder(site, offer, *, email=None, by=None):
    with scope(site=site):
        contact = ContactFactory(site=site, **({"email": email} if email else {}))
        return access.grant_offer(site, offer=offer, contact=contact, by=access.Granter(user=by))


# -- The form -----------------------------------------------------------------------------------------


def test_the_offer_page_shows_the_grant_form_with_send_email_ticked_by_default(client, site, admin, yoga):
    client.force_login(admin)
    page = client.get(f"/app/{site.slug}/offers/{yoga.pk}/").content.decode()
    assert "Grant this offer" in page
    assert re.search(r'<input type="checkbox" name="send_grant_email"[^>]*checked', page)
    assert "<legend>A segment</legend>" in page
    for value, label in (("all", "All"), ("customers", "Customers"), ("subscribed", "Subscribed")):
        assert re.search(rf'<input type="radio" name="segment" value="{value}"[^>]*>\s*{label}</label>', page)
    assert '<textarea name="emails"' in page
    assert '<input type="email" name="email"' in page


# -- Granting -----------------------------------------------------------------------------------------


def test_granting_to_one_new_email_creates_the_contact_and_sends_both_emails(
    grant, client, site, admin, yoga
):
    client.force_login(admin)
    response = grant({"email": "New.Person@example.com", "send_grant_email": "on", "segment": ""})
    job = only_job(site)
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/grant-jobs/{job.pk}/"
    assert (job.status, job.total, job.granted, job.skipped, job.failed) == (JobStatus.DONE, 1, 1, 0, 0)
    assert job.created_by == admin
    contact = contact_of(site, "new.person@example.com")
    assert contact.email == "New.Person@example.com"  # stored as given
    assert contact.origin == "grant"
    with scope(site=site):
        granted = Access.objects.get(contact=contact, offer=yoga)
        assert (granted.source, granted.granted_by, granted.grant_job_id) == ("grant", admin, job.pk)
        assert Contact.objects.get(pk=contact.pk).is_customer
    assert kinds_sent_to(site, contact) == ["member_welcome", "offer_grant_confirmation"]
    page = client.get(response["Location"])
    assert "Granting “Yoga Basics Course” to New.Person@example.com." in text(page)
    assert "Done 1 of 1 processed" in text(page)
    assert "Granted 1 Skipped 0 Failed 0" in text(page)


def test_granting_with_the_email_unticked_sends_no_grant_confirmation(
    grant, client, site, admin, yoga, retreat
):
    customer = holder(site, retreat).contact
    with scope(site=site):
        sent_before = OutboundEmail.objects.count()
    client.force_login(admin)
    grant({"emails": f"new@example.com\n{customer.email}"})  # the checkbox is absent: unticked
    job = only_job(site)
    assert (job.granted, job.send_grant_email) == (2, False)
    # A new customer still gets the Member Welcome; an existing customer gets nothing.
    newcomer = contact_of(site, "new@example.com")
    with scope(site=site):
        new = OutboundEmail.objects.order_by("id")[sent_before:]
        assert [(e.kind, e.contact_id) for e in new] == [("member_welcome", newcomer.pk)]
    assert live_holders(site, yoga) == sorted(["new@example.com", customer.email])
    assert "Offer grant email Not sent" in text(client.get(f"/app/{site.slug}/grant-jobs/{job.pk}/"))


def test_granting_to_the_customers_segment_skips_those_who_already_hold_the_offer(
    grant, client, site, admin, yoga, retreat
):
    already = holder(site, yoga, email="already@example.net").contact
    other_customer = holder(site, retreat, email="other@example.net").contact
    with scope(site=site):
        ContactFactory(site=site, email="not-a-customer@example.net")
        sent_before = OutboundEmail.objects.count()
    client.force_login(admin)
    response = grant({"segment": "customers", "send_grant_email": "on"})
    job = only_job(site)
    assert (job.total, job.granted, job.skipped, job.failed) == (2, 1, 1, 0)
    assert job.skips == [{"target": "already@example.net", "reason": "Already holds the offer."}]
    assert live_holders(site, yoga) == ["already@example.net", "other@example.net"]
    # The existing customer gets the grant confirmation only; the one who held it gets nothing more.
    with scope(site=site):
        new = OutboundEmail.objects.order_by("id")[sent_before:]
        assert [(e.kind, e.contact_id) for e in new] == [("offer_grant_confirmation", other_customer.pk)]
    page = text(client.get(response["Location"]))
    assert "Granting “Yoga Basics Course” to the segment “Customers”." in page
    assert "Granted 1 Skipped 1 Failed 0" in page
    assert "Skipped already@example.net : Already holds the offer." in page
    assert already.pk != other_customer.pk


def test_a_pasted_list_with_an_invalid_email_fails_that_one_and_grants_the_others(
    grant, client, site, admin, yoga
):
    client.force_login(admin)
    response = grant(
        {
            "emails": "ana@example.com, not-an-email\nben@example.com;BEN@example.com\n\n",
            "send_grant_email": "on",
        }
    )
    job = only_job(site)
    assert (job.total, job.granted, job.skipped, job.failed) == (3, 2, 0, 1)
    assert job.errors == [{"target": "not-an-email", "reason": "Enter a valid email address."}]
    assert live_holders(site, yoga) == ["ana@example.com", "ben@example.com"]
    with scope(site=site):
        assert not Contact.objects.filter(email="not-an-email").exists()
    page = text(client.get(response["Location"]))
    assert "Granted 2 Skipped 0 Failed 1" in page
    assert "Failed not-an-email : Enter a valid email address." in page


def test_one_contact_listed_twice_in_a_job_is_granted_once(site, yoga):
    """The page dedupes a pasted list itself; the API hands the service its list as given."""
    with scope(site=site):
        job = start_grant_job(
            site, offer=yoga, target={"emails": ["ana@example.com", "ANA@example.com"]}, queue=False
        )
        job = run_grant_job(site, job=job)
    assert live_holders(site, yoga) == ["ana@example.com"]
    assert (job.total, job.granted + job.skipped, job.granted) == (1, 1, 1)


def test_a_selection_of_contacts_can_be_granted_by_id(grant, client, site, admin, yoga):
    with scope(site=site):
        chosen = ContactFactory.create_batch(2, site=site)
        ContactFactory(site=site)
    client.force_login(admin)
    grant({"contact_ids": [c.pk for c in chosen], "send_grant_email": "on"})
    job = only_job(site)
    assert (job.target, job.granted) == ({"contact_ids": sorted(c.pk for c in chosen)}, 2)
    assert live_holders(site, yoga) == sorted(c.email for c in chosen)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"send_grant_email": "on"}, "Choose who gets the offer: one email, a list of emails or a segment."),
        ({"emails": " \n , "}, "Choose who gets the offer: one email, a list of emails or a segment."),
        (
            {"email": "a@example.com", "segment": "all"},
            "Choose only one of: one email, a list of emails or a segment — not several at once.",
        ),
        (
            {"email": "a@example.com", "emails": "b@example.com"},
            "Choose only one of: one email, a list of emails or a segment — not several at once.",
        ),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"segment": "vips"}, "Select a valid choice. vips is not one of the available choices."),
    ],
)
def test_a_grant_without_exactly_one_target_is_a_form_error(grant, client, site, admin, yoga, data, message):
    client.force_login(admin)
    response = grant(data)
    assert response.status_code == 400
    assert message in text(response)
    assert "Grant this offer" in text(response)
    with scope(site=site):
        assert not GrantJob.objects.exists()
        assert not Access.objects.exists()
        assert not Contact.objects.exists()


def test_an_archived_offer_shows_no_grant_form_and_refuses_a_grant(grant, client, site, admin, yoga):
    with scope(site=site):
        catalog.archive_offer(site, offer=yoga)
    client.force_login(admin)
    page = text(client.get(f"/app/{site.slug}/offers/{yoga.pk}/"))
    assert "Grant this offer" not in page
    response = grant({"email": "a@example.com", "send_grant_email": "on"})
    assert response.status_code == 400
    assert "The offer “Yoga Basics Course” is archived: restore it before granting it." in text(response)
    with scope(site=site):
        assert not GrantJob.objects.exists()
        assert not Contact.objects.exists()


# -- The job page -------------------------------------------------------------------------------------


def test_the_job_page_shows_progress_and_refreshes_itself_with_htmx_until_done(client, site, assistant, yoga):
    with scope(site=site):
        contacts.subscribe(
            site,
            contact=ContactFactory(site=site, email="sub@example.net"),
            by=contacts.Consent(source=ConsentSource.TEAM, note="Signed up at the workshop"),
        )
        job = start_grant_job(site, offer=yoga, target={"segment": "subscribed"}, queue=False)
    client.force_login(assistant)  # offers:read is enough to follow a job
    url = f"/app/{site.slug}/grant-jobs/{job.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert f'hx-get="{url}"' in body
    assert 'hx-trigger="every 2s"' in body
    assert 'hx-select="#job-progress"' in body
    assert 'hx-target="#job-progress"' in body
    assert '<progress max="1" value="0"' in body
    assert "Queued 0 of 1 processed" in text(page)
    assert "<h1>" in body

    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "HX-Request" in partial["Vary"]
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="job-progress"')
    assert "<h1>" not in body
    assert "<html" not in body
    assert 'hx-trigger="every 2s"' in body

    with scope(site=site):
        run_grant_job(site, job=job)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert '<progress max="1" value="1"' in done
    assert "Done 1 of 1 processed" in text(client.get(url))
    assert "Granted 1 Skipped 0 Failed 0" in text(client.get(url))


def test_the_offer_page_links_its_recent_grants(grant, client, site, admin, yoga):
    client.force_login(admin)
    grant({"email": "a@example.com", "send_grant_email": "on"})
    job = only_job(site)
    page = client.get(f"/app/{site.slug}/offers/{yoga.pk}/").content.decode()
    assert f'href="/app/{site.slug}/grant-jobs/{job.pk}/"' in page
    assert f"by {admin.email} · Done: 1 granted, 0 skipped, 0 failed" in text(
        client.get(f"/app/{site.slug}/offers/{yoga.pk}/")
    )


# -- Holders and revoking -----------------------------------------------------------------------------


def test_the_offer_page_lists_holders_newest_first_with_source_and_granter(client, site, owner, admin, yoga):
    with scope(site=site):
        buyer = access.record_purchase(
            site,
            offer=yoga,
            email="buyer@example.net",
            amount=Decimal(49),
            currency="USD",
            idempotency_key="k1",
        )
    holder(site, yoga, email="granted@example.net", by=owner)
    client.force_login(admin)
    page = text(client.get(f"/app/{site.slug}/offers/{yoga.pk}/"))
    assert "Holders 2" in page
    assert page.index("granted@example.net") < page.index("buyer@example.net")
    assert f"granted@example.net Grant {owner.email}" in page
    assert "buyer@example.net Purchase 49.00 USD checkout" in page
    assert buyer.created


def test_holders_are_paged_by_cursor_never_offset(client, site, admin, yoga, monkeypatch):
    monkeypatch.setattr(views, "HOLDERS_PAGE_SIZE", 2)
    emails = [holder(site, yoga, email=f"h{i}@example.net").contact.email for i in range(5)]
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(f"/app/{site.slug}/offers/{yoga.pk}/")
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    assert [a.contact.email for a in first.context["holders"]] == [emails[4], emails[3]]
    second = client.get(next_link(first))
    assert [a.contact.email for a in second.context["holders"]] == [emails[2], emails[1]]
    third = client.get(next_link(second))
    assert [a.contact.email for a in third.context["holders"]] == [emails[0]]
    assert next_link(third) is None
    assert "Newest holders" in text(third)
    bad = client.get(f"/app/{site.slug}/offers/{yoga.pk}/?before=nonsense")
    assert bad.status_code == 400
    assert "This page link is not valid: here are the newest holders." in text(bad)


def test_revoking_one_holder_ends_the_access_and_sends_nothing(client, site, admin, yoga, retreat):
    last = holder(site, yoga, email="last@example.net")
    other = holder(site, yoga, email="keeps@example.net")
    with scope(site=site):
        sent_before = OutboundEmail.objects.count()
    client.force_login(admin)
    response = client.post(f"/app/{site.slug}/offers/{yoga.pk}/accesses/{last.pk}/revoke/", follow=True)
    assert "Revoked “Yoga Basics Course” from last@example.net. Nothing was sent." in text(response)
    with scope(site=site):
        revoked = Access.objects.get(pk=last.pk)
        assert revoked.revoked_at is not None
        assert revoked.revoked_by == admin
        assert not Contact.objects.get(pk=last.contact_id).is_customer  # it was their last access
        assert Access.objects.get(pk=other.pk).revoked_at is None
        assert OutboundEmail.objects.count() == sent_before
    assert live_holders(site, yoga) == ["keeps@example.net"]
    again = client.post(f"/app/{site.slug}/offers/{yoga.pk}/accesses/{last.pk}/revoke/", follow=True)
    assert "last@example.net no longer held “Yoga Basics Course”." in text(again)


def test_revoke_selected_ends_each_selected_access(client, site, admin, yoga, retreat):
    one = holder(site, yoga, email="one@example.net")
    two = holder(site, yoga, email="two@example.net")
    holder(site, yoga, email="stays@example.net")
    with scope(site=site):
        access.grant_offer(site, offer=retreat, contact=two.contact)  # two keeps another offer
        sent_before = OutboundEmail.objects.count()
    client.force_login(admin)
    response = client.post(
        f"/app/{site.slug}/offers/{yoga.pk}/revoke/",
        {"contact_ids": [one.contact_id, two.contact_id]},
        follow=True,
    )
    assert "Revoked “Yoga Basics Course” from 2 contacts. Nothing was sent." in text(response)
    assert live_holders(site, yoga) == ["stays@example.net"]
    with scope(site=site):
        assert Access.objects.filter(pk__in=[one.pk, two.pk], revoked_at__isnull=False).count() == 2
        assert not Contact.objects.get(pk=one.contact_id).is_customer
        assert Contact.objects.get(pk=two.contact_id).is_customer  # still holds the retreat
        assert OutboundEmail.objects.count() == sent_before
    empty = client.post(f"/app/{site.slug}/offers/{yoga.pk}/revoke/", {})
    assert empty.status_code == 400
    assert "Select the contacts whose access to revoke." in text(empty)


# -- Who may do what ----------------------------------------------------------------------------------


def test_assistants_see_holders_but_get_403_on_grant_and_revoke(grant, client, site, assistant, yoga):
    held = holder(site, yoga, email="held@example.net")
    client.force_login(assistant)
    page = client.get(f"/app/{site.slug}/offers/{yoga.pk}/")
    assert page.status_code == 200
    assert "held@example.net" in text(page)
    for hidden in ("Grant this offer", "Revoke", 'name="contact_ids"', "Send offer grant email"):
        assert hidden not in page.content.decode()
    assert grant({"email": "a@example.com", "send_grant_email": "on"}).status_code == 403
    assert (
        client.post(
            f"/app/{site.slug}/offers/{yoga.pk}/revoke/", {"contact_ids": [held.contact_id]}
        ).status_code
        == 403
    )
    assert client.post(f"/app/{site.slug}/offers/{yoga.pk}/accesses/{held.pk}/revoke/").status_code == 403
    assert live_holders(site, yoga) == ["held@example.net"]
    with scope(site=site):
        assert not GrantJob.objects.exists()


def test_another_sites_owner_gets_404_on_grants_revokes_and_jobs(
    client, site, owner, yoga, other_site, other_owner, django_capture_on_commit_callbacks
):
    held = holder(site, yoga, email="held@example.net")
    with scope(site=site):
        job = start_grant_job(site, offer=yoga, target={"emails": ["x@example.net"]}, queue=False)
    with scope(site=other_site):
        their_offer = catalog.create_offer(other_site, title="Their offer")
        their_contact = ContactFactory(site=other_site, email="theirs@example.net")
        their_access = access.grant_offer(other_site, offer=their_offer, contact=their_contact)
    client.force_login(other_owner)
    with django_capture_on_commit_callbacks(execute=True):
        for slug in (site.slug, other_site.slug):
            assert client.get(f"/app/{slug}/offers/{yoga.pk}/").status_code == 404
            assert client.get(f"/app/{slug}/grant-jobs/{job.pk}/").status_code == 404
            assert client.get(f"/app/{slug}/grant-jobs/{job.pk}/", HTTP_HX_REQUEST="true").status_code == 404
            for url, data in (
                (f"offers/{yoga.pk}/grant/", {"segment": "all", "send_grant_email": "on"}),
                (f"offers/{yoga.pk}/revoke/", {"contact_ids": [held.contact_id]}),
                (f"offers/{yoga.pk}/accesses/{held.pk}/revoke/", {}),
                (f"offers/{their_offer.pk}/accesses/{held.pk}/revoke/", {}),
            ):
                assert client.post(f"/app/{slug}/{url}", data).status_code == 404, (slug, url)
        # Their own offer, with this site's contacts: the ids are not found on their site.
        for url, data in (
            (f"offers/{their_offer.pk}/revoke/", {"contact_ids": [held.contact_id]}),
            (f"offers/{their_offer.pk}/grant/", {"contact_ids": [held.contact_id], "send_grant_email": "on"}),
        ):
            assert client.post(f"/app/{other_site.slug}/{url}", data).status_code == 404, url
    assert live_holders(site, yoga) == ["held@example.net"]
    with scope(site=site):
        assert GrantJob.objects.get().status == JobStatus.QUEUED
        assert Contact.objects.count() == 1
    with scope(site=other_site):
        assert not GrantJob.objects.exists()
        assert Access.objects.get(pk=their_access.pk).revoked_at is None


def test_this_sites_admin_cannot_grant_or_revoke_another_sites_contacts(
    grant, client, site, admin, yoga, other_site
):
    with scope(site=other_site):
        theirs = ContactFactory(site=other_site)
    client.force_login(admin)
    assert grant({"contact_ids": [theirs.pk], "send_grant_email": "on"}).status_code == 404
    response = client.post(f"/app/{site.slug}/offers/{yoga.pk}/revoke/", {"contact_ids": [theirs.pk]})
    assert response.status_code == 404
    for malformed in ("abc", "²", "-1"):
        assert grant({"contact_ids": [malformed]}).status_code == 400
        response = client.post(f"/app/{site.slug}/offers/{yoga.pk}/revoke/", {"contact_ids": [malformed]})
        assert response.status_code == 400
    with scope(site=site):
        assert not GrantJob.objects.exists()
    with scope(site=other_site):
        assert not Contact.objects.get(pk=theirs.pk).is_customer
