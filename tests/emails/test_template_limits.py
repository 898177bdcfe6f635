"""No tenant can stall the pipeline: a site's email template runs within limits, the same in
the editor, through the API and when an email is sent. A template over a limit is refused at save, or,
saved before the limits, fails its one email with a clear error while other sites' emails go out."""

import html
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.template import Context, Engine
from django_scopes import scope

from emails import rendering
from emails.errors import TemplateError
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.rendering import Rendered, TemplateLimitError, TemplateParts
from emails.services import save_template, send_automated
from tests.factories import ContactFactory

GRANT = EmailKind.OFFER_GRANT_CONFIRMATION
GRANT_CONTEXT = {"offer": {"title": "Yoga for Beginners"}, "login_url": "https://x.test/s/ana-yoga/login/"}
VALID = {
    "subject": "{{ site.name }} has a gift for {{ contact.name }}",
    "body_text": "Open {{ offer.title }}: {{ login_url }}",
    "body_html": '<p>Open <a href="{{ login_url }}">{{ offer.title }}</a></p>',
}

LETTERS = "abcdefghijklmnopqrstuvwxyz" * 4
LONG = "x" * 90_000
# (field, source, what the error says). Unlimited, each would pin a worker for minutes or exhaust its memory.
ATTACKS = [
    pytest.param(
        "body_text",
        "".join(f'{{% for {v} in "{LETTERS}" %}}' for v in "abcdef")
        + "{{ contact.name }}"
        + "{% endfor %}" * 6,
        "A {% for %} loop inside another is not allowed in email templates",
        id="nested-for",
    ),
    pytest.param(
        "subject",
        '{{ contact.name|center:"2000000000" }}',
        "The center filter takes widths and decimals of at most 200 in email templates, not “2000000000”",
        id="center",
    ),
    pytest.param(
        "body_html",
        '{% if contact.name == "Ben" %}{{ contact.name|ljust:999999999 }}{% endif %}',  # not the sample's
        "The ljust filter takes widths and decimals of at most 200",
        id="padding-in-a-branch",
    ),
    pytest.param(
        "body_text",
        '{{ contact.name|stringformat:"2000000000s" }}',
        "The stringformat filter takes widths and decimals of at most 200",
        id="stringformat-width",
    ),
    pytest.param(
        "body_text",
        '{{ 1|floatformat:"2000000000" }}',
        "The floatformat filter takes widths and decimals of at most 200",
        id="floatformat-decimals",
    ),
    pytest.param(
        "body_html",
        "{% lorem 999999999 w %}",
        "the {% lorem %} tag is not allowed in email templates",
        id="lorem",
    ),
    pytest.param(
        "body_text",
        '{{ "abcdefghij"|make_list|make_list|make_list|make_list|make_list|make_list|make_list|join:"," }}',
        "The make_list filter makes a value of more than 200,000 characters",
        id="growing-value",
    ),
    pytest.param(
        "body_text",
        f'{{% with s="{LONG[:1000]}" %}}{{% for c in s %}}{{{{ s }}}}{{% endfor %}}{{% endwith %}}',
        "It renders more than 200,000 characters, the limit of a part of an email",
        id="huge-output",
    ),
    pytest.param(
        "body_html",
        f'{{% with s="{LONG}" %}}'
        + '{% for c in s %}{% if c == "y" %}!{% endif %}{% endfor %}' * 100
        + "{% endwith %}",
        "It takes longer than 0.5 s to render, the limit of a part of an email",
        id="slow-loops",
    ),
]


