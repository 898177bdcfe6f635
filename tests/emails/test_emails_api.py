"""The emails API: the email log and the automated emails' templates; roles, API keys and
tenant isolation."""

from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from creatorhub import services as core_services
from creatorhub.roles import Role
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.services import save_template
from tests.factories import ContactFactory

GRANT = EmailKind.OFFER_GRANT_CONFIRMATION
VALID = {
    "subject": "{{ site.name }} has a gift for {{ contact.name }}",
    "body_text": "Open {{ offer.title }}: {{ login_url }}",
    "body_html": '<p>Open <a href="{{ login_url }}">{{ offer.title }}</a></p>',
}


def url(site, rest=""):
    return f"/api/v1/sites/{site.slug}/{rest}"


def saved(site):
    with scope(site=site):
        return {t.kind: t.subject for t in EmailTemplate.objects.all()}


def make_email(site, *, status, contact=None, kind=EmailKind.DOUBLE_OPT_IN, **fields):
    contact = contact or ContactFactory(site=site)
    with scope(site=site):
        return OutboundEmail.objects.create(
            site=site,
            kind=kind,
            contact=contact,
            to_email=contact.email,
            dedupe_key=f"test:{OutboundEmail.objects.count()}:{contact.pk}",
            status=status,
            **fields,
        )


@pytest.fixture
def admin_client(as_user, admin):
    return as_user(admin)


