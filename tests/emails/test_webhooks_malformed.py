"""What the webhook fuzzing found (tests/emails/test_fuzz_webhooks.py): a payload anymail cannot read is
refused with a 400 and changes nothing (some were 500s, which providers retry for days), and a
payload with NUL characters in its texts is recorded without them (PostgreSQL keeps none: a 500)."""

import json

import pytest
from django.test import override_settings

from tests.emails.test_webhooks import (
    ANYMAIL_SETTINGS,
    HARD_BOUNCE,
    PROVIDERS,
    SECRET,
    basic_auth,
    delivery_events,
    load,
    post,
    ses_notification,
    set_ses_notification,
    status,
    subscribed_contact,
)

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

SNS_HEADERS = {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "sns-1"}


@pytest.fixture(autouse=True)
def _webhook_secrets():
    with override_settings(ANYMAIL=ANYMAIL_SETTINGS):
        yield


UNREADABLE = [
    *(
        (provider, body)
        for provider in PROVIDERS
        for body in (b"\x80\x81 not UTF-8", b"not JSON", b'{"truncated": ', b"[1, 2, 3]")
    ),
    ("amazon_ses", b'{"Type": "Notification", "MessageId": "sns-1", "Message": "not JSON"}'),
]


@pytest.mark.parametrize(("provider", "body"), UNREADABLE)
def test_a_payload_that_cannot_be_read_is_a_400_and_changes_nothing(client, site, provider, body):
    contact = subscribed_contact(site)
    headers = {**basic_auth(SECRET), **(SNS_HEADERS if provider == "amazon_ses" else {})}

    response = client.post(
        f"/webhooks/{provider}/tracking/", body, content_type="application/json", **headers
    )

    assert response.status_code == 400
    assert status(site, contact) == ("subscribed", None)
    assert delivery_events(site) == []


def with_nul_characters(provider: str, payload):
    """The hard bounce with NUL characters in its recipient and its description."""
    if provider == "postmark":
        payload["Email"] += "\x00"
        payload["Description"] = "Hard\x00 bounce"
    elif provider == "sendgrid":
        payload[0]["email"] += "\x00"
        payload[0]["reason"] = "550\x00 unknown user"
    elif provider == "mailgun":
        payload["event-data"]["recipient"] += "\x00"
        payload["event-data"]["delivery-status"]["description"] = "No\x00 such user"
    else:
        notification = ses_notification(payload)
        notification["bounce"]["bouncedRecipients"][0]["emailAddress"] += "\x00"
        notification["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "smtp; 550\x00 unknown"
        notification["bounce"]["x\x00"] = ["\x00"]
        set_ses_notification(payload, notification)
    return payload


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nul_characters_in_a_payload_are_left_out_and_the_bounce_applies(client, site, provider):
    contact = subscribed_contact(site)

    response = post(client, provider, with_nul_characters(provider, load(HARD_BOUNCE[provider])))

    assert response.status_code == 200
    assert status(site, contact) == ("unsubscribed", "bounced")
    [event] = delivery_events(site)
    assert event.recipient == "reader@example.com"
    assert "\x00" not in event.description
    assert "\\u0000" not in json.dumps(event.raw)
