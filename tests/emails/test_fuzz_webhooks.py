"""The email providers' webhooks (emails.webhooks, through django-anymail) fuzzed with
hypothesis. Random bytes, random JSON, the real provider payloads (fixtures/webhooks/) truncated or
with keys dropped and values replaced (huge texts, NUL characters, numbers out of range), posted with
or without the webhook credentials: never a 500, never a change to another site's contacts, never an
unauthenticated change at all; and a valid payload still applies afterwards.

Every example runs in a savepoint that is rolled back, so each starts from the same two sites.
Budget: FUZZ_MAX_EXAMPLES overrides each test's number of examples (150 by default).
"""

import json

import pytest
from django.db import transaction
from django.test import override_settings
from django_scopes import scopes_disabled
from hypothesis import given
from hypothesis import strategies as st

from contacts.models import DeliveryEvent
from tests.emails.test_webhooks import (
    ANYMAIL_SETTINGS,
    FIXTURES,
    HARD_BOUNCE,
    PROVIDERS,
    SECRET,
    basic_auth,
    load,
    mailgun_signed,
    post,
    status,
    subscribed_contact,
)
from tests.support.fuzzing import budget

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))
OURS = {("subscribed", None), ("unsubscribed", "bounced"), ("unsubscribed", "complained")}


@pytest.fixture(autouse=True)
def _webhook_secrets():
    with override_settings(ANYMAIL=ANYMAIL_SETTINGS):
        yield


@pytest.fixture
def people(site, other_site):
    """The fixtures' recipient on this site (the metadata names it) and on another site."""
    return subscribed_contact(site), subscribed_contact(other_site)


# -- Strategies -----------------------------------------------------------------------------------------

TEXT = st.text(max_size=40) | st.sampled_from(
    ["", "\x00", "a\x00b", "\ud7ff", "reader@example.com", "ben-codes"]
)
HUGE = st.sampled_from(["x" * 100_000, "é" * 30_000, "\x00" * 1000, "1" * 400])
NUMBERS = (
    st.integers()
    | st.sampled_from([2**64, -(2**63), 10**30, 0])
    | st.floats(allow_nan=False, allow_infinity=False)
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=15,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain; charset=utf-8",  # the test client re-encodes bytes for any other spelling
        "application/x-www-form-urlencoded",
        "application/xml",
        "",
    ]
)


def paths_of(value, path=()):
    """Every place in a JSON value: the keys and indexes that lead to it."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*path, index))


def mutate(data, payload):
    """Drops one value of `payload` (any depth; inside Amazon SNS's Message, a JSON text, too), replaces
    it with anything (random JSON, a huge text, a number out of range) or puts a NUL character in it."""
    places = [path for path in paths_of(payload) if path]
    if not places:
        return payload
    path = data.draw(st.sampled_from(places))
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent[path[-1]], str) and path[-1] == "Message" and data.draw(st.booleans()):
        try:
            inner = json.loads(parent[path[-1]])
        except ValueError:
            inner = None
        if inner is not None:
            parent[path[-1]] = json.dumps(mutate(data, inner))
            return payload
    value = parent[path[-1]]
    change = data.draw(
        st.sampled_from(["drop", "replace", "nul"] if isinstance(value, str) else ["drop", "replace"])
    )
    if change == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif change == "nul":  # the same text with a NUL character in it (PostgreSQL keeps none)
        at = data.draw(st.integers(0, len(value)))
        parent[path[-1]] = value[:at] + "\x00" + value[at:]
    else:
        parent[path[-1]] = data.draw(JSON | HUGE)
    return payload


def mutated_fixture(data) -> bytes:
    """A real provider payload, changed one to three times, its JSON text now and then cut short."""
    payload = load(data.draw(st.sampled_from(FIXTURE_NAMES)))
    for _ in range(data.draw(st.integers(1, 3))):
        payload = mutate(data, payload)
    body = json.dumps(payload, ensure_ascii=data.draw(st.booleans())).encode()
    if data.draw(st.integers(0, 4)) == 0:
        body = body[: data.draw(st.integers(0, len(body)))]
    return body, payload


def send(client, provider: str, body: bytes, payload, *, authenticated: bool, content_type: str):
    """Posts as the provider would: the webhook secret as basic auth, Mailgun's HMAC signature when the
    payload has a signature block (so that the parsing behind it runs), SNS's headers for Amazon SES."""
    headers = basic_auth(SECRET) if authenticated else {}
    if provider == "mailgun" and isinstance(payload, dict) and isinstance(payload.get("signature"), dict):
        signature = payload["signature"]
        if all(isinstance(signature.get(key), str) for key in ("timestamp", "token")):
            body = json.dumps(mailgun_signed(payload)).encode()
    if provider == "amazon_ses" and isinstance(payload, dict):
        for header, key in (
            ("HTTP_X_AMZ_SNS_MESSAGE_ID", "MessageId"),
            ("HTTP_X_AMZ_SNS_MESSAGE_TYPE", "Type"),
        ):
            if isinstance(payload.get(key), str) and payload[key].isprintable():
                headers[header] = payload[key]
    return client.post(f"/webhooks/{provider}/tracking/", body, content_type=content_type, **headers)


def assert_no_harm(response, site, other_site, people, *, authenticated: bool) -> None:
    contact, other_contact = people
    assert response.status_code < 500, response.content[:300]
    assert status(other_site, other_contact) == ("subscribed", None)
    with scopes_disabled():
        assert not DeliveryEvent.objects.filter(site=other_site).exists()
        if not authenticated:
            assert not DeliveryEvent.objects.exists()
    if authenticated:
        assert status(site, contact) in OURS
    else:
        assert status(site, contact) == ("subscribed", None)


def fuzz(client, site, other_site, people, body_of):
    """Runs the property over bodies drawn by `body_of(data) -> (bytes, payload or None)`."""

    @budget(150)
    @given(data=st.data())
    def property_holds(data):
        provider = data.draw(st.sampled_from(PROVIDERS))
        authenticated = data.draw(st.booleans())
        body, payload = body_of(data)
        content_type = data.draw(st.just("application/json") | CONTENT_TYPES)
        with transaction.atomic():
            response = send(
                client, provider, body, payload, authenticated=authenticated, content_type=content_type
            )
            assert_no_harm(response, site, other_site, people, authenticated=authenticated)
            transaction.set_rollback(True)

    property_holds()


# -- The properties -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_random_bytes_are_never_a_server_error(client, site, other_site, people):
    fuzz(client, site, other_site, people, lambda data: (data.draw(st.binary(max_size=3000)), None))


@pytest.mark.slow
def test_random_json_is_never_a_server_error(client, site, other_site, people):
    def random_json(data):
        payload = data.draw(JSON)
        return json.dumps(payload).encode(), payload

    fuzz(client, site, other_site, people, random_json)


@pytest.mark.slow
def test_changed_provider_payloads_never_touch_another_site_and_a_valid_one_still_applies(
    client, site, other_site, people
):
    fuzz(client, site, other_site, people, mutated_fixture)

    for provider in PROVIDERS:  # after all that, the real payloads still do their work
        with transaction.atomic():
            assert post(client, provider, load(HARD_BOUNCE[provider])).status_code == 200
            assert status(site, people[0]) == ("unsubscribed", "bounced")
            assert status(other_site, people[1]) == ("subscribed", None)
            transaction.set_rollback(True)
