"""How automated emails are rendered: the shipped defaults, the variables each kind gets, the sample
context of the editor and the preview, and the rules a site's own template follows.

A site's templates are Django template syntax written by the site's team, so they run in an engine of
their own: no template loaders, no tag libraries, and none of the tags that reach files or the server's
internals (`{% load %}`, `{% include %}`, `{% extends %}`, `{% debug %}`, `{% ssi %}`). They are
rendered with plain JSON data (the context stored on the outbox row), never with model instances.

One site's template must not stall the emails of every site, so it also runs within limits, the same
when the editor checks it and when an email is sent: no loop inside a loop, no `{% lorem %}`, small
widths and precisions for the filters that pad or format, a cap on the length of any value and of the
output, and a time budget (EMAIL_RENDER_BUDGET_MS). A template over a limit is refused at save or fails
its one email (TemplateLimitError); the worker goes on with the next.
"""

import re
import time
from functools import cache, lru_cache, wraps
from typing import NamedTuple

from django.conf import settings
from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import DebugLexer, Lexer, Parser, Template, TokenType

from emails.models import EmailKind

_INTERNALS = "it would reach files or internals of the server"
# The tags a site's template may not use, and why.
FORBIDDEN_TAGS = {
    **dict.fromkeys(("load", "include", "extends", "debug", "ssi"), _INTERNALS),
    "lorem": "placeholder text has no place in a sent email, and it is as long as asked",
}
UNCLOSED = {"{{": "}}", "{%": "%}", "{#": "#}"}
MAX_SUBJECT = 300  # OutboundEmail.subject and EmailTemplate.subject
MAX_BODY = 100_000
# The characters one part of an email may render, and the longest value a filter may make (a list counts
# its items and their characters). Far above any real email: Gmail clips a message beyond about 100 KB.
MAX_OUTPUT = 200_000
# The largest number in the argument of a filter whose output it sizes: a width (center, ljust, rjust,
# stringformat's "%10s") or a number of decimals (floatformat, stringformat's "%.2f").
MAX_ARGUMENT = 200
SIZED_FILTERS = frozenset({"center", "ljust", "rjust", "stringformat", "floatformat"})


class TemplateLimitError(TemplateSyntaxError):
    """A site's template goes over a limit of the email engine, when compiled or while it renders."""


def _check_argument(name: str, arg) -> None:
    """Refuses a sized filter's argument that writes a number over MAX_ARGUMENT ("%2000000000s")."""
    if name not in SIZED_FILTERS:
        return
    numbers = re.findall(r"\d+", str(arg))
    # Ten digits or more are refused unread: Python will not even read a number of thousands of them.
    if any(len(number) > 9 or int(number) > MAX_ARGUMENT for number in numbers):
        shown = str(arg) if len(str(arg)) <= 20 else f"{str(arg)[:20]}…"
        raise TemplateLimitError(
            f"The {name} filter takes widths and decimals of at most {MAX_ARGUMENT} in email templates, "
            f"not “{shown}”."
        )


def _check_size(name: str, size: int) -> None:
    if size > MAX_OUTPUT:
        raise TemplateLimitError(
            f"The {name} filter makes a value of more than {MAX_OUTPUT:,} characters, "
            "the limit in email templates."
        )


def _size(value) -> int:
    """About what a value writes: a string's characters, a list's items and theirs."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value) + sum(_size(item) for item in value)
    return 0


def _limited(name: str, function):
    """The filter `function`, refusing an argument over MAX_ARGUMENT (SIZED_FILTERS) and a result longer
    than MAX_OUTPUT. The parser checks the literal arguments too (`check_argument`), so the editor refuses
    them even in a branch the sample contact does not reach."""

    @wraps(function)  # Django reads the filter's flags and, through __wrapped__, its arguments
    def limited(value, *args, **kwargs):
        for arg in args:
            _check_argument(name, arg)
        # join is the one filter whose output multiplies: the separator goes between every two items.
        if name == "join" and isinstance(value, str | list | tuple):
            _check_size(name, len(value) * len(str(args[0])))
        result = function(value, *args, **kwargs)
        _check_size(name, _size(result))
        return result

    limited.check_argument = lambda arg: _check_argument(name, arg)
    return limited


def _loop(parser, token):
    """{% for %}, refused inside another: loops within loops multiply, and an email has no list of lists."""
    if parser.in_loop:
        raise TemplateLimitError(
            "A {% for %} loop inside another is not allowed in email templates (its work would multiply)."
        )
    parser.in_loop = True
    try:
        return defaulttags.do_for(parser, token)
    finally:
        parser.in_loop = False


# The one tag library of the email engine: Django's built-in tags and filters, minus the forbidden tags,
# with {% for %} and every filter limited. (`Engine` finds it as `emails.rendering.register`.)
register = Library()
register.tags = {name: tag for name, tag in defaulttags.register.tags.items() if name not in FORBIDDEN_TAGS}
register.tags["for"] = _loop
register.filters = {name: _limited(name, f) for name, f in defaultfilters.register.filters.items()}

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


class _EmailParser(Parser):
    """Django's parser, checking the literal arguments of the filters and metering every node."""

    in_loop = False  # while the body of a {% for %} is parsed

    def compile_filter(self, token):
        expression = super().compile_filter(token)
        for function, args in expression.filters:
            for is_variable, arg in args:
                literal = arg.literal if is_variable else arg  # a number is a Variable with a literal
                if literal is not None:
                    function.check_argument(literal)
        return expression

    def extend_nodelist(self, nodelist, node, token):
        node.render_annotated = _metered(node)
        super().extend_nodelist(nodelist, node, token)


