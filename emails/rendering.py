"""How automated emails are rendered: the shipped defaults, the variables each kind gets, the sample
context of the editor and the preview, and the rules a site's own template follows.

A site's templates are Django template syntax written by the site's team, so they run in an engine of
their own: no template loaders, no tag libraries, and none of the tags that reach files or the server's
internals (`{% load %}`, `{% include %}`, `{% extends %}`, `{% debug %}`, `{% ssi %}`). They are
rendered with plain JSON data (the context stored on the outbox row), never with model instances.
"""

from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import Lexer, TokenType

from emails.models import EmailKind

FORBIDDEN_TAGS = frozenset({"load", "include", "extends", "debug", "ssi"})
UNCLOSED = {"{{": "}}", "{%": "%}", "{#": "#}"}
MAX_SUBJECT = 300  # OutboundEmail.subject and EmailTemplate.subject
MAX_BODY = 100_000

# The one tag library of the email engine: Django's built-in tags and filters, minus the forbidden tags.
# (`Engine` finds it as `emails.rendering.register`.)
register = Library()
register.tags = {name: tag for name, tag in defaulttags.register.tags.items() if name not in FORBIDDEN_TAGS}
register.filters = dict(defaultfilters.register.filters)

# Rendered in place of a variable the email does not have, when a template is checked before saving.
_UNKNOWN = "\x00unknown-variable:%s\x00"


class TemplateParts(NamedTuple):
    """The sources of an email: Django template syntax."""

    subject: str
    body_text: str
    body_html: str


class Rendered(NamedTuple):
    subject: str
    text: str
    html: str


class Variable(NamedTuple):
    name: str
    description: str


_CONTACT = (
    Variable("contact.name", "The contact's name (may be empty: write {% if contact.name %}…{% endif %})"),
    Variable("contact.email", "The contact's email address"),
)
_SITE = (Variable("site.name", "Your site's name"),)
_OFFER = (Variable("offer.title", "The title of the offer"),)
_LOGIN = (Variable("login_url", "The login page of your member area"),)
_FORM = (
    Variable("form.name", "The name of the form they submitted"),
    Variable("confirm_url", "The signed link that confirms their subscription"),
)

# What each kind of email is rendered with (emails.services.render documents the same).
VARIABLES: dict[str, tuple[Variable, ...]] = {
    EmailKind.PURCHASE_CONFIRMATION: (
        *_CONTACT,
        *_SITE,
        *_OFFER,
        Variable("amount", "The amount paid, e.g. 49.00"),
        Variable("currency", "The currency of the amount, e.g. USD"),
        *_LOGIN,
    ),
    EmailKind.OFFER_GRANT_CONFIRMATION: (*_CONTACT, *_SITE, *_OFFER, *_LOGIN),
    EmailKind.MEMBER_WELCOME: (
        *_CONTACT,
        *_SITE,
        *_OFFER,
        Variable("set_password_url", "A one-time link to set their password; it expires (never a password)"),
    ),
    EmailKind.MEMBER_PASSWORD_RESET: (
        *_CONTACT,
        *_SITE,
        Variable("reset_url", "A one-time link to choose a new password; it expires"),
    ),
    EmailKind.DOUBLE_OPT_IN: (*_CONTACT, *_SITE, *_FORM),
    EmailKind.RESUBSCRIPTION: (*_CONTACT, *_SITE, *_FORM),
}

SAMPLE_CONTACT = {"name": "Alex Sample", "email": "alex.sample@example.com"}


def sample_context(site, kind: str, *, contact: dict | None = None) -> dict:
    """The context the editor checks a template with and the preview shows: a sample contact (or the
    given one), the site, and made-up values of the kind's other variables."""
    base = f"{settings.SITE_URL.rstrip('/')}/s/{site.slug}"
    context = {
        "contact": dict(contact or SAMPLE_CONTACT),
        "site": {"name": site.name, "slug": site.slug},
    }
    offer = {"offer": {"title": "Sample offer"}}
    form = {"form": {"name": "Newsletter"}, "confirm_url": f"{settings.SITE_URL.rstrip('/')}/confirm/sample/"}
    context.update(
        {
            EmailKind.PURCHASE_CONFIRMATION: {
                **offer,
                "amount": "49.00",
                "currency": "USD",
                "login_url": f"{base}/login/",
            },
            EmailKind.OFFER_GRANT_CONFIRMATION: {**offer, "login_url": f"{base}/login/"},
            EmailKind.MEMBER_WELCOME: {**offer, "set_password_url": f"{base}/set-password/sample/"},
            EmailKind.MEMBER_PASSWORD_RESET: {"reset_url": f"{base}/set-password/sample/"},
            EmailKind.DOUBLE_OPT_IN: form,
            EmailKind.RESUBSCRIPTION: form,
        }[kind]
    )
    return context


