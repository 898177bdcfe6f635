"""Issue 7 (4): Schemathesis calls every operation of /api/v1/schema/ with generated input, valid and not,
and checks that the API never answers a server error, that each answer's status, content type and
body are the ones the schema documents, and that no answer carries another site's data.

The schema is read from the app itself (in process, through Django's WSGI handler), and the calls reach
a seeded site with an owner API key: path ids are mostly those of the site's real objects (so that the
handlers run, not only their 404s), some generated ones and some of another site's objects. Each
generated call runs in a savepoint that is rolled back, so every call sees the same seeded site (a
DELETE, or revoking the very key in use, does not spoil the calls after it) and nothing is excluded.

Budget: FUZZ_MAX_EXAMPLES (default 12) generated cases per operation, plus Schemathesis's example and
coverage cases; derandomized, no deadline. `FUZZ_MAX_EXAMPLES=200` runs it longer.
"""

import os
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django_scopes import scope
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contacts import services as contact_services
from contacts.models import Form
from creatorhub import services
from creatorhub.models import Membership
from creatorhub.roles import Role
from emails.models import EmailKind, OutboundEmail
from offers.models import Access
from tests.factories import MembershipFactory, SiteFactory, UserFactory
from tests.support.module_rows import rolled_back_after_the_module

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
OTHER_SITE_MARK = "other-site-secret"  # in every email and title of the other site's objects


class InTestTransaction:
    """Django's WSGI application for calls made inside the test's transaction. Django closes the
    database connection when a request starts and ends (`close_old_connections`), which would end that
    transaction; Django's own test client disconnects it around each request too."""

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", InTestTransaction())


def no_other_sites_data(ctx, response, case):
    """Tenancy: whatever is asked, an answer never carries another site's objects."""
    if OTHER_SITE_MARK in response.text:
        raise AssertionError(f"The answer shows another site's data: {response.text[:300]}")


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_other_sites_data,
]


class Seeder:
    """Creates a site's objects through the API (as an integration would), keeping their ids."""

    def __init__(self, site, secret):
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.base = f"/api/v1/sites/{site.slug}"

    def post(self, path, body, *, status=201):
        response = self.client.post(f"{self.base}/{path}", body, format="json")
        assert response.status_code == status, (path, response.status_code, response.content)
        return response.json()

    def delete(self, path):
        assert self.client.delete(f"{self.base}/{path}").status_code == 204


