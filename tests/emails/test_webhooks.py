"""Bounces and complaints arrive as email service providers' webhooks (Postmark, SendGrid,
Mailgun, Amazon SES through django-anymail), authenticated, and update the contact as the status rules
say: one hard bounce or one spam complaint unsubscribes at once; a soft bounce changes nothing.

Payloads are the providers' documented samples (fixtures/webhooks/README.md says where each comes from).
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from anymail.exceptions import AnymailInsecureWebhookWarning
from django.test import override_settings
from django_scopes import scope, scopes_disabled

from contacts import services
from contacts.models import ConsentEvent, ConsentSource, Contact, DeliveryEvent
from contacts.services import Consent
from emails.models import EmailKind, EmailStatus, OutboundEmail
from emails.webhooks import delivery_event_type
from tests.factories import ContactFactory

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
READER = "reader@example.com"  # the recipient in every fixture
SECRET = "anymail:a-long-random-webhook-secret"
SIGNING_KEY = "key-mailgun-webhook-signing-key"
ANYMAIL_SETTINGS = {"WEBHOOK_SECRET": [SECRET], "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}

PROVIDERS = ["postmark", "sendgrid", "mailgun", "amazon_ses"]
HARD_BOUNCE = {
    "postmark": "postmark_hard_bounce.json",
    "sendgrid": "sendgrid_bounce.json",
    "mailgun": "mailgun_permanent_failure.json",
    "amazon_ses": "ses_permanent_bounce.json",
}
COMPLAINT = {
    "postmark": "postmark_spam_complaint.json",
    "sendgrid": "sendgrid_spamreport.json",
    "mailgun": "mailgun_complained.json",
    "amazon_ses": "ses_complaint.json",
}
SOFT_BOUNCES = [
    ("postmark", "postmark_soft_bounce.json"),
    ("postmark", "postmark_spam_notification.json"),
    ("sendgrid", "sendgrid_deferred.json"),
    ("sendgrid", "sendgrid_blocked.json"),
    ("mailgun", "mailgun_temporary_failure.json"),
    ("amazon_ses", "ses_transient_bounce.json"),
]
ESP_NAMES = {"postmark": "Postmark", "sendgrid": "SendGrid", "mailgun": "Mailgun", "amazon_ses": "Amazon SES"}


@pytest.fixture(autouse=True)
def _webhook_secrets():
    with override_settings(ANYMAIL=ANYMAIL_SETTINGS):
        yield


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


# -- Editing a provider's payload ----------------------------------------------------------------------


def ses_notification(payload: dict) -> dict:
    return json.loads(payload["Message"])


def set_ses_notification(payload: dict, notification: dict) -> None:
    payload["Message"] = json.dumps(notification) + "\n"


def without_metadata(provider: str, payload):
    """The payload of an email sent without our metadata (no site slug echoed back)."""
    if provider == "postmark":
        del payload["Metadata"]
    elif provider == "sendgrid":
        del payload[0]["site"], payload[0]["email_id"]
    elif provider == "mailgun":
        payload["event-data"]["user-variables"] = {}
    else:
        notification = ses_notification(payload)
        notification["mail"].pop("headers", None)
        set_ses_notification(payload, notification)
    return payload


def message_id_of(provider: str, payload) -> str:
    """The message id anymail reports for this payload (the outbox's `provider_message_id`)."""
    if provider == "postmark":
        return payload["MessageID"]
    if provider == "sendgrid":
        return payload[0]["anymail_id"]
    if provider == "mailgun":
        return f"<{payload['event-data']['message']['headers']['message-id']}>"
    return ses_notification(payload)["mail"]["messageId"]


def with_message_id(provider: str, payload, message_id: str):
    if provider == "postmark":
        payload["MessageID"] = message_id
    elif provider == "sendgrid":
        payload[0]["anymail_id"] = message_id
    elif provider == "mailgun":
        payload["event-data"]["message"]["headers"]["message-id"] = message_id.strip("<>")
    else:
        notification = ses_notification(payload)
        notification["mail"]["messageId"] = message_id
        set_ses_notification(payload, notification)
    return payload


# -- Posting as the provider does -------------------------------------------------------------------------


def mailgun_signed(payload: dict, key: str = SIGNING_KEY) -> dict:
    """Mailgun's signature: HMAC-SHA256 of timestamp + token with the webhook signing key."""
    signature = payload["signature"]
    signature["signature"] = hmac.new(
        key.encode(), f"{signature['timestamp']}{signature['token']}".encode(), hashlib.sha256
    ).hexdigest()
    return payload


def basic_auth(credentials: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post(client, provider: str, payload, *, auth: str | None = SECRET, signing_key: str = SIGNING_KEY):
    headers = basic_auth(auth) if auth else {}
    url = f"/webhooks/{provider}/tracking/"
    if provider == "mailgun":
        payload = mailgun_signed(payload, signing_key)
    if provider == "amazon_ses":  # SNS posts JSON as text/plain, with its type and id in headers too
        headers.update(
            HTTP_X_AMZ_SNS_MESSAGE_ID=payload["MessageId"], HTTP_X_AMZ_SNS_MESSAGE_TYPE=payload["Type"]
        )
        return client.post(url, json.dumps(payload), content_type="text/plain; charset=UTF-8", **headers)
    return client.post(url, json.dumps(payload), content_type="application/json", **headers)


# -- Arranging and reading ----------------------------------------------------------------------------------


def subscribed_contact(site, email: str = READER) -> Contact:
    with scope(site=site):
        contact = ContactFactory(site=site, email=email)
        services.subscribe(site, contact=contact, by=Consent(source=ConsentSource.TEAM, note="test"))
    return contact


def status(site, contact) -> tuple:
    with scope(site=site):
        contact = Contact.objects.get(pk=contact.pk)
    return contact.subscription_status, contact.unsubscribe_reason


def delivery_events(site) -> list[DeliveryEvent]:
    with scope(site=site):
        return list(DeliveryEvent.objects.select_related("contact").order_by("id"))


def webhook_consent_events(site, contact) -> list[ConsentEvent]:
    with scope(site=site):
        return list(ConsentEvent.objects.filter(contact=contact, source=ConsentSource.WEBHOOK))


def outbox_email(site, contact, provider_message_id: str) -> OutboundEmail:
    with scope(site=site):
        return OutboundEmail.objects.create(
            site=site,
            kind=EmailKind.PURCHASE_CONFIRMATION,
            contact=contact,
            to_email=contact.email,
            dedupe_key=f"test:{provider_message_id}",
            status=EmailStatus.SENT,
            provider_message_id=provider_message_id,
        )


# -- A hard bounce, a complaint, a soft bounce ---------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hard_bounce_unsubscribes_the_contact_with_reason_bounced(client, site, provider):
    contact = subscribed_contact(site)

    response = post(client, provider, load(HARD_BOUNCE[provider]))

    assert response.status_code == 200
    assert status(site, contact) == ("unsubscribed", "bounced")
    [consent] = webhook_consent_events(site, contact)
    assert (consent.from_status, consent.to_status, consent.to_reason) == (
        "subscribed",
        "unsubscribed",
        "bounced",
    )
    assert consent.note.startswith(ESP_NAMES[provider])
    [event] = delivery_events(site)
    assert (event.provider, event.event_type, event.contact, event.applied) == (
        ESP_NAMES[provider],
        "bounced",
        contact,
        True,
    )
    assert event.recipient == READER
    assert event.provider_event_id
    assert event.message_id
    assert event.occurred_at
    assert event.raw  # the provider's own event, kept as it came
    with scope(site=site):
        assert Contact.objects.get(pk=contact.pk).is_suppressed  # no email of any kind goes to it now


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_spam_complaint_unsubscribes_the_contact_with_reason_complained(client, site, provider):
    contact = subscribed_contact(site)
    payload = load(COMPLAINT[provider])
    if provider == "amazon_ses":  # this notification carries no headers, so no metadata: the outbox says
        outbox_email(site, contact, message_id_of(provider, payload))

    response = post(client, provider, payload)

    assert response.status_code == 200
    assert status(site, contact) == ("unsubscribed", "complained")
    [consent] = webhook_consent_events(site, contact)
    assert consent.to_reason == "complained"
    [event] = delivery_events(site)
    assert (event.event_type, event.contact, event.applied) == ("complained", contact, True)


@pytest.mark.parametrize(("provider", "fixture"), SOFT_BOUNCES)
def test_a_soft_bounce_changes_nothing_and_is_kept(client, site, provider, fixture):
    contact = subscribed_contact(site)

    response = post(client, provider, load(fixture))

    assert response.status_code == 200
    assert status(site, contact) == ("subscribed", None)
    assert webhook_consent_events(site, contact) == []
    [event] = delivery_events(site)
    assert (event.event_type, event.contact, event.applied) == ("deferred", contact, False)
    assert event.raw


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_provider_event_delivered_twice_is_recorded_once(client, site, provider):
    contact = subscribed_contact(site)
    payload = load(HARD_BOUNCE[provider])

    first = post(client, provider, json.loads(json.dumps(payload)))
    second = post(client, provider, json.loads(json.dumps(payload)))

    assert (first.status_code, second.status_code) == (200, 200)  # a redelivery is acknowledged
    assert len(delivery_events(site)) == 1
    assert len(webhook_consent_events(site, contact)) == 1


def test_a_notification_for_several_recipients_is_recorded_for_each(client, site):
    """One SNS notification from Amazon SES names every bounced recipient under one message id."""
    jane, richard = (
        subscribed_contact(site, "jane@example.com"),
        subscribed_contact(site, "richard@example.com"),
    )
    payload = load("ses_permanent_bounce.json")
    notification = ses_notification(payload)
    notification["bounce"]["bouncedRecipients"] = [
        {"emailAddress": "jane@example.com", "status": "5.1.1", "action": "failed"},
        {"emailAddress": "richard@example.com", "status": "5.1.1", "action": "failed"},
    ]
    set_ses_notification(payload, notification)

    assert post(client, "amazon_ses", payload).status_code == 200
    assert post(client, "amazon_ses", json.loads(json.dumps(payload))).status_code == 200  # redelivered

    assert status(site, jane) == status(site, richard) == ("unsubscribed", "bounced")
    assert sorted(event.recipient for event in delivery_events(site)) == [
        "jane@example.com",
        "richard@example.com",
    ]


def test_a_delivery_or_an_open_is_not_kept(client, site):
    subscribed_contact(site)
    delivery = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": READER,
        "Metadata": {"site": site.slug},
        "DeliveredAt": "2014-08-01T13:28:10.2735393-04:00",
        "Details": "Test delivery webhook details",
    }

    assert post(client, "postmark", delivery).status_code == 200
    assert delivery_events(site) == []


def test_a_legacy_mailgun_form_post_is_kept_as_its_fields(client, site):
    contact = subscribed_contact(site)
    fields = {
        "event": "bounced",
        "recipient": READER,
        "code": "550",
        "error": "550 5.1.1 The email account that you tried to reach does not exist.",
        "Message-Id": "<20160421180324.70521.79375.96884DDB@example.com>",
        "message-headers": json.dumps(  # where anymail finds the user-variables of a legacy bounce
            [
                ["Message-Id", "<20160421180324.70521.79375.96884DDB@example.com>"],
                ["To", READER],
                ["X-Mailgun-Variables", json.dumps({"site": site.slug, "email_id": "17"})],
            ]
        ),
        "timestamp": "1461261330",
        "token": "a3fe1fa1640349ac552b84ddde373014b4c41645830c8dd3fc",
    }
    fields["signature"] = hmac.new(
        SIGNING_KEY.encode(), f"{fields['timestamp']}{fields['token']}".encode(), hashlib.sha256
    ).hexdigest()

    response = client.post("/webhooks/mailgun/tracking/", fields, **basic_auth(SECRET))

    assert response.status_code == 200
    assert status(site, contact) == ("unsubscribed", "bounced")
    [event] = delivery_events(site)
    assert event.raw["error"] == fields["error"]


# -- Authentication ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "auth", "code"),
    [
        ("postmark", None, 400),
        ("postmark", "anymail:wrong", 400),
        ("sendgrid", None, 400),
        ("sendgrid", "anymail:wrong", 400),
        ("mailgun", None, 400),  # with a webhook secret set, Mailgun's URL carries it too
        ("amazon_ses", None, 401),  # SNS sends credentials only after a 401
        ("amazon_ses", "anymail:wrong", 400),
    ],
)
def test_an_unauthenticated_request_is_refused_and_changes_nothing(client, site, provider, auth, code):
    contact = subscribed_contact(site)

    response = post(client, provider, load(HARD_BOUNCE[provider]), auth=auth)

    assert response.status_code == code
    assert status(site, contact) == ("subscribed", None)
    assert delivery_events(site) == []