# -- The shipped defaults ----------------------------------------------------------------------------


@cache
def _files() -> Engine:
    return Engine(dirs=settings.TEMPLATES[0]["DIRS"])


def default_parts(kind: str) -> TemplateParts:
    """The sources of the shipped default of `kind`: templates/emails/automated/<kind>.subject.txt,
    <kind>.txt and <kind>.html."""
    if kind not in EmailKind.values:
        raise ValueError(f"Unknown email kind: {kind!r}")
    sources = (
        _files().find_template(f"emails/automated/{kind}{suffix}")[0].source
        for suffix in (".subject.txt", ".txt", ".html")
    )
    subject, body_text, body_html = sources
    return TemplateParts(subject.strip(), body_text, body_html)


# -- The engine of email templates -------------------------------------------------------------------


class _EmailEngine(Engine):
    default_builtins = []  # Django's default builtins bring {% include %} and {% extends %}


@cache
def _engine(*, strict: bool) -> Engine:
    return _EmailEngine(
        loaders=[],
        libraries={},
        builtins=["emails.rendering"],
        debug=True,  # errors carry their line
        string_if_invalid=_UNKNOWN if strict else "",
    )


def check_source(source: str) -> None:
    """Refuses the forbidden tags and openers left unclosed (which Django would print as text)."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name in FORBIDDEN_TAGS:
                raise TemplateSyntaxError(
                    f"Line {token.lineno}: the {{% {name} %}} tag is not allowed in email templates "
                    "(it would reach files or internals of the server)."
                )
        elif token.token_type == TokenType.TEXT:
            found = [(token.contents.find(opener), opener) for opener in UNCLOSED]
            found = sorted((at, opener) for at, opener in found if at >= 0)
            if found:
                at, opener = found[0]
                line = token.lineno + token.contents.count("\n", 0, at)
                raise TemplateSyntaxError(
                    f"Line {line}: “{opener}” is not closed by “{UNCLOSED[opener]}” on the same line."
                )


def compile_source(source: str, *, strict: bool = False):
    """A compiled template, or TemplateSyntaxError with a message that names the line."""
    check_source(source)
    try:
        return _engine(strict=strict).from_string(source)
    except TemplateSyntaxError as error:
        message = str(error).replace(
            "Did you forget to register or load this tag?", "Email templates know the built-in tags only."
        )
        line = getattr(error, "template_debug", {}).get("line")
        if line and f"line {line}" not in message:
            message = f"Line {line}: {message}"
        raise TemplateSyntaxError(message) from None


def render_parts(parts: TemplateParts, context: dict) -> Rendered:
    """Subject and text are rendered without autoescaping, the HTML with it. The subject is one line."""
    subject = compile_source(parts.subject).render(Context(context, autoescape=False))
    text = compile_source(parts.body_text).render(Context(context, autoescape=False))
    html = compile_source(parts.body_html).render(Context(context, autoescape=True))
    # Plain strings, not Django's SafeString: whoever shows them in a page escapes them.
    return Rendered(" ".join(subject.split()), text.strip() + "\n", "".join([html]))


def validate_part(source: str, *, kind: str, context: dict, html: bool) -> None:
    """Compiles and renders one part with `context`; raises TemplateSyntaxError (the message is for the
    person editing) when it does not compile, fails to render, or uses a variable the email lacks."""
    template = compile_source(source, strict=True)
    try:
        output = template.render(Context(context, autoescape=html))
    except Exception as error:  # a filter given the wrong kind of value, …: refused, never a 500
        raise TemplateSyntaxError(f"It could not be rendered: {error}") from None
    start = output.find("\x00unknown-variable:")
    if start >= 0:
        name = output[start:].split(":", 1)[1].split("\x00", 1)[0]
        known = ", ".join(variable.name for variable in VARIABLES[kind])
        raise TemplateSyntaxError(f"“{name}” is not a variable of this email. It has: {known}.")
