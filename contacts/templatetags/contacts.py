"""What the Contacts tab draws for every row, written in Python: a page has fifty rows, and drawn by
the template language, cell by cell, they were most of the tab's time. The contact page draws its
avatar and badge with the same tags.

Dates are shown in the current time zone (the page's `{% timezone site.time_zone %}`).
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe

from contacts.models import SubscriptionStatus, UnsubscribeReason

register = template.Library()

# The row's HTML, filled by str.format with values escaped by _row: format_html's escaping, made for
# a few values, cost as much again as the rest of the row.
ROW = (
    "<tr>{select}"
    '<td><div class="who-cell">{avatar} <a href="{url}">{name}</a></div></td>'
    '<td data-label="Email" class="email">{email}</td>'
    '<td data-label="Status">{status}</td>'
    '<td data-label="Tags">{tags}</td>'
    '<td data-label="Added" class="date">{added}</td>'
    '<td data-label="Last activity" class="date">{last_activity}</td>'
    "</tr>\n"
)
SELECT = (
    '<td class="select"><input type="checkbox" name="contact_ids" value="{pk}" id="select-{pk}">'
    '<label for="select-{pk}" class="visually-hidden">Select {name}</label></td>'
)
ANY_ID = 987654321
# The fields of Contact that a row shows. The tab reads only these: the others, the custom `fields`
# (JSON) among them, would be read and decoded for nothing.
ROW_FIELDS = (
    "email",
    "name",
    "subscription_status",
    "unsubscribe_reason",
    "is_customer",
    "created_at",
    "last_activity_at",
)
NO_TAGS = '<span class="muted">—</span>'
NEVER = '<span class="muted">Never</span>'


@register.simple_tag
def contact_rows(site, contacts, *, selectable: bool):
    """The table rows of a page of contacts (read with their `tag_names`), each with the box that
    selects it when the role may act on contacts."""
    # Each row's link is the URL of one contact with the id changed: one reverse() for the page.
    before, _, after = escape(reverse("contact-detail", args=[site.slug, ANY_ID])).rpartition(str(ANY_ID))
    dates = Dates()
    rows = (_row(contact, (before, after), selectable, dates) for contact in contacts)
    return mark_safe("".join(rows))  # noqa: S308


@register.simple_tag
def page_ids(contacts):
    """The hidden ids of a page's contacts, which "Select all on this page" sends."""
    inputs = (f'<input type="hidden" name="page_ids" value="{int(contact.pk)}">' for contact in contacts)
    return mark_safe("".join(inputs))  # noqa: S308


def _row(contact, url: tuple[str, str], selectable: bool, dates: "Dates") -> str:
    name = escape(contact.display_name)
    tags = " ".join(f'<span class="tag">{escape(tag)}</span>' for tag in contact.tag_names)
    return ROW.format(
        select=SELECT.format(pk=contact.pk, name=name) if selectable else "",
        avatar=avatar(contact),
        url=f"{url[0]}{contact.pk}{url[1]}",
        name=name,
        email=escape(contact.email),
        status=status_badge(contact),
        tags=tags or NO_TAGS,
        added=dates.day(contact.created_at),
        last_activity=dates.moment(contact.last_activity_at) if contact.last_activity_at else NEVER,
    )


@register.simple_tag
def avatar(contact):
    """The contact's initial, with the check of a customer."""
    check = CUSTOMER_CHECK if contact.is_customer else ""
    initial = escape(contact.display_name[:1].upper())
    return mark_safe(f'<span class="avatar"><span aria-hidden="true">{initial}</span>{check}</span>')  # noqa: S308


@register.simple_tag
def status_badge(contact):
    """The subscription status, with the reason of an unsubscription."""
    reason = f" · {REASONS[contact.unsubscribe_reason].lower()}" if contact.unsubscribe_reason else ""
    text = escape(STATUSES[contact.subscription_status] + reason)
    status = escape(contact.subscription_status)
    return mark_safe(f'<span class="badge status-{status}">{text}</span>')  # noqa: S308


STATUSES, REASONS = dict(SubscriptionStatus.choices), dict(UnsubscribeReason.choices)
CUSTOMER_CHECK = '<span class="customer-check" role="img" aria-label="Customer" title="Customer">✓</span>'


class Dates:
    """Days and moments in the current time zone, as the date filter writes them. The zone and the
    month names are looked up once for a page: looked up for each value, they cost more than the rest
    of the row."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.months = {n: str(name).title() for n, name in MONTHS_3.items()}

    def day(self, value) -> str:
        """`Mar 5, 2026`: the date filter's "M j, Y"."""
        value = value.astimezone(self.zone)
        return f"{self.months[value.month]} {value.day}, {value.year}"

    def moment(self, value) -> str:
        """`Mar 5, 2026, 14:07`: the date filter's "M j, Y, H:i"."""
        value = value.astimezone(self.zone)
        return f"{self.months[value.month]} {value.day}, {value.year}, {value.hour:02}:{value.minute:02}"