def test_a_mailgun_request_with_a_bad_signature_is_refused_and_changes_nothing(client, site):
    contact = subscribed_contact(site)

    response = post(client, "mailgun", load(HARD_BOUNCE["mailgun"]), signing_key="not-the-signing-key")

    assert response.status_code == 400
    assert status(site, contact) == ("subscribed", None)
    assert delivery_events(site) == []


@pytest.mark.parametrize("provider", ["postmark", "sendgrid", "amazon_ses"])
def test_without_a_webhook_secret_the_webhooks_refuse_everyone(client, site, provider):
    """Anymail alone would warn and accept anyone: production must set ANYMAIL_WEBHOOK_SECRET."""
    contact = subscribed_contact(site)

    with override_settings(ANYMAIL={}), pytest.warns(AnymailInsecureWebhookWarning):
        response = post(client, provider, load(HARD_BOUNCE[provider]), auth=None)

    assert response.status_code == 400
    assert status(site, contact) == ("subscribed", None)
    assert delivery_events(site) == []


def test_without_a_signing_key_the_mailgun_webhook_refuses_everyone(client, site):
    contact = subscribed_contact(site)
    client.raise_request_exception = False

    with override_settings(ANYMAIL={"WEBHOOK_SECRET": [SECRET]}):
        response = post(client, "mailgun", load(HARD_BOUNCE["mailgun"]))

    assert response.status_code == 500  # anymail's configuration error, logged for the operator
    assert status(site, contact) == ("subscribed", None)
    assert delivery_events(site) == []