def seed(site, owner, *, mark: str = "") -> dict:
    """Contacts (one erased after its activity), tags, a course, offers, a form with a submission,
    a saved segment, a purchase, a grant, a bulk action, an export, an invitation and API keys.
    Returns the owner key's secret and the ids of each resource, by the URL's name for it."""
    with scope(site=site):
        key, secret = services.create_api_key(
            site, name=f"schemathesis {mark}", role=Role.OWNER, acting_user=owner
        )
        spare, _ = services.create_api_key(site, name="spare", role=Role.ASSISTANT, acting_user=None)
    api = Seeder(site, secret)
    contacts = [
        api.post(
            "contacts/", {"email": f"c{i}{mark}@example.com", "name": f"Contact {i} {mark}", "tags": ["vip"]}
        )
        for i in range(4)
    ]
    contact_ids = [c["id"] for c in contacts]
    api.post(f"contacts/{contact_ids[0]}/subscribe/", {"consent": "Ticked the box"}, status=200)
    product = api.post("products/", {"title": f"Course {mark}", "lessons": ["One", "Two"]})
    offer = api.post("offers/", {"title": f"Offer {mark}", "price": "10.00", "products": [product["id"]]})
    form = api.post("forms/", {"name": f"News {mark}", "slug": "news", "tag_names": ["from-form"]})
    with scope(site=site):
        contact_services.submit_form(
            site, form=Form.objects.get(pk=form["id"]), email=f"form{mark}@example.com"
        )
    segment = api.post(
        "segments/",
        {"name": f"VIP {mark}", "filters": {"all": [{"field": "status", "op": "is", "value": "subscribed"}]}},
    )
    purchase = api.post(
        "purchases/",
        {
            "offer": offer["id"],
            "email": f"buyer{mark}@example.com",
            "amount": "10.00",
            "currency": "USD",
            "idempotency_key": f"order-1{mark}",
        },
    )
    grant = api.post(f"offers/{offer['id']}/grants/", {"contact_ids": contact_ids[:2]})
    bulk = api.post("bulk-actions/", {"kind": "add_tag", "tag": "bulk", "contact_ids": contact_ids[:1]})
    export = api.post("exports/", {"segment": "all"}, status=202)
    invitation = api.post("invitations/", {"email": f"new{mark}@example.com", "role": "admin"})
    gone = api.post("contacts/", {"email": f"gone{mark}@example.com"})
    api.post(
        "events/",
        [
            {"contact": contact_ids[0], "kind": "login", "occurred_at": "2025-01-01T00:00:00Z"},
            {"contact": gone["id"], "kind": "login", "occurred_at": "2025-01-02T00:00:00Z"},
        ],
    )
    api.delete(f"contacts/{gone['id']}/")  # its event stays, without a contact
    with scope(site=site):
        accesses = list(Access.objects.values_list("pk", flat=True))
        emails = list(OutboundEmail.objects.values_list("pk", flat=True))
        members = list(Membership.objects.values_list("pk", flat=True))
    return {
        "secret": secret,
        "ids": {
            "contacts": contact_ids,
            "products": [product["id"]],
            "offers": [offer["id"]],
            "forms": [form["id"]],
            "segments": ["all", "customers", "subscribed", segment["id"]],
            "purchases": [purchase["id"]],
            "grants": [grant["id"]],
            "bulk-actions": [bulk["id"]],
            "exports": [export["id"]],
            "invitations": [invitation["id"]],
            "api-keys": [key.pk, spare.pk],
            "members": members,
            "accesses": accesses,
            "emails": emails,
            "email-templates": list(EmailKind.values),
        },
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The site the calls are made to, and another site whose objects they must never reach: seeded once
    for the module (some sixty API calls), and rolled back after it; each call runs in a savepoint."""
    with rolled_back_after_the_module(
        django_db_blocker,
        ALLOWED_HOSTS=["localhost", "testserver"],  # the in-process client's Host is localhost
        # One operation's generated calls come in a burst from one key; the throttles have their own tests.
        API_RATE_PER_KEY="100000/m",
        API_WRITE_RATE_PER_KEY="100000/m",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
    ):
        site = SiteFactory(slug="ana-yoga", name="Ana's Yoga Studio")
        other_site = SiteFactory(slug="ben-codes", name="Ben Codes")
        owner = MembershipFactory(site=site, role=Role.OWNER, user=UserFactory()).user
        other_owner = MembershipFactory(site=other_site, role=Role.OWNER, user=UserFactory()).user
        other = seed(other_site, other_owner, mark=OTHER_SITE_MARK)
        yield {"site": site, **seed(site, owner)}, other


RESOURCE = re.compile(r"^/api/v1/sites/\{site\}/(?P<name>[^/]+)/\{(?P<param>id|kind)\}/")


def aim(case, ours: dict, theirs: dict) -> None:
    """Points the case at real objects: the seeded site, and for most generated ids one of its
    objects of that kind; some generated ids stay as they are (mostly unknown: a 404), and some become
    another site's object (a 404 too)."""
    if "site" in case.path_parameters:
        case.path_parameters["site"] = ours["site"].slug
    match = RESOURCE.match(case.operation.path)
    if match is None or match["param"] not in case.path_parameters:
        return
    value = case.path_parameters[match["param"]]
    own = ours["ids"].get(match["name"]) or []
    other = theirs["ids"].get(match["name"]) or []
    if isinstance(value, bool) or not own:
        return
    if isinstance(value, int):
        turn = value
    elif isinstance(value, str):
        turn = len(value)
    else:
        return
    if turn < 0:
        return
    if turn % 5 == 4 and other:
        case.path_parameters[match["param"]] = other[turn % len(other)]
    elif turn % 5 != 3:
        case.path_parameters[match["param"]] = own[turn % len(own)]


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_its_schema_says_and_never_a_server_error(case, seeded, db):
    ours, theirs = seeded
    aim(case, ours, theirs)
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Bearer {ours['secret']}"}, checks=CHECKS)
        transaction.set_rollback(True)
