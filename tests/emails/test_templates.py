"""Editable automated emails: a site's template is what its next email says, other sites keep
the default, "restore default", errors caught at save, forbidden tags, the preview, the shipped defaults."""

import pytest
from django.template import TemplateSyntaxError
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from emails import rendering, services
from emails.errors import TemplateError
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.services import preview, restore_default, save_template, send_automated
from tests.factories import ContactFactory

# What the callers (contacts, offers) give send_automated for each kind; contact and site come with it.
CONTEXTS = {
    EmailKind.PURCHASE_CONFIRMATION: {
        "offer": {"title": "Yoga for Beginners"},
        "amount": "49.00",
        "currency": "EUR",
        "login_url": "https://x.test/s/ana-yoga/login/",
    },
    EmailKind.OFFER_GRANT_CONFIRMATION: {
        "offer": {"title": "Yoga for Beginners"},
        "login_url": "https://x.test/s/ana-yoga/login/",
    },
    EmailKind.MEMBER_WELCOME: {
        "offer": {"title": "Yoga for Beginners"},
        "set_password_url": "https://x.test/s/ana-yoga/set-password/abc/",
    },
    EmailKind.MEMBER_PASSWORD_RESET: {"reset_url": "https://x.test/s/ana-yoga/set-password/def/"},
    EmailKind.DOUBLE_OPT_IN: {"form": {"name": "Newsletter"}, "confirm_url": "https://x.test/c/abc/"},
    EmailKind.RESUBSCRIPTION: {"form": {"name": "Newsletter"}, "confirm_url": "https://x.test/c/abc/"},
}

CUSTOM = {
    "subject": "{{ contact.name }}, you have {{ offer.title }}!",
    "body_text": "Log in at {{ login_url }} to start {{ offer.title }} with {{ site.name }}.",
    "body_html": '<p>Hello {{ contact.name }}, <a href="{{ login_url }}">start {{ offer.title }}</a>.</p>',
}


@pytest.fixture
def contact(site):
    return ContactFactory(site=site, email="ana@example.com", name="Ana")


def send(site, contact, kind, capture, key="k1"):
    with scope(site=site), capture(execute=True):
        email = send_automated(site, kind=kind, contact=contact, context=CONTEXTS[kind], dedupe_key=key)
    with scope(site=site):
        return OutboundEmail.objects.get(pk=email.pk)


def save(site, user=None, kind=EmailKind.OFFER_GRANT_CONFIRMATION, **parts):
    with scope(site=site):
        return save_template(site, kind=kind, acting_user=user, **{**CUSTOM, **parts})


def templates_of(site):
    with scope(site=site):
        return list(EmailTemplate.objects.values_list("kind", "subject", "body_text", "body_html"))


def test_editing_a_template_changes_what_the_next_email_of_that_kind_says(
    site, owner, contact, mailoutbox, django_capture_on_commit_callbacks
):
    template = save(site, user=owner)
    assert (template.updated_by, template.kind) == (owner, EmailKind.OFFER_GRANT_CONFIRMATION)

    email = send(site, contact, EmailKind.OFFER_GRANT_CONFIRMATION, django_capture_on_commit_callbacks)

    assert email.status == EmailStatus.SENT
    message = mailoutbox[0]
    assert message.subject == "Ana, you have Yoga for Beginners!"
    assert message.body == (
        "Log in at https://x.test/s/ana-yoga/login/ to start Yoga for Beginners with Ana's Yoga Studio.\n"
    )
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert (
        html == '<p>Hello Ana, <a href="https://x.test/s/ana-yoga/login/">start Yoga for Beginners</a>.</p>'
    )
    assert email.subject == "Ana, you have Yoga for Beginners!"  # the log shows what was sent


def test_other_kinds_still_use_their_default(site, contact, mailoutbox, django_capture_on_commit_callbacks):
    save(site)
    send(site, contact, EmailKind.PURCHASE_CONFIRMATION, django_capture_on_commit_callbacks)
    assert mailoutbox[0].subject == "Congratulations on your purchase of Yoga for Beginners"


def test_another_sites_emails_still_use_the_default(
    site, other_site, mailoutbox, django_capture_on_commit_callbacks
):
    save(site)
    ben = ContactFactory(site=other_site, name="Ben")
    send(other_site, ben, EmailKind.OFFER_GRANT_CONFIRMATION, django_capture_on_commit_callbacks)
    assert mailoutbox[0].subject == "Ben Codes gave you Yoga for Beginners"
    assert "Ben Codes gave you Yoga for Beginners" in mailoutbox[0].body
    assert templates_of(other_site) == []