# -- Which site, which contact -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_bounce_for_an_address_that_is_not_a_contact_is_kept_without_a_contact(client, site, provider):
    contact = subscribed_contact(site, "someone-else@example.com")

    response = post(client, provider, load(HARD_BOUNCE[provider]))

    assert response.status_code == 200
    assert status(site, contact) == ("subscribed", None)
    [event] = delivery_events(site)
    assert (event.recipient, event.contact, event.applied) == (READER, None, False)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_email_on_another_site_is_not_touched(client, site, other_site, provider):
    contact, other_contact = subscribed_contact(site), subscribed_contact(other_site)
    if provider == "amazon_ses":  # Amazon SES reads metadata from the headers; without them, the outbox
        payload = without_metadata(provider, load(HARD_BOUNCE[provider]))
        outbox_email(site, contact, message_id_of(provider, payload))
    else:
        payload = load(HARD_BOUNCE[provider])

    assert post(client, provider, payload).status_code == 200

    assert status(site, contact) == ("unsubscribed", "bounced")
    assert status(other_site, other_contact) == ("subscribed", None)
    assert delivery_events(other_site) == []
    assert webhook_consent_events(other_site, other_contact) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_without_metadata_the_site_is_found_through_the_outbox_message_id(client, site, other_site, provider):
    contact, other_contact = subscribed_contact(site), subscribed_contact(other_site)
    payload = without_metadata(provider, load(HARD_BOUNCE[provider]))
    outbox_email(site, contact, message_id_of(provider, payload))
    with scope(site=other_site):  # another site's email to the same address, with another message id
        outbox_email(other_site, other_contact, "another-message-id")

    assert post(client, provider, payload).status_code == 200

    assert status(site, contact) == ("unsubscribed", "bounced")
    assert status(other_site, other_contact) == ("subscribed", None)
    [event] = delivery_events(site)
    assert event.message_id == message_id_of(provider, payload)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_event_with_neither_metadata_nor_a_known_message_id_changes_nothing(
    client, site, other_site, provider, caplog
):
    contact, other_contact = subscribed_contact(site), subscribed_contact(other_site)
    payload = with_message_id(
        provider, without_metadata(provider, load(HARD_BOUNCE[provider])), "<unknown@x>"
    )

    response = post(client, provider, payload)

    assert response.status_code == 200  # acknowledged, so the provider does not retry it forever
    assert status(site, contact) == status(other_site, other_contact) == ("subscribed", None)
    with scopes_disabled():
        assert not DeliveryEvent.objects.exists()
    assert "no site sent message" in caplog.text


