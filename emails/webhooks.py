"""Email service providers' webhooks: bounces and complaints, normalised by django-anymail.

anymail's views authenticate each request and turn the provider's payload into tracking events sent on
its `tracking` signal. `record_tracking_event` (connected in `EmailsConfig.ready`) sorts each event
with `delivery_event_type` (our rules, in one place), finds the site that sent the email, and hands the
event to `contacts.services.record_delivery_event`, which keeps it and applies it.
"""

import json
import logging
import re

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.signals import EventType
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.core.serializers.json import DjangoJSONEncoder
from django.http import QueryDict

from contacts import services
from creatorhub.models import Site
from creatorhub.tenancy import platform_wide, site_scope
from emails.models import OutboundEmail

logger = logging.getLogger(__name__)


# -- The views ----------------------------------------------------------------------------------------


class RefuseWithoutWebhookSecret:
    """For providers whose only proof of origin is HTTP basic auth: refuse every request while
    ANYMAIL["WEBHOOK_SECRET"] is unset (anymail alone would warn and accept anyone). anymail runs every
    `validate_request` of the class chain; its failure is a 400."""

    def validate_request(self, request):
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure(
                f"The {self.esp_name} webhook is off until ANYMAIL_WEBHOOK_SECRET is set."
            )


# What anymail raises on a payload that is not what the provider sends: not JSON or not UTF-8 (anymail's
# Amazon SES view wraps those in AnymailAPIError), fields missing or of another type, numbers out of range.
MALFORMED = (AnymailAPIError, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)


class RefuseMalformedPayload:
    """A payload anymail cannot check or read is refused with a 400 (anymail's validation failure),
    which names the problem, instead of a 500: nothing is recorded, and a provider does not retry a
    400 for days as it does a 500. Errors of our own receiver (record_tracking_event) stay 500s."""

    def run_validators(self, request):
        try:
            super().run_validators(request)
        except MALFORMED as error:
            raise self._refusal(error) from error

    def parse_events(self, request):
        try:
            return list(super().parse_events(request))
        except MALFORMED as error:
            raise self._refusal(error) from error

    def _refusal(self, error) -> AnymailWebhookValidationFailure:
        return AnymailWebhookValidationFailure(
            f"Malformed {self.esp_name} webhook payload: {str(error)[:200]}"
        )


class PostmarkTrackingView(RefuseMalformedPayload, RefuseWithoutWebhookSecret, PostmarkTrackingWebhookView):
    pass


class SendGridTrackingView(RefuseMalformedPayload, RefuseWithoutWebhookSecret, SendGridTrackingWebhookView):
    pass


class AmazonSESTrackingView(RefuseMalformedPayload, RefuseWithoutWebhookSecret, AmazonSESTrackingWebhookView):
    """Also answers SNS's first, unauthenticated try with a 401 (SNS then sends the credentials) and
    confirms the SNS subscription. anymail checks the SNS headers, not the SNS message signature."""


class MailgunTrackingView(RefuseMalformedPayload, MailgunTrackingWebhookView):
    """Mailgun signs each request (HMAC-SHA256 of timestamp and token with MAILGUN_WEBHOOK_SIGNING_KEY);
    without the key anymail refuses to run the view at all."""


# -- Our rules -----------------------------------------------------------------------------------------

BOUNCED, COMPLAINED, DEFERRED = EventType.BOUNCED, EventType.COMPLAINED, EventType.DEFERRED

# What is worth keeping (anymail's event types). Only "bounced" (a hard bounce) and "complained" (the
# person marked the email as spam) change the contact; the others are kept for support and change
# nothing: "deferred" (a soft bounce or a delay), "rejected" (the provider refused to send, e.g. its
# suppression list), "failed" (the provider could not send), "unsubscribed" (the provider's own
# unsubscribe or suppression). Sends, deliveries, opens and clicks are not kept.
KEPT_EVENT_TYPES = {
    BOUNCED,
    COMPLAINED,
    DEFERRED,
    EventType.REJECTED,
    EventType.FAILED,
    EventType.UNSUBSCRIBED,
}

# Mailgun "failed" events of severity "permanent" that are not about the address: retries ran out
# ("old"), the provider's own block ("espblock"), or its lists of earlier unsubscribes and complaints.
MAILGUN_PERMANENT_NOT_ADDRESS = {"old", "espblock", "suppress-unsubscribe", "suppress-complaint"}