@pytest.fixture
def contact(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana")


def saved(site):
    with scope(site=site):
        return list(EmailTemplate.objects.values_list("kind", flat=True))


def send(site, contact, capture, kind=GRANT, context=GRANT_CONTEXT, key="k1"):
    with scope(site=site), capture(execute=True):
        email = send_automated(site, kind=kind, contact=contact, context=context, dedupe_key=key)
    with scope(site=site):
        return OutboundEmail.objects.get(pk=email.pk)


def field_error(response, field) -> str:
    """The page from the field's input to the next field: where its error shows."""
    content = html.unescape(response.content.decode())
    rest = content[content.index(f'name="{field}"') :]
    return rest[: rest.index('<div class="field')] if '<div class="field' in rest else rest


@pytest.mark.parametrize(("field", "source", "message"), ATTACKS)
def test_the_editor_refuses_a_template_over_a_limit_at_its_field(client, site, admin, field, source, message):
    client.force_login(admin)
    response = client.post(f"/app/{site.slug}/emails/templates/{GRANT}/", {**VALID, field: source})
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert saved(site) == []


@pytest.mark.parametrize(("field", "source", "message"), ATTACKS)
def test_the_api_refuses_a_template_over_a_limit_with_a_400_naming_the_field(
    as_user, site, admin, field, source, message
):
    response = as_user(admin).put(
        f"/api/v1/sites/{site.slug}/email-templates/{GRANT}/", {**VALID, field: source}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert message in response.json()["fields"][field][0]
    assert saved(site) == []


@pytest.mark.parametrize(("field", "source", "message"), ATTACKS)
def test_a_template_saved_past_the_check_fails_its_email_fast_and_other_sites_emails_are_sent(
    site, other_site, contact, mailoutbox, django_capture_on_commit_callbacks, caplog, field, source, message
):
    with scope(site=site):  # as if saved before the limits existed
        EmailTemplate.objects.create(site=site, kind=GRANT, **{**VALID, field: source})
    ben = ContactFactory(site=other_site, email="ben@example.com", name="Ben")

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        failed = send(site, contact, django_capture_on_commit_callbacks)
    sent = send(other_site, ben, django_capture_on_commit_callbacks)

    assert time.monotonic() - started < 5  # the limit stops it, not a time-out
    assert failed.status == EmailStatus.FAILED
    assert failed.error.startswith("The template could not be rendered: ")
    assert message in failed.error
    assert any(
        record.levelno == logging.WARNING and message in record.getMessage() for record in caplog.records
    )
    assert sent.status == EmailStatus.SENT
    assert [m.to for m in mailoutbox] == [["ben@example.com"]]


def test_the_failed_emails_error_names_the_part_and_its_line(
    site, contact, django_capture_on_commit_callbacks
):
    with scope(site=site):
        EmailTemplate.objects.create(
            site=site, kind=GRANT, **{**VALID, "body_html": '<p>\n{{ contact.name|center:"5000" }}</p>'}
        )
    email = send(site, contact, django_capture_on_commit_callbacks)
    assert email.error == (
        "The template could not be rendered: HTML body: Line 2: The center filter takes widths and decimals "
        "of at most 200 in email templates, not “5000”."
    )


def test_a_width_from_a_variable_is_refused_when_it_renders(
    site, mailoutbox, django_capture_on_commit_callbacks
):
    """A width that is no literal passes the editor when the sample does not reach it, and is refused at
    send, for the contact whose email reaches it."""
    source = (
        '{% if contact.name == "Ben" %}{% with w="2000000000" %}{{ contact.name|rjust:w }}{% endwith %}'
        "{% endif %}"
    )
    with scope(site=site):
        save_template(site, kind=GRANT, acting_user=None, **{**VALID, "body_text": source})
    ana = send(site, ContactFactory(site=site, name="Ana"), django_capture_on_commit_callbacks, key="ana")
    ben = send(site, ContactFactory(site=site, name="Ben"), django_capture_on_commit_callbacks, key="ben")
    assert ana.status == EmailStatus.SENT
    assert ben.status == EmailStatus.FAILED
    assert "The rjust filter takes widths and decimals of at most 200" in ben.error


def test_the_time_budget_is_a_setting(settings):
    settings.EMAIL_RENDER_BUDGET_MS = 50
    slow = (
        f'{{% with s="{LONG}" %}}'
        + "{% for c in s %}{% if c %}{% endif %}{% endfor %}" * 100
        + "{% endwith %}"
    )
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=r"It takes longer than 0\.05 s to render"):
        rendering.render_parts(TemplateParts("Hi", slow, "<p>Hi</p>"), {})
    assert time.monotonic() - started < 1


def test_the_limits_hold_in_any_thread():
    """The editor's check runs in a web server's threads, a send in a worker's main thread."""
    slow = (
        f'{{% with s="{LONG}" %}}'
        + "{% for c in s %}{% if c %}{% endif %}{% endfor %}" * 100
        + "{% endwith %}"
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(rendering.render_parts, TemplateParts("Hi", slow, "<p>Hi</p>"), {}) for _ in "ab"
        ]
        for future in futures:
            with pytest.raises(TemplateLimitError, match=r"takes longer than 0\.5 s"):
                future.result(timeout=10)


# Django's own engine, without the limits: what a template renders when nothing stops it.
UNLIMITED = Engine()


def unlimited(parts: TemplateParts, context: dict) -> Rendered:
    subject, text, body_html = (
        UNLIMITED.from_string(source).render(Context(context, autoescape=autoescape))
        for source, autoescape in ((parts.subject, False), (parts.body_text, False), (parts.body_html, True))
    )
    return Rendered(" ".join(subject.split()), text.strip() + "\n", body_html)


ORDINARY = TemplateParts(
    subject="{{ site.name }}: {{ offer.title|truncatechars:40 }} ({{ amount|floatformat:2 }} {{ currency }})",
    body_text=(
        'Hi {{ contact.name|default:"there" }},\n\n'
        '{{ "Item"|ljust:30 }}{{ "Amount"|rjust:12 }}\n'
        "{{ offer.title|ljust:30 }}{{ amount|floatformat:2|rjust:12 }} {{ currency }}\n"
        '{{ "*"|center:42 }}\n'
        "{% for letter in site.name %}{{ letter|upper }}{% if not forloop.last %}.{% endif %}{% endfor %}\n"
        '{{ contact.name|make_list|join:" " }} / {{ 7|stringformat:"03d" }} / {% widthratio 3 4 100 %}%\n'
        "{% with first=offer.title|truncatewords:2 %}{{ first|wordwrap:10 }}{% endwith %}"
        ' {% cycle "a" "b" %}\n'
        "{% firstof contact.name site.name %}: {{ login_url|urlize }}\n"
    ),
    body_html=(
        "{% spaceless %}<p>Hi {{ contact.name|title }},</p> "
        "<p>{% filter upper %}{{ offer.title }}{% endfilter %}</p>{% endspaceless %}"
        '<a href="{{ login_url }}">{{ login_url|truncatechars:30 }}</a>'
        "{% for word in offer.title.split %}<i>{{ word|center:12 }}</i>{% empty %}—{% endfor %}"
    ),
)


@pytest.mark.parametrize("kind", EmailKind.values)
def test_the_shipped_defaults_render_as_without_the_limits(site, kind):
    context = rendering.sample_context(site, kind)
    parts = rendering.default_parts(kind)
    assert rendering.render_parts(parts, context) == unlimited(parts, context)


def test_an_ordinary_customised_template_is_saved_and_renders_as_without_the_limits(site):
    kind = EmailKind.PURCHASE_CONFIRMATION
    with scope(site=site):
        save_template(site, kind=kind, acting_user=None, **ORDINARY._asdict())
    assert saved(site) == [kind]
    context = rendering.sample_context(site, kind, contact={"name": "Ana <Lima>", "email": "ana@example.com"})
    rendered = rendering.render_parts(ORDINARY, context)
    assert rendered == unlimited(ORDINARY, context)
    assert "A.N.A.'.S" in rendered.text
    assert "<p>Hi Ana &lt;Lima&gt;,</p><p>SAMPLE OFFER</p>" in rendered.html


def test_a_long_ordinary_template_is_within_the_limits(site):
    """A body of the longest size the editor takes, rendering about as much again."""
    paragraph = (
        "<p>{{ contact.name }}, welcome to {{ site.name }}. " + "Lorem ipsum dolor sit amet. " * 30 + "</p>\n"
    )
    body = paragraph * (rendering.MAX_BODY // len(paragraph))
    with scope(site=site):
        save_template(site, kind=GRANT, acting_user=None, **{**VALID, "body_html": body})
    context = rendering.sample_context(site, GRANT)
    assert rendering.render_parts(
        TemplateParts(VALID["subject"], VALID["body_text"], body), context
    ).html == (unlimited(TemplateParts(VALID["subject"], VALID["body_text"], body), context).html)


def test_a_save_over_a_limit_is_refused_with_the_field_named(site):
    with pytest.raises(TemplateError) as caught, scope(site=site):
        save_template(
            site, kind=GRANT, acting_user=None, **{**VALID, "subject": '{{ contact.name|center:"999" }}'}
        )
    assert caught.value.field == "subject"
    assert caught.value.message == (
        "Line 1: The center filter takes widths and decimals of at most 200 in email templates, not “999”."
    )