def test_restoring_the_default_makes_the_next_email_use_it_again(
    site, contact, mailoutbox, django_capture_on_commit_callbacks
):
    save(site)
    with scope(site=site):
        assert restore_default(site, kind=EmailKind.OFFER_GRANT_CONFIRMATION) is True
        assert restore_default(site, kind=EmailKind.OFFER_GRANT_CONFIRMATION) is False  # nothing left
    send(site, contact, EmailKind.OFFER_GRANT_CONFIRMATION, django_capture_on_commit_callbacks)
    assert mailoutbox[0].subject == "Ana's Yoga Studio gave you Yoga for Beginners"
    assert templates_of(site) == []


def test_restoring_one_sites_template_leaves_another_sites_own(site, other_site):
    save(site)
    save(other_site, subject="Ben's own: {{ offer.title }}")
    with scope(site=other_site):
        restore_default(other_site, kind=EmailKind.OFFER_GRANT_CONFIRMATION)
    assert [row[1] for row in templates_of(site)] == [CUSTOM["subject"]]


def test_saving_again_replaces_the_sites_template(site, admin):
    save(site)
    save(site, user=admin, subject="Second: {{ offer.title }}")
    assert [row[1] for row in templates_of(site)] == ["Second: {{ offer.title }}"]


@pytest.mark.parametrize(
    ("field", "source", "message"),
    [
        ("subject", "Hi {{ contact.name ", "Line 1: “{{” is not closed by “}}”"),
        ("body_text", "Hello\n{% if %}yes{% endif %}", "Line 2: Unexpected end of expression in if tag."),
        ("body_html", "<p>{% for x in offer.title %}</p>", "Unclosed tag on line 1: 'for'"),
        ("body_text", "{{ contact.name|shout }}", "Invalid filter: 'shout'"),
        ("body_html", "{% endif %}", "Invalid block tag on line 1: 'endif'"),
        ("subject", "   ", "cannot be empty"),
    ],
)
def test_a_syntax_error_is_caught_at_save_with_the_field_named_and_nothing_saved(
    site, field, source, message
):
    with pytest.raises(TemplateError) as caught:
        save(site, **{field: source})
    assert caught.value.field == field
    assert message in caught.value.message
    assert templates_of(site) == []


def test_a_refused_template_leaves_the_saved_one_as_it_was(site):
    save(site)
    with pytest.raises(TemplateError):
        save(site, subject="Broken {% if %}")
    assert [row[1] for row in templates_of(site)] == [CUSTOM["subject"]]


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}",
        '{% include "emails/automated/double_opt_in.txt" %}',
        '{% extends "base.html" %}',
        "{% debug %}",
        '{% ssi "/etc/passwd" %}',
        "Fine line\n  {%load i18n%}",
    ],
)
def test_tags_that_reach_files_or_internals_are_refused(site, source):
    with pytest.raises(TemplateError) as caught:
        save(site, body_html=source)
    assert caught.value.field == "body_html"
    assert "tag is not allowed in email templates" in caught.value.message
    assert templates_of(site) == []


@pytest.mark.parametrize("tag", ["load static", 'include "base.html"', 'extends "base.html"', "debug"])
def test_the_email_engine_itself_has_no_such_tags(tag):
    """A second wall behind the check: the engine has neither these tags nor loaders nor libraries."""
    for strict in (False, True):
        with pytest.raises(TemplateSyntaxError):
            rendering._engine(strict=strict).from_string(f"{{% {tag} %}}")


def test_private_attributes_are_refused(site):
    with pytest.raises(TemplateError, match="may not begin with underscores"):
        save(site, body_text="{{ site.__class__ }}")


def test_a_variable_the_email_does_not_have_is_refused_naming_those_it_has(site):
    with pytest.raises(TemplateError) as caught:
        save(
            site,
            kind=EmailKind.DOUBLE_OPT_IN,
            subject="Confirm, {{ contact.name }}",
            body_text="Confirm {{ offer.title }}: {{ confirm_url }}",
            body_html='<a href="{{ confirm_url }}">Confirm</a>',
        )
    assert caught.value.field == "body_text"
    assert "“offer.title” is not a variable of this email" in caught.value.message
    assert "contact.name, contact.email, site.name, form.name, confirm_url" in caught.value.message


def test_conditions_filters_and_defaults_are_allowed(site):
    save(
        site,
        body_text='Hi {{ contact.name|default:"there" }}'
        "{% if contact.name %} ({{ contact.email }}){% endif %}: {{ offer.title|upper }} — {{ login_url }}",
    )
    assert len(templates_of(site)) == 1