def delivery_event_type(esp_name: str, event_type: str, raw: dict) -> str | None:
    """The type we record for an anymail tracking event, or None when it is not worth keeping.

    one hard bounce or one spam complaint unsubscribes at once; a soft bounce changes nothing.
    anymail calls some soft bounces "bounced" and a spam filter's verdict "complained": those are
    recorded as "deferred" (a soft bounce), which changes nothing. When a provider does not say clearly
    that the address is dead, the bounce is soft: wrongly suppressing an address would also stop its
    purchase confirmations. Per provider (anymail 15):
    - Postmark: hard only for Type "HardBounce" (or a SubscriptionChange with SuppressionReason
      "HardBounce"); "SoftBounce", "VirusNotification"… are soft (anymail: bounced). A complaint only for
      "SpamComplaint"; "SpamNotification" is the receiving server's filter (anymail: complained), soft.
      ("Transient", "DnsError" are already deferred in anymail.)
    - SendGrid: a "bounce" event is hard unless its type is "blocked" (SendGrid: a temporary refusal);
      "deferred" events are deferred in anymail.
    - Mailgun: anymail already makes a "failed" event of severity "temporary" deferred; a permanent one
      is hard unless its reason is in MAILGUN_PERMANENT_NOT_ADDRESS; legacy "bounced" posts are hard.
    - Amazon SES: hard only for bounceType "Permanent"; "Transient" and "Undetermined" are soft.
    - Any other provider: anymail's "bounced" and "complained" as they are.
    """
    if event_type not in KEPT_EVENT_TYPES:
        return None
    if event_type == BOUNCED:
        if esp_name == "Postmark":
            hard = "HardBounce" in (raw.get("Type"), raw.get("SuppressionReason"))
        elif esp_name == "SendGrid":
            hard = raw.get("type") != "blocked"
        elif esp_name == "Mailgun":
            data = raw.get("event-data")  # None: a legacy form post, sent for permanent bounces only
            hard = data is None or (
                data.get("severity") == "permanent"
                and data.get("reason") not in MAILGUN_PERMANENT_NOT_ADDRESS
            )
        elif esp_name == "Amazon SES":
            hard = (raw.get("bounce") or {}).get("bounceType") == "Permanent"
        else:
            hard = True
        return BOUNCED if hard else DEFERRED
    if event_type == COMPLAINED and esp_name == "Postmark":
        return COMPLAINED if "SpamComplaint" in (raw.get("Type"), raw.get("SuppressionReason")) else DEFERRED
    return event_type


# -- The receiver -------------------------------------------------------------------------------------


def record_tracking_event(sender, event, esp_name: str, **kwargs) -> None:
    """Receives anymail's `tracking` signal: keeps a bounce, complaint or other delivery problem on the
    site that sent the email, and lets the service apply it. An event no site can be found for changes
    nothing (a bounce we cannot attribute must not touch a contact of any site)."""
    raw = json_safe(event.esp_event)
    event_type = delivery_event_type(esp_name, event.event_type, raw)
    if event_type is None:
        return
    site = site_of(event)
    if site is None:
        logger.warning(
            "Ignored a %s %s event: no site sent message %r.", esp_name, event.event_type, event.message_id
        )
        return
    with site_scope(site):
        services.record_delivery_event(
            site,
            provider=esp_name,
            event_type=event_type,
            recipient=text(event.recipient),
            provider_event_id=text(provider_event_id(esp_name, event)),
            message_id=text(event.message_id),
            description=text(event.description or event.mta_response),
            occurred_at=event.timestamp,
            raw=raw,
        )


def site_of(event) -> Site | None:
    """The site that sent the email: the slug our sending put in the message's metadata (echoed by the
    provider), else the site of the outbox email with this provider message id."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    slug = metadata.get("site")
    if slug and isinstance(slug, str) and slug == text(slug):
        site = Site.objects.filter(slug=slug).first()
        if site is not None:
            return site
    message_id = text(event.message_id)
    if not message_id:
        return None
    # Audited platform-wide read: the provider names the message, not the site. A provider message id
    # is given to one email only, so it names one site; two sites would be ambiguous and change nothing.
    with platform_wide("webhook: the site of a provider message id", routine=True):
        emails = OutboundEmail.objects.filter(provider_message_id=message_id)
        site_ids = set(emails.values_list("site_id", flat=True)[:2])
    return Site.objects.filter(pk=site_ids.pop()).first() if len(site_ids) == 1 else None


def provider_event_id(esp_name: str, event) -> str:
    """The provider's id of the event, so that a redelivered event is recorded once. One Amazon SNS
    notification covers every recipient of a bounce or complaint and anymail gives each the SNS message
    id: the recipient completes it."""
    event_id = event.event_id or ""
    if event_id and esp_name == "Amazon SES":
        return f"{event_id}:{(event.recipient or '').lower()}"
    return event_id


def text(value) -> str:
    """A provider's text as PostgreSQL can keep it: without NUL characters ("" for none)."""
    return "" if value is None else str(value).replace("\x00", "")


# A NUL character as JSON text writes it, \u0000, and not an escaped backslash followed by "u0000".
JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def json_safe(esp_event) -> dict:
    """The provider's raw event as JSON that PostgreSQL's jsonb takes: a parsed payload as it is (less NUL
    characters, which jsonb refuses), Mailgun's legacy form posts as their fields, anything else as its
    repr."""
    if isinstance(esp_event, QueryDict):
        esp_event = {key: values[0] if len(values) == 1 else values for key, values in esp_event.lists()}
    try:
        raw = json.loads(JSON_NUL.sub(r"\1", json.dumps(esp_event, cls=DjangoJSONEncoder)))
    except RecursionError:
        return {"repr": "(nested too deeply to keep)"}
    except (TypeError, ValueError):
        return {"repr": text(repr(esp_event)[:10_000])}
    return raw if isinstance(raw, dict) else {"event": raw}
