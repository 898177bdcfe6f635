"""The emails pages: the automated emails and their templates, the editor with its preview,
"restore default", and the email log; roles and tenant isolation."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from contacts.models import Contact
from creatorhub.roles import Role
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.services import save_template
from tests.factories import ContactFactory

GRANT = EmailKind.OFFER_GRANT_CONFIRMATION
VALID = {
    "subject": "{{ site.name }} has a gift for {{ contact.name }}",
    "body_text": "Open {{ offer.title }}: {{ login_url }}",
    "body_html": '<p>Open <a href="{{ login_url }}">{{ offer.title }}</a>, {{ contact.name }}</p>',
}


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def page_url(site, rest=""):
    return f"/app/{site.slug}/emails/{rest}"


def template_url(site, kind=GRANT, rest=""):
    return page_url(site, f"templates/{kind}/{rest}")


def saved(site):
    with scope(site=site):
        return {t.kind: t.subject for t in EmailTemplate.objects.all()}


def customise(site, kind=GRANT, **parts):
    with scope(site=site):
        return save_template(site, kind=kind, acting_user=None, **{**VALID, **parts})


@pytest.fixture
def contact(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana Lima")


@pytest.fixture
def stranger(other_site):
    return ContactFactory(site=other_site, email="ben@example.com", name="Ben Stranger")


def make_email(site, *, status, contact=None, error="", attempts=0, kind=EmailKind.DOUBLE_OPT_IN, **fields):
    contact = contact or ContactFactory(site=site)
    with scope(site=site):
        return OutboundEmail.objects.create(
            site=site,
            kind=kind,
            contact=contact,
            to_email=contact.email,
            dedupe_key=f"test:{OutboundEmail.objects.count()}:{contact.pk}",
            status=status,
            error=error,
            attempts=attempts,
            **fields,
        )


# -- The list of emails ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_the_emails_page_lists_every_kind_with_its_subject_and_whether_it_is_customised(
    client, site, role, request
):
    customise(site)
    client.force_login(request.getfixturevalue(role))
    response = client.get(page_url(site))
    assert response.status_code == 200
    assert 'aria-current="page">Emails</a>' in response.content.decode()
    page = text(response)
    for kind in EmailKind:
        assert kind.label in page
        assert f'href="{template_url(site, kind.value)}"' in response.content.decode()
    assert "Offer Grant Confirmation {{ site.name }} has a gift for {{ contact.name }} Customised" in page
    assert "Double Opt-in Confirmation Please confirm your subscription to {{ site.name }} Default" in page
    assert page.count("Customised") == 1
    assert page.count("Default") == len(EmailKind) - 1
    assert f'href="{page_url(site, "log/")}"' in response.content.decode()


def test_the_emails_tab_shows_to_admins_and_not_to_assistants(client, site, admin, assistant):
    client.force_login(admin)
    assert f'href="{page_url(site)}"' in client.get(f"/app/{site.slug}/").content.decode()
    client.force_login(assistant)
    assert f'href="{page_url(site)}"' not in client.get(f"/app/{site.slug}/").content.decode()


# -- The editor ----------------------------------------------------------------------------------------


def test_the_editor_shows_the_default_its_variables_and_a_sample_preview(client, site, admin):
    client.force_login(admin)
    response = client.get(template_url(site, EmailKind.MEMBER_WELCOME))
    assert response.status_code == 200
    content = response.content.decode()
    page = text(response)
    assert "Member Welcome" in page
    assert "Default Your site sends our default template." in page
    assert 'value="Welcome to {{ site.name }}: set your password"' in html.unescape(content)
    for variable in ("contact.name", "site.name", "offer.title", "set_password_url"):
        assert "{{ " + variable + " }}" in page
    assert "Restore default" not in page  # nothing to restore
    assert "Subject Welcome to Ana's Yoga Studio: set your password" in page
    assert "Hi Alex Sample," in page


def test_saving_a_template_from_the_page(client, site, admin):
    client.force_login(admin)
    response = client.post(template_url(site), VALID)
    assert response.status_code == 302
    assert response["Location"] == template_url(site)
    assert saved(site) == {GRANT: VALID["subject"]}
    page = text(client.get(response["Location"]))
    assert "Saved the Offer Grant Confirmation email" in page
    assert "Customised" in page
    assert "Subject Ana's Yoga Studio has a gift for Alex Sample" in page  # the preview follows


@pytest.mark.parametrize(
    ("field", "source", "message"),
    [
        ("subject", "Hi {{ contact.name ", "“{{” is not closed by “}}”"),
        ("body_text", "{% if %}x{% endif %}", "Unexpected end of expression in if tag."),
        ("body_html", "{% include 'base.html' %}", "the {% include %} tag is not allowed"),
    ],
)
def test_a_template_error_is_shown_at_its_field_and_nothing_is_saved(
    client, site, admin, field, source, message
):
    client.force_login(admin)
    response = client.post(template_url(site), {**VALID, field: source})
    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    field_html = content[content.index(f'name="{field}"') :]
    field_html = (
        field_html[: field_html.index('<div class="field')]
        if '<div class="field' in field_html
        else field_html
    )
    assert message in field_html  # the message is shown at the field it concerns
    assert saved(site) == {}


def test_restore_default_from_the_page(client, site, admin):
    customise(site)
    client.force_login(admin)
    assert "Restore default" in text(client.get(template_url(site)))
    response = client.post(template_url(site, rest="restore/"))
    assert response.status_code == 302
    assert response["Location"] == template_url(site)
    assert saved(site) == {}
    page = text(client.get(template_url(site)))
    assert "The Offer Grant Confirmation email is back to the default." in page
    assert "Subject Ana's Yoga Studio gave you Sample offer" in page


def test_the_preview_with_a_chosen_contact_shows_their_name(client, site, admin, contact):
    customise(site)
    client.force_login(admin)
    response = client.get(template_url(site) + f"?contact={contact.pk}")
    assert response.status_code == 200
    page = text(response)
    assert "Subject Ana's Yoga Studio has a gift for Ana Lima" in page
    assert "To ana@example.com" in page
    assert f'<option value="{contact.pk}" selected>' in response.content.decode()


def test_the_html_preview_is_sandboxed_and_escaped(client, site, admin):
    customise(
        site,
        subject="<b>{{ contact.name }}</b>",
        body_text="<script>alert('text')</script> {{ offer.title }}",
        body_html='<p>{{ contact.name }}</p><script>alert("x")</script>',
    )
    client.force_login(admin)
    content = client.get(template_url(site)).content.decode()
    iframe = re.search(r"<iframe [^>]*>", content).group(0)
    assert " sandbox " in iframe
    assert 'title="Preview of the Offer Grant Confirmation email (HTML)"' in iframe
    assert f'src="{template_url(site, rest="preview/")}"' in iframe
    assert '<script>alert("x")' not in content
    assert "<script>alert('text')" not in content
    assert "&lt;script&gt;alert(&#x27;text&#x27;)&lt;/script&gt; Sample offer" in content
    assert "<dd>&lt;b&gt;Alex Sample&lt;/b&gt;</dd>" in content
    assert "<b>Alex" not in content


def test_the_html_preview_is_a_document_of_its_own_that_runs_no_script(client, site, admin, contact):
    """The iframe's document: the email's HTML (inline styles and all) under a policy of its own, which
    sandboxes it and lets only our own pages frame it."""
    customise(site, body_html='<p style="color: #2454d6">{{ contact.name }}</p><script>alert("x")</script>')
    client.force_login(admin)
    response = client.get(template_url(site, rest="preview/") + f"?contact={contact.pk}")
    assert response.status_code == 200
    assert response.content.decode() == '<p style="color: #2454d6">Ana Lima</p><script>alert("x")</script>'
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "frame-ancestors 'self'" in policy
    assert re.search(r"(^|; )sandbox(;|$)", policy)
    assert "script-src" not in policy  # default-src 'none': no script at all
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Cache-Control"] == "private, no-store"


def test_the_html_preview_is_refused_to_others(client, site, admin, stranger, other_owner):
    client.force_login(admin)
    assert client.get(template_url(site, rest="preview/") + f"?contact={stranger.pk}").status_code == 404
    client.force_login(other_owner)
    assert client.get(template_url(site, rest="preview/")).status_code == 404
    client.logout()
    assert client.get(template_url(site, rest="preview/")).status_code == 302


def test_the_preview_with_another_sites_contact_id_is_a_404(client, site, admin, stranger):
    client.force_login(admin)
    assert client.get(template_url(site) + f"?contact={stranger.pk}").status_code == 404
    assert client.get(template_url(site) + "?contact=abc").status_code == 404


def test_an_unknown_kind_is_a_404(client, site, admin):
    client.force_login(admin)
    assert client.get(template_url(site, "newsletter")).status_code == 404
    assert client.post(template_url(site, "newsletter"), VALID).status_code == 404
    assert client.post(template_url(site, "newsletter", "restore/")).status_code == 404


# -- The email log ------------------------------------------------------------------------------------


def test_the_log_shows_queued_sent_failed_and_suppressed_emails_with_their_error_or_reason(
    client, site, admin, contact
):
    now = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    make_email(site, status=EmailStatus.QUEUED, contact=contact, created_at=now - timedelta(minutes=4))
    make_email(
        site,
        status=EmailStatus.SENT,
        contact=contact,
        kind=GRANT,
        subject="Ana's Yoga Studio gave you Yoga 101",
        attempts=1,
        created_at=now - timedelta(minutes=3),
        sent_at=now - timedelta(minutes=3),
    )
    make_email(
        site,
        status=EmailStatus.FAILED,
        kind=EmailKind.MEMBER_WELCOME,
        error="SMTPServerDisconnected: connection lost",
        attempts=9,
        created_at=now - timedelta(minutes=2),
    )
    bounced = ContactFactory(site=site, email="gone@example.com")
    make_email(
        site,
        status=EmailStatus.SUPPRESSED,
        contact=bounced,
        error="The address hard bounce.",
        created_at=now - timedelta(minutes=1),
    )
    client.force_login(admin)
    response = client.get(page_url(site, "log/"))
    assert response.status_code == 200
    page = text(response)
    assert "gone@example.com — Suppressed The address hard bounce. 0" in page
    assert "Member Welcome" in page
    assert "Failed SMTPServerDisconnected: connection lost 9" in page
    assert "ana@example.com Ana's Yoga Studio gave you Yoga 101 Sent May 4, 09:27 1" in page
    assert "May 4, 2026, 09:26 Double Opt-in Confirmation ana@example.com — Queued 0" in page
    rows = ["Suppressed The address", "Failed SMTP", "Sent May 4", "Queued 0"]
    assert [page.index(row) for row in rows] == sorted(page.index(row) for row in rows)  # newest first
    content = response.content.decode()
    assert 'class="badge email-failed"' in content
    assert f'href="/app/{site.slug}/contacts/{contact.pk}/"' in content


def test_the_log_filters_by_status_and_kind(client, site, admin):
    make_email(site, status=EmailStatus.SENT, kind=GRANT, subject="Granted")
    make_email(site, status=EmailStatus.SENT, kind=EmailKind.DOUBLE_OPT_IN, subject="Confirm please")
    make_email(site, status=EmailStatus.FAILED, kind=GRANT, subject="", error="boom")
    client.force_login(admin)
    page = text(client.get(page_url(site, "log/") + "?status=sent&kind=offer_grant_confirmation"))
    assert "Granted" in page
    assert "Confirm please" not in page
    assert "boom" not in page
    page = text(client.get(page_url(site, "log/") + "?status=failed"))
    assert "boom" in page
    assert "Granted" not in page
    response = client.get(page_url(site, "log/") + "?status=lost")
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)


def test_the_log_is_paged_by_cursor_newest_first(client, site, admin):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    contact = ContactFactory(site=site)
    for n in range(53):
        make_email(
            site,
            status=EmailStatus.SENT,
            contact=contact,
            subject=f"Email {n:02}",
            created_at=start + timedelta(hours=n),
        )
    client.force_login(admin)
    first = client.get(page_url(site, "log/") + "?status=sent")
    page = text(first)
    assert "Email 52" in page
    assert "Email 03" in page
    assert "Email 02" not in page
    next_url = html.unescape(re.search(r'href="([^"]*)" rel="next"', first.content.decode()).group(1))
    assert "status=sent" in next_url
    assert "cursor=" in next_url
    second = text(client.get(next_url))
    assert "Email 02" in second
    assert "Email 00" in second
    assert "Email 03" not in second
    assert "Newest emails" in second
    bad = client.get(page_url(site, "log/") + "?cursor=not-a-cursor")
    assert bad.status_code == 400
    assert "This page link is not valid" in text(bad)


def test_the_log_shows_only_this_sites_emails(client, site, other_site, admin, stranger):
    make_email(other_site, status=EmailStatus.SENT, contact=stranger, subject="Ben's secret")
    client.force_login(admin)
    assert "Ben's secret" not in text(client.get(page_url(site, "log/")))


# -- Roles and tenant isolation -------------------------------------------------------------------------


def every_page(site, kind=GRANT):
    return [
        ("get", page_url(site)),
        ("get", template_url(site, kind)),
        ("post", template_url(site, kind)),
        ("post", template_url(site, kind, "restore/")),
        ("get", page_url(site, "log/")),
    ]


def test_assistants_may_not_open_the_emails_pages(client, site, assistant):
    customise(site)
    client.force_login(assistant)
    for method, url in every_page(site):
        assert getattr(client, method)(url, VALID if method == "post" else None).status_code == 403, url
    assert saved(site) == {GRANT: VALID["subject"]}


def test_another_sites_owner_gets_a_404_on_every_page(client, site, other_site, other_owner, contact):
    customise(site)
    make_email(site, status=EmailStatus.SENT, contact=contact, subject="Ana's own email")
    client.force_login(other_owner)
    for method, url in every_page(site):
        assert getattr(client, method)(url, VALID if method == "post" else None).status_code == 404, url
    assert saved(site) == {GRANT: VALID["subject"]}
    # Their own site's pages with this site's contact id: still a 404; this site's rows never show.
    assert client.get(template_url(other_site) + f"?contact={contact.pk}").status_code == 404
    assert "Ana's own email" not in text(client.get(page_url(other_site, "log/")))
    assert "has a gift for" not in text(client.get(page_url(other_site)))
    with scope(site=site):
        assert Contact.objects.filter(pk=contact.pk).exists()


def test_logged_out_visitors_are_sent_to_the_login_page(client, site):
    for method, url in every_page(site):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