def _metered(node):
    """The node's render_annotated, first checking the time left to the render, then counting what the
    node writes (unless nodes inside it write it, already counted). Django renders every node of a
    nodelist or a loop's body through render_annotated, so nothing runs unmetered for long."""
    render = node.render_annotated
    writes = not any(getattr(node, name, None) for name in node.child_nodelists)

    def render_annotated(context):
        if not isinstance(context, _LimitedContext):  # {% verbatim %} renders its text as it is parsed
            return render(context)
        context.check_time()
        output = render(context)
        if writes:
            context.spend(len(output))
        return output

    return render_annotated


class _LimitedContext(Context):
    """The context of one render of one part, with what that render may still spend. Kept in the render,
    it holds in any thread: a web request's (the editor's check) as in a worker's."""

    def __init__(self, values: dict, *, autoescape: bool):
        super().__init__(values, autoescape=autoescape)
        self.seconds = settings.EMAIL_RENDER_BUDGET_MS / 1000
        self.deadline = time.monotonic() + self.seconds
        self.chars_left = MAX_OUTPUT

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"It takes longer than {self.seconds:g} s to render, the limit of a part of an email."
            )

    def spend(self, chars: int) -> None:
        self.chars_left -= chars
        if self.chars_left < 0:
            raise TemplateLimitError(
                f"It renders more than {MAX_OUTPUT:,} characters, the limit of a part of an email."
            )


class _EmailTemplate(Template):
    def compile_nodelist(self):
        # Django's Template.compile_nodelist for an engine in debug mode, with the email parser.
        parser = _EmailParser(
            DebugLexer(self.source).tokenize(),
            self.engine.template_libraries,
            self.engine.template_builtins,
            self.origin,
        )
        try:
            nodelist = parser.parse()
        except Exception as error:
            error.template_debug = self.get_exception_info(error, error.token)
            raise
        self.extra_data = parser.extra_data
        return nodelist


class _EmailEngine(Engine):
    default_builtins = []  # Django's default builtins bring {% include %} and {% extends %}

    def from_string(self, template_code):
        return _EmailTemplate(template_code, engine=self)


@cache
def _engine(*, strict: bool) -> Engine:
    return _EmailEngine(
        loaders=[],
        libraries={},
        builtins=["emails.rendering"],
        debug=True,  # errors carry their line
        string_if_invalid=_UNKNOWN if strict else "",
    )


def _with_line(error: TemplateSyntaxError) -> str:
    """The error's message, starting with the line of the template it concerns when known."""
    message = str(error)
    line = getattr(error, "template_debug", {}).get("line")
    if line and f"line {line}" not in message:
        message = f"Line {line}: {message}"
    return message


def check_source(source: str) -> None:
    """Refuses the forbidden tags and openers left unclosed (which Django would print as text)."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name in FORBIDDEN_TAGS:
                raise TemplateSyntaxError(
                    f"Line {token.lineno}: the {{% {name} %}} tag is not allowed in email templates "
                    f"({FORBIDDEN_TAGS[name]})."
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


@lru_cache(maxsize=1024)  # each site's template is compiled once per version, not once per email
def compile_source(source: str, *, strict: bool = False):
    """A compiled template, or TemplateSyntaxError with a message that names the line."""
    check_source(source)
    try:
        return _engine(strict=strict).from_string(source)
    except TemplateSyntaxError as error:
        message = _with_line(error).replace(
            "Did you forget to register or load this tag?", "Email templates know the built-in tags only."
        )
        raise type(error)(message) from None


def render_parts(parts: TemplateParts, context: dict) -> Rendered:
    """Subject and text are rendered without autoescaping, the HTML with it. The subject is one line.
    A part that does not compile or goes over a limit raises TemplateSyntaxError naming it."""
    rendered = []
    for label, source, autoescape in (
        ("Subject", parts.subject, False),
        ("Text body", parts.body_text, False),
        ("HTML body", parts.body_html, True),
    ):
        try:
            template = compile_source(source)
            rendered.append(template.render(_LimitedContext(context, autoescape=autoescape)))
        except TemplateSyntaxError as error:
            raise type(error)(f"{label}: {_with_line(error)}") from None
    subject, text, html = rendered
    # Plain strings, not Django's SafeString: whoever shows them in a page escapes them.
    return Rendered(" ".join(subject.split()), text.strip() + "\n", "".join([html]))


def validate_part(source: str, *, kind: str, context: dict, html: bool) -> None:
    """Compiles and renders one part with `context`, within the limits of a sent email; raises
    TemplateSyntaxError (the message is for the person editing) when it does not compile, fails to
    render, goes over a limit, or uses a variable the email lacks."""
    template = compile_source(source, strict=True)
    try:
        output = template.render(_LimitedContext(context, autoescape=html))
    except TemplateLimitError as error:
        raise TemplateSyntaxError(_with_line(error)) from None
    except Exception as error:  # a filter given the wrong kind of value, …: refused, never a 500
        raise TemplateSyntaxError(f"It could not be rendered: {error}") from None
    start = output.find("\x00unknown-variable:")
    if start >= 0:
        name = output[start:].split(":", 1)[1].split("\x00", 1)[0]
        known = ", ".join(variable.name for variable in VARIABLES[kind])
        raise TemplateSyntaxError(f"“{name}” is not a variable of this email. It has: {known}.")
