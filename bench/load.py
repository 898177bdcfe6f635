"""The load test's traffic: a locustfile, run by bench/loadtest.py against gunicorn.

Each simulated user is a site owner at the dashboard and, beside it, an integration of the same site:

- a browser session, logged in once through the login form (its CSRF token and cookie), that opens the
  Contacts tab (All, the Customers and Subscribed tabs, a search for a surname, older pages by the
  tab's own "Older contacts" link) and contact pages;
- an API client with an API key of its own (`Authorization: Bearer`), that lists contacts by segment,
  reads single contacts (with their explanation), posts batches of activity events and records
  purchases (each purchase queues its Purchase Confirmation email to the Celery worker).

Reads dominate, as in real traffic. Every answer must have its expected status (200, 201 for writes)
and a page must not be the login page: anything else counts as an error. Each request is named after
its kind (bench.loadtest.REQUEST_KINDS) in the figures.

The figures count from the moment every user has logged in (LOAD_USERS of them) and for LOAD_MEASURE
seconds, after which the run stops: the logins, each a PBKDF2 hash (0.4 s of CPU), all come in the first
seconds and would otherwise weigh on everything. Their own figures are kept aside in LOAD_LOGINS_FILE.

The site, logins, keys, offers and a sample of contacts come from the JSON file named by LOAD_FIXTURE,
written by bench/loadtest.py. LOAD_WAIT ("min,max" seconds, default "0.5,1.5") is each user's pause
between two actions.
"""

import itertools
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta

import gevent
from locust import HttpUser, between, task
from locust.clients import HttpSession

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"]).read()) if os.environ.get("LOAD_FIXTURE") else {}  # noqa: SIM115
WAIT = tuple(float(part) for part in os.environ.get("LOAD_WAIT", "0.5,1.5").split(","))
EVENTS_PER_BATCH = int(os.environ.get("LOAD_EVENTS_PER_BATCH", "20"))
KINDS = ["login", "lesson_completed", "course_completed", "form_submitted", "other"]
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')
USERS = int(os.environ.get("LOAD_USERS", "0"))
MEASURE = float(os.environ.get("LOAD_MEASURE", "0"))
SETTLE = float(os.environ.get("LOAD_SETTLE", "5"))
LOGINS_FILE = os.environ.get("LOAD_LOGINS_FILE", "")
LOGIN_KINDS = ("login page", "login")
_numbers = itertools.count()
_logged_in = itertools.count(1)


def measure_from_now(environment) -> None:
    """Every user has logged in: once the logins' work has drained (SETTLE seconds: fifty password hashes
    are 20 s of CPU, still queued on the server when the last login answers), keeps the logins' figures
    aside, starts the figures from zero, and stops the run MEASURE seconds later."""
    gevent.spawn_later(SETTLE, _measure, environment)


def _measure(environment) -> None:
    stats = environment.stats
    logins = {
        name: {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
        }
        for (name, _), entry in stats.entries.items()
        if name in LOGIN_KINDS
    }
    errors = [
        f"{error.method} {error.name}: {error.error} x {error.occurrences}"
        for error in stats.errors.values()
        if error.name in LOGIN_KINDS
    ]
    if LOGINS_FILE:
        with open(LOGINS_FILE, "w") as file:
            json.dump({"logins": logins, "errors": errors}, file)
    stats.reset_all()
    gevent.spawn_later(MEASURE, environment.runner.quit)


class SiteOwner(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        number = next(_numbers)
        self.site = FIXTURE["site"]
        self.contacts = FIXTURE["contacts"]  # [[id, email], ...]
        self.older = None  # the tab's "Older contacts" link last seen
        # The integration: a client of its own (no dashboard cookie), with this user's key.
        self.api = HttpSession(base_url=self.host, request_event=self.environment.events.request, user=self)
        self.api.headers["Authorization"] = f"Bearer {FIXTURE['keys'][number % len(FIXTURE['keys'])]}"
        try:
            self.log_in(FIXTURE["logins"][number % len(FIXTURE["logins"])], FIXTURE["password"])
        finally:
            if next(_logged_in) == USERS and MEASURE:
                measure_from_now(self.environment)

    def log_in(self, email: str, password: str):
        self.client.get("/accounts/login/", name="login page")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": email,
                "password": password,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
                "next": "",
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "sessionid" not in self.client.cookies:
                response.failure(f"login answered {response.status_code}, no session")

    def page(self, path: str, name: str):
        """A dashboard page: 200 and not the login page (a lost session)."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif "/accounts/login/" in response.url:
                response.failure("sent to the login page")
            return response

    def contact(self) -> list:
        return random.choice(self.contacts)

    # -- The Contacts tab (a browser) ---------------------------------------------------------------

    @task(8)
    def tab_all(self):
        response = self.page(f"/app/{self.site}/contacts/", "tab: All")
        found = NEXT_LINK.search(response.text or "")
        self.older = found.group(1).replace("&amp;", "&") if found else None

    @task(5)
    def tab_segment(self):
        segment = random.choice(["customers", "subscribed"])
        self.page(f"/app/{self.site}/contacts/?segment={segment}", "tab: a segment")

    @task(2)
    def tab_search(self):
        self.page(f"/app/{self.site}/contacts/?q={random.choice(FIXTURE['surnames'])}", "tab: search")

    @task(3)
    def tab_older(self):
        if self.older is None:
            return self.tab_all()
        response = self.page(self.older, "tab: older page")
        found = NEXT_LINK.search(response.text or "")
        self.older = found.group(1).replace("&amp;", "&") if found else None

    @task(5)
    def contact_page(self):
        self.page(f"/app/{self.site}/contacts/{self.contact()[0]}/", "page: contact")

    # -- The API (an integration) -------------------------------------------------------------------

    def call(self, method: str, path: str, name: str, expected: int = 200, **kwargs):
        with self.api.request(
            method, f"/api/v1/sites/{self.site}/{path}", name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code != expected:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(10)
    def api_contacts(self):
        segment = random.choice(["all", "subscribed", "customers"])
        self.call("GET", f"contacts/?segment={segment}", "api: contacts list")

    @task(14)
    def api_contact(self):
        self.call("GET", f"contacts/{self.contact()[0]}/", "api: contact read")

    @task(6)
    def api_events(self):
        now = datetime.now(UTC)
        events = []
        for _ in range(EVENTS_PER_BATCH):
            contact_id, email = self.contact()
            who = {"email": email} if random.random() < 0.5 else {"contact": contact_id}
            at = now - timedelta(seconds=random.randint(0, 3600))
            events.append({**who, "kind": random.choice(KINDS), "occurred_at": at.isoformat()})
        self.call("POST", "events/", "api: events batch", expected=201, json={"events": events})

    @task(3)
    def api_purchase(self):
        offer = random.choice(FIXTURE["offers"])
        # Three in ten buyers are contacts of the site already; the others are new.
        email = self.contact()[1] if random.random() < 0.3 else f"buyer-{uuid.uuid4().hex[:16]}@load.example"
        payload = {
            "offer": offer["id"],
            "email": email,
            "name": "Load Buyer",
            "amount": offer["price"],
            "currency": offer["currency"],
            "idempotency_key": f"load-{uuid.uuid4().hex}",
        }
        self.call("POST", "purchases/", "api: purchase", expected=201, json=payload)