def test_a_metadata_site_that_does_not_exist_changes_nothing(client, site):
    contact = subscribed_contact(site)
    payload = load(HARD_BOUNCE["postmark"])
    payload["Metadata"]["site"] = "no-such-site"

    assert post(client, "postmark", payload).status_code == 200

    assert status(site, contact) == ("subscribed", None)
    with scopes_disabled():
        assert not DeliveryEvent.objects.exists()


def test_a_bounce_for_a_recipient_given_in_another_case_finds_the_contact(client, site):
    contact = subscribed_contact(site, "Reader@Example.com")

    payload = load(HARD_BOUNCE["postmark"])
    payload["Email"] = "READER@example.COM"

    assert post(client, "postmark", payload).status_code == 200

    assert status(site, contact) == ("unsubscribed", "bounced")


# -- The rules, provider by provider (emails.webhooks.delivery_event_type) -----------------------------------


@pytest.mark.parametrize(
    ("esp_name", "anymail_type", "raw", "recorded"),
    [
        ("Postmark", "bounced", {"RecordType": "Bounce", "Type": "HardBounce"}, "bounced"),
        ("Postmark", "bounced", {"RecordType": "Bounce", "Type": "SoftBounce"}, "deferred"),
        ("Postmark", "bounced", {"RecordType": "Bounce", "Type": "VirusNotification"}, "deferred"),
        (
            "Postmark",
            "bounced",
            {"RecordType": "SubscriptionChange", "SuppressionReason": "HardBounce"},
            "bounced",
        ),
        ("Postmark", "complained", {"RecordType": "SpamComplaint", "Type": "SpamComplaint"}, "complained"),
        ("Postmark", "complained", {"RecordType": "Bounce", "Type": "SpamNotification"}, "deferred"),
        ("Postmark", "rejected", {"RecordType": "Bounce", "Type": "BadEmailAddress"}, "rejected"),
        ("Postmark", "delivered", {"RecordType": "Delivery"}, None),
        ("SendGrid", "bounced", {"event": "bounce", "type": "bounce"}, "bounced"),
        ("SendGrid", "bounced", {"event": "bounce"}, "bounced"),
        ("SendGrid", "bounced", {"event": "bounce", "type": "blocked"}, "deferred"),
        ("SendGrid", "deferred", {"event": "deferred"}, "deferred"),
        ("SendGrid", "complained", {"event": "spamreport"}, "complained"),
        ("SendGrid", "opened", {"event": "open"}, None),
        ("Mailgun", "bounced", {"event-data": {"severity": "permanent", "reason": "bounce"}}, "bounced"),
        (
            "Mailgun",
            "bounced",
            {"event-data": {"severity": "permanent", "reason": "suppress-bounce"}},
            "bounced",
        ),
        ("Mailgun", "bounced", {"event-data": {"severity": "permanent", "reason": "old"}}, "deferred"),
        (
            "Mailgun",
            "bounced",
            {"event-data": {"severity": "permanent", "reason": "suppress-complaint"}},
            "deferred",
        ),
        ("Mailgun", "bounced", {"event-data": {"reason": "generic"}}, "deferred"),
        ("Mailgun", "bounced", {"event": "bounced", "code": "550"}, "bounced"),  # a legacy form post
        ("Mailgun", "clicked", {"event-data": {"event": "clicked"}}, None),
        ("Amazon SES", "bounced", {"bounce": {"bounceType": "Permanent"}}, "bounced"),
        ("Amazon SES", "bounced", {"bounce": {"bounceType": "Transient"}}, "deferred"),
        ("Amazon SES", "bounced", {"bounce": {"bounceType": "Undetermined"}}, "deferred"),
        ("Amazon SES", "complained", {"complaint": {"complaintFeedbackType": "abuse"}}, "complained"),
        ("Amazon SES", "sent", {"eventType": "Send"}, None),
    ],
)
def test_only_a_hard_bounce_or_a_persons_complaint_is_recorded_as_one(esp_name, anymail_type, raw, recorded):
    assert delivery_event_type(esp_name, anymail_type, raw) == recorded


# -- A known bug of contacts.services.record_delivery_event (see the reason) ---------------------------------


def test_a_long_provider_event_id_given_twice_is_recorded_once(site):
    long_id = "sns-message-id:" + "x" * 240
    with scope(site=site):
        services.record_delivery_event(
            site, provider="Amazon SES", event_type="deferred", recipient=READER, provider_event_id=long_id
        )
        repeat = services.record_delivery_event(
            site, provider="Amazon SES", event_type="deferred", recipient=READER, provider_event_id=long_id
        )
    assert repeat is None