@pytest.fixture
def contact(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana Lima")


@pytest.fixture
def stranger(other_site):
    return ContactFactory(site=other_site, email="ben@example.com", name="Ben Stranger")


# -- The email log ----------------------------------------------------------------------------------


def test_the_log_lists_queued_sent_failed_and_suppressed_emails_newest_first(admin_client, site, contact):
    now = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    queued = make_email(
        site, status=EmailStatus.QUEUED, contact=contact, created_at=now - timedelta(minutes=4)
    )
    sent = make_email(
        site,
        status=EmailStatus.SENT,
        contact=contact,
        kind=GRANT,
        subject="Ana's Yoga Studio gave you Yoga 101",
        attempts=1,
        created_at=now - timedelta(minutes=3),
        sent_at=now - timedelta(minutes=3),
    )
    failed = make_email(
        site,
        status=EmailStatus.FAILED,
        kind=EmailKind.MEMBER_WELCOME,
        error="SMTPServerDisconnected: connection lost",
        attempts=9,
        created_at=now - timedelta(minutes=2),
    )
    suppressed = make_email(
        site,
        status=EmailStatus.SUPPRESSED,
        error="The address hard bounce.",
        created_at=now - timedelta(minutes=1),
    )
    response = admin_client.get(url(site, "emails/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert [(e["id"], e["status"], e["error"]) for e in body["results"]] == [
        (suppressed.pk, "suppressed", "The address hard bounce."),
        (failed.pk, "failed", "SMTPServerDisconnected: connection lost"),
        (sent.pk, "sent", ""),
        (queued.pk, "queued", ""),
    ]
    assert body["results"][2] == {
        "id": sent.pk,
        "kind": "offer_grant_confirmation",
        "to_email": "ana@example.com",
        "subject": "Ana's Yoga Studio gave you Yoga 101",
        "status": "sent",
        "error": "",
        "attempts": 1,
        "created_at": "2026-05-04T09:27:00Z",
        "sent_at": "2026-05-04T09:27:00Z",
        "contact": contact.pk,
    }
    one = admin_client.get(url(site, f"emails/{failed.pk}/")).json()
    assert (one["status"], one["attempts"], one["kind"]) == ("failed", 9, "member_welcome")


def test_the_log_filters_by_status_and_kind(admin_client, site):
    granted = make_email(site, status=EmailStatus.SENT, kind=GRANT)
    make_email(site, status=EmailStatus.SENT, kind=EmailKind.DOUBLE_OPT_IN)
    failed = make_email(site, status=EmailStatus.FAILED, kind=GRANT, error="boom")
    ids = lambda query: [e["id"] for e in admin_client.get(url(site, f"emails/?{query}")).json()["results"]]  # noqa: E731
    assert ids("status=sent&kind=offer_grant_confirmation") == [granted.pk]
    assert ids("kind=offer_grant_confirmation") == [failed.pk, granted.pk]
    response = admin_client.get(url(site, "emails/?status=lost"))
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_the_log_is_paged_by_cursor(admin_client, site):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    contact = ContactFactory(site=site)
    emails = [
        make_email(site, status=EmailStatus.SENT, contact=contact, created_at=start + timedelta(hours=n))
        for n in range(5)
    ]
    first = admin_client.get(url(site, "emails/?page_size=3")).json()
    assert [e["id"] for e in first["results"]] == [e.pk for e in reversed(emails[2:])]
    second = admin_client.get(first["next"]).json()
    assert [e["id"] for e in second["results"]] == [emails[1].pk, emails[0].pk]


# -- Templates ----------------------------------------------------------------------------------------


def test_the_templates_list_every_kind_with_whether_it_is_the_default(admin_client, site):
    with scope(site=site):
        save_template(site, kind=GRANT, acting_user=None, **VALID)
    response = admin_client.get(url(site, "email-templates/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    rows = {row["kind"]: row for row in body["results"]}
    assert list(rows) == EmailKind.values
    assert rows[GRANT]["is_default"] is False
    assert rows[GRANT]["subject"] == VALID["subject"]
    assert rows[GRANT]["updated_at"] is not None
    double = rows[EmailKind.DOUBLE_OPT_IN]
    assert double["is_default"] is True
    assert double["subject"] == "Please confirm your subscription to {{ site.name }}"
    assert "{{ confirm_url }}" in double["body_text"]
    assert "{{ confirm_url }}" in double["body_html"]
    assert double["variables"] == ["contact.name", "contact.email", "site.name", "form.name", "confirm_url"]
    assert double["name"] == "Double Opt-in Confirmation"


def test_putting_a_template_saves_it_and_delete_restores_the_default(admin_client, site, admin):
    response = admin_client.put(url(site, f"email-templates/{GRANT}/"), VALID, format="json")
    assert response.status_code == 200
    assert response.json()["is_default"] is False
    assert response.json()["subject"] == VALID["subject"]
    assert saved(site) == {GRANT: VALID["subject"]}
    with scope(site=site):
        assert EmailTemplate.objects.get().updated_by == admin
    assert admin_client.get(url(site, f"email-templates/{GRANT}/")).json()["body_text"] == VALID["body_text"]

    response = admin_client.delete(url(site, f"email-templates/{GRANT}/"))
    assert response.status_code == 204
    assert saved(site) == {}
    body = admin_client.get(url(site, f"email-templates/{GRANT}/")).json()
    assert body["is_default"] is True
    assert body["subject"] == "{{ site.name }} gave you {{ offer.title }}"
    assert admin_client.delete(url(site, f"email-templates/{GRANT}/")).status_code == 204  # idempotent


@pytest.mark.parametrize(
    ("field", "source", "message"),
    [
        ("subject", "Hi {{ contact.name ", "“{{” is not closed by “}}”"),
        ("body_text", "{% if %}x{% endif %}", "Unexpected end of expression in if tag."),
        ("body_html", "{% load static %}", "the {% load %} tag is not allowed"),
        ("body_html", "{{ confirm_url }}", "“confirm_url” is not a variable of this email"),
    ],
)
def test_a_template_error_is_a_400_naming_the_field_and_nothing_is_saved(
    admin_client, site, field, source, message
):
    response = admin_client.put(
        url(site, f"email-templates/{GRANT}/"), {**VALID, field: source}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert message in body["fields"][field][0]
    assert saved(site) == {}


def test_unknown_and_missing_fields_are_a_400(admin_client, site):
    response = admin_client.put(url(site, f"email-templates/{GRANT}/"), {**VALID, "from": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"from": ["This field is not known."]}
    response = admin_client.put(url(site, f"email-templates/{GRANT}/"), {"subject": "Hi"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"body_text", "body_html"}
    assert saved(site) == {}


def test_patch_is_not_allowed(admin_client, site):
    assert admin_client.patch(url(site, f"email-templates/{GRANT}/"), VALID, format="json").status_code == 405


def test_an_unknown_kind_is_a_404(admin_client, site):
    assert admin_client.get(url(site, "email-templates/newsletter/")).status_code == 404
    assert admin_client.put(url(site, "email-templates/newsletter/"), VALID, format="json").status_code == 404
    assert admin_client.delete(url(site, "email-templates/newsletter/")).status_code == 404
    assert admin_client.post(url(site, "email-templates/newsletter/preview/")).status_code == 404


def test_the_preview_renders_for_a_real_contact_or_the_sample(admin_client, site, contact):
    admin_client.put(url(site, f"email-templates/{GRANT}/"), VALID, format="json")
    response = admin_client.post(
        url(site, f"email-templates/{GRANT}/preview/"), {"contact": contact.pk}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "Ana's Yoga Studio has a gift for Ana Lima"
    assert body["text"] == "Open Sample offer: http://127.0.0.1:8000/s/ana-yoga/login/\n"
    assert 'href="http://127.0.0.1:8000/s/ana-yoga/login/"' in body["html"]
    sample = admin_client.post(url(site, f"email-templates/{GRANT}/preview/"), {}, format="json").json()
    assert sample["subject"] == "Ana's Yoga Studio has a gift for Alex Sample"


def test_a_saved_template_over_the_limits_previews_as_a_400_with_the_reason(admin_client, site, contact):
    with scope(site=site):  # saved before the limits existed: the editor would refuse it now
        EmailTemplate.objects.create(
            site=site,
            kind=GRANT,
            subject="Hi",
            body_text='{{ contact.name|center:"5000" }}',
            body_html="<p>x</p>",
        )
    response = admin_client.post(
        url(site, f"email-templates/{GRANT}/preview/"), {"contact": contact.pk}, format="json"
    )
    assert response.status_code == 400
    assert "center filter takes widths" in response.json()["message"]


def test_the_preview_with_another_sites_contact_id_is_a_404(admin_client, site, stranger):
    response = admin_client.post(
        url(site, f"email-templates/{GRANT}/preview/"), {"contact": stranger.pk}, format="json"
    )
    assert response.status_code == 404
    assert "Ben" not in response.content.decode()


def test_an_admin_api_key_edits_templates_and_an_assistant_key_may_not(api_client, site, owner):
    with scope(site=site):
        _, admin_secret = core_services.create_api_key(site, name="CMS", role=Role.ADMIN, acting_user=owner)
        _, assistant_secret = core_services.create_api_key(
            site, name="Bot", role=Role.ASSISTANT, acting_user=owner
        )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_secret}")
    assert api_client.put(url(site, f"email-templates/{GRANT}/"), VALID, format="json").status_code == 200
    with scope(site=site):
        assert EmailTemplate.objects.get().updated_by is None  # a key is no team member
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {assistant_secret}")
    assert api_client.get(url(site, "emails/")).status_code == 403
    assert api_client.delete(url(site, f"email-templates/{GRANT}/")).status_code == 403
    assert saved(site) == {GRANT: VALID["subject"]}


# -- Roles and tenant isolation -------------------------------------------------------------------------


def every_endpoint(site, email_id, kind=GRANT):
    return [
        ("get", url(site, "emails/"), None),
        ("get", url(site, f"emails/{email_id}/"), None),
        ("get", url(site, "email-templates/"), None),
        ("get", url(site, f"email-templates/{kind}/"), None),
        ("put", url(site, f"email-templates/{kind}/"), VALID),
        ("delete", url(site, f"email-templates/{kind}/"), None),
        ("post", url(site, f"email-templates/{kind}/preview/"), {}),
    ]


def test_assistants_get_a_403_on_every_endpoint(as_user, site, assistant):
    email = make_email(site, status=EmailStatus.SENT)
    client = as_user(assistant)
    for method, address, data in every_endpoint(site, email.pk):
        response = getattr(client, method)(address, data, format="json")
        assert response.status_code == 403, address
    assert saved(site) == {}


def test_another_sites_owner_gets_a_404_on_every_endpoint_and_object_id(
    as_user, site, other_site, other_owner, contact
):
    with scope(site=site):
        save_template(site, kind=GRANT, acting_user=None, **VALID)
    email = make_email(site, status=EmailStatus.SENT, contact=contact, subject="Ana's own email")
    client = as_user(other_owner)
    for method, address, data in every_endpoint(site, email.pk):
        response = getattr(client, method)(address, data, format="json")
        assert response.status_code == 404, address
    assert saved(site) == {GRANT: VALID["subject"]}
    # Under their own slug, this site's ids are not found and its rows never show.
    assert client.get(url(other_site, f"emails/{email.pk}/")).status_code == 404
    assert client.get(url(other_site, "emails/")).json()["results"] == []
    mine = client.get(url(other_site, f"email-templates/{GRANT}/")).json()
    assert mine["is_default"] is True
    preview = client.post(
        url(other_site, f"email-templates/{GRANT}/preview/"), {"contact": contact.pk}, format="json"
    )
    assert preview.status_code == 404


def test_requests_without_credentials_are_a_401(api_client, site):
    email = make_email(site, status=EmailStatus.SENT)
    for method, address, data in every_endpoint(site, email.pk):
        assert getattr(api_client, method)(address, data, format="json").status_code == 401, address


def test_the_schema_documents_the_emails_endpoints(api_client, db):
    paths = api_client.get("/api/v1/schema/?format=json").json()["paths"]
    assert {"get"} <= set(paths["/api/v1/sites/{site}/emails/"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/sites/{site}/email-templates/{kind}/"])
    assert "post" in paths["/api/v1/sites/{site}/email-templates/{kind}/preview/"]