def test_variables_are_escaped_in_the_html_only(site, mailoutbox, django_capture_on_commit_callbacks):
    save(
        site,
        subject="For {{ contact.name }}",
        body_text="Hi {{ contact.name }}",
        body_html="<p>{{ contact.name }}</p>",
    )
    tricky = ContactFactory(site=site, name="Jo <b>&</b>")
    send(site, tricky, EmailKind.OFFER_GRANT_CONFIRMATION, django_capture_on_commit_callbacks)
    message = mailoutbox[0]
    assert message.subject == "For Jo <b>&</b>"
    assert message.body == "Hi Jo <b>&</b>\n"
    assert message.alternatives[0][0] == "<p>Jo &lt;b&gt;&amp;&lt;/b&gt;</p>"


def test_the_site_template_is_looked_up_inside_the_sites_scope(site):
    save(site)
    with pytest.raises(ScopeError):
        services.render(EmailKind.OFFER_GRANT_CONFIRMATION, {}, site=site)


def test_the_preview_with_a_real_contact_shows_their_name(site, contact):
    save(site)
    with scope(site=site):
        rendered = preview(site, kind=EmailKind.OFFER_GRANT_CONFIRMATION, contact=contact)
    assert rendered.subject == "Ana, you have Sample offer!"
    assert "Hello Ana," in rendered.html
    assert "Ana's Yoga Studio" in rendered.text


def test_the_preview_without_a_contact_uses_the_sample_contact(site):
    with scope(site=site):
        subject, text, html = preview(site, kind=EmailKind.MEMBER_WELCOME)
    assert subject == "Welcome to Ana's Yoga Studio: set your password"
    assert text.startswith("Hi Alex Sample,")
    assert "/s/ana-yoga/set-password/" in html


def test_the_preview_refuses_another_sites_contact(site, other_site):
    stranger = ContactFactory(site=other_site, name="Ben")
    with scope(site=site), pytest.raises(TemplateError, match="another site"):
        preview(site, kind=EmailKind.DOUBLE_OPT_IN, contact=stranger)


@pytest.mark.parametrize("kind", EmailKind.values)
def test_the_shipped_defaults_render_with_their_sample_contexts(site, kind):
    parts = rendering.default_parts(kind)
    with scope(site=site):
        services.validate_template(site, kind=kind, **parts._asdict())  # only the kind's variables
        subject, text, html = preview(site, kind=kind)
    for output in (subject, text, html):
        assert output.strip()
        assert "None" not in output
        assert "{{" not in output
        assert "{%" not in output
    assert "Ana's Yoga Studio" in subject or "Sample offer" in subject
    assert text.startswith("Hi Alex Sample,")
    assert html.startswith("<!doctype html>")
    assert "Ana&#x27;s Yoga Studio" in html  # escaped in the HTML
    link = {
        EmailKind.PURCHASE_CONFIRMATION: "/s/ana-yoga/login/",
        EmailKind.OFFER_GRANT_CONFIRMATION: "/s/ana-yoga/login/",
        EmailKind.MEMBER_WELCOME: "/s/ana-yoga/set-password/",
        EmailKind.MEMBER_PASSWORD_RESET: "/s/ana-yoga/set-password/",
        EmailKind.DOUBLE_OPT_IN: "/confirm/sample/",
        EmailKind.RESUBSCRIPTION: "/confirm/sample/",
    }[kind]
    assert link in text
    assert f'href="http://127.0.0.1:8000{link}' in html or f"{link}" in html


@pytest.mark.parametrize("kind", EmailKind.values)
def test_the_shipped_defaults_render_for_a_contact_without_a_name(
    site, kind, mailoutbox, django_capture_on_commit_callbacks
):
    nameless = ContactFactory(site=site, name="")
    send(site, nameless, kind, django_capture_on_commit_callbacks)
    message = mailoutbox[0]
    assert message.body.startswith("Hi,\n")
    assert "None" not in message.body + message.subject + message.alternatives[0][0]


@pytest.mark.parametrize("kind", EmailKind.values)
def test_every_documented_variable_has_a_sample_value(site, kind):
    context = rendering.sample_context(site, kind)
    for variable in rendering.VARIABLES[kind]:
        value = context
        for part in variable.name.split("."):
            value = value[part]
        assert value, variable.name


def test_the_member_emails_carry_a_link_never_a_password(site):
    for kind in (EmailKind.MEMBER_WELCOME, EmailKind.MEMBER_PASSWORD_RESET):
        names = {variable.name for variable in rendering.VARIABLES[kind]}
        assert not any("password" in name and not name.endswith("_url") for name in names)
        assert "expires" in rendering.default_parts(kind).body_text
