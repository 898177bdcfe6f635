"""`manage.py seed_demo`: every capability shows in the demo, and running it again changes nothing."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django_scopes import scope, scopes_disabled

from audience import segments
from contacts.models import ConsentEvent, Contact, Form, Segment
from creatorhub.models import Membership, Site, User
from emails.models import OutboundEmail
from offers.models import Access, LessonCompletion, Offer, Purchase
from tests.support.module_rows import rolled_back_after_the_module
from usage.models import OverageCase, UsageSnapshot


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    """Where the demo's files (its exports) are written, for the module."""
    return str(tmp_path_factory.mktemp("demo-media"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, demo_media):
    """Seeded twice (it must be idempotent), once for the module: the seed takes a few seconds."""
    with rolled_back_after_the_module(django_db_blocker, MEDIA_ROOT=demo_media):
        outputs = [StringIO(), StringIO()]
        for out in outputs:
            with TestCase.captureOnCommitCallbacks(execute=True):  # the emails go out, as after a commit
                call_command("seed_demo", "--demo", stdout=out)  # the tests run with DEBUG off
        yield outputs[0].getvalue()


def test_seed_demo_ends_with_where_its_emails_went_and_then_the_logins(demo, rows):
    lines = demo.splitlines()
    assert lines[-7].startswith("The demo's emails (confirmations, welcomes, grants): ")
    assert lines[-6] == "Demo data is ready. Log in at http://127.0.0.1:8000/ with:"
    assert lines[-1].startswith("  support@example.com ")


@pytest.fixture
def rows(demo, db):
    with scopes_disabled():
        yield


def test_seed_demo_prints_a_login_per_role_and_the_support_user(demo, rows):
    for email in ("owner@example.com", "admin@example.com", "assistant@example.com", "support@example.com"):
        assert email in demo
        assert User.objects.get(email=email).check_password("creatorhub-demo")
    roles = set(Membership.objects.filter(site__slug="ana-yoga").values_list("role", flat=True))
    assert roles == {"owner", "admin", "assistant"}
    assert User.objects.get(email="support@example.com").is_support


def test_the_demo_has_three_saved_segments_that_match_contacts(demo, db):
    site = Site.objects.get(slug="ana-yoga")
    with scope(site=site):
        found = {s.name: segments.matching(site, filters=s.filters) for s in Segment.objects.all()}
        emails = {
            name: sorted(e.split("@")[0] for e in qs.values_list("email", flat=True))
            for name, qs in found.items()
        }
    assert emails["VIP customers"] == ["liam.oconnor", "maya.fernandes", "sofia.rossi"]
    assert emails["Bounced or complained"] == [
        "chloe.dubois",
        "mateo.garcia",
        "yuki.tanaka",
    ]  # cleaned on Mailchimp
    assert emails["Engaged subscribers"]


def test_seed_demo_is_idempotent(demo, rows):
    assert (Site.objects.count(), User.objects.count(), Membership.objects.count()) == (2, 5, 5)
    assert Offer.objects.filter(site__slug="ana-yoga").count() == 3


def test_the_demo_shows_contacts_in_every_status_with_their_history(demo, rows):
    contacts = Contact.objects.filter(site__slug="ana-yoga")
    statuses = set(contacts.values_list("subscription_status", "unsubscribe_reason"))
    assert statuses == {
        ("subscribed", None),
        ("pending", None),
        ("never_subscribed", None),
        ("unsubscribed", "manual"),
        ("unsubscribed", "opted_out"),
        ("unsubscribed", "bounced"),
        ("unsubscribed", "complained"),
    }
    assert Form.objects.filter(site__slug="ana-yoga").count() == 2
    assert ConsentEvent.objects.filter(site__slug="ana-yoga", source="webhook").count() == 2


def test_the_demo_shows_customers_offers_and_their_emails(demo, rows):
    assert Offer.objects.filter(site__slug="ana-yoga", archived_at__isnull=False).count() == 1
    assert Purchase.objects.count() == 3
    assert Access.objects.filter(site__slug="ana-yoga", source="grant").count() == 2
    assert Contact.objects.filter(site__slug="ana-yoga", is_customer=True).count() == 5
    assert LessonCompletion.objects.count() == 2
    kinds = set(OutboundEmail.objects.values_list("kind", "status"))
    assert {
        ("purchase_confirmation", "sent"),
        ("offer_grant_confirmation", "sent"),
        ("member_welcome", "sent"),
        ("double_opt_in", "sent"),
        ("member_welcome", "suppressed"),
    } <= kinds


def test_the_demo_shows_usage_and_a_site_over_its_plan(demo, rows):
    assert UsageSnapshot.objects.filter(site__slug="ana-yoga").count() == 90
    latest = UsageSnapshot.objects.filter(site__slug="ben-codes").order_by("-day").first()
    assert latest.active_customers > latest.active_customer_limit == 1000
    case = OverageCase.objects.get(site__slug="ben-codes")
    assert case.status == "open"
    assert case.entries.count() > 1


def test_the_demos_overview_shows_its_activity(demo, db, client):
    """The figures of the home page are read from the counters, the snapshots and the last 30 days'
    rows: the demo leaves each of them something to show."""
    client.force_login(User.objects.get(email="owner@example.com"))
    overview = client.get("/app/ana-yoga/").context["overview"]
    assert overview.audience.contacts > overview.audience.customers > 0
    assert overview.audience.subscribers > 0
    assert overview.audience.new_contacts_last_30_days.last_30_days > 0
    assert overview.sales.purchases_last_30_days.last_30_days > 0
    assert overview.emails.sent_last_30_days > 0
    assert overview.usage.against_limit["active_customers"] > 0
    assert len(overview.usage.history) == 90
    ben = client.get("/app/ben-codes/").context["overview"]
    assert ben.usage.against_limit["over_limit"]
    assert ben.usage.overage_case is not None


def test_the_demo_shows_a_bulk_action_a_finished_export_and_an_expired_one(demo, rows):
    from contacts.models import BulkAction, Export, JobStatus

    action = BulkAction.objects.get(site__slug="ana-yoga")
    assert (action.kind, action.status) == ("add_tag", JobStatus.DONE)
    assert (
        action.changed
        == Contact.objects.filter(site__slug="ana-yoga", subscription_status="subscribed").count()
    )
    fresh, expired = Export.objects.filter(site__slug="ana-yoga").order_by("-created_at")
    assert (fresh.status, fresh.written, fresh.file_deleted_at) == (JobStatus.DONE, action.total, None)
    assert fresh.expires_at > fresh.finished_at
    assert (expired.file_deleted_because, expired.file) == ("expired", "")


def test_the_demo_shows_an_audit_log_of_the_team_keys_and_support(demo, rows):
    from creatorhub.models import AuditEntry

    actions = set(AuditEntry.objects.filter(site__slug="ana-yoga").values_list("action", flat=True))
    assert actions >= {
        "api_key_created",
        "support_site_viewed",
        "offer_granted",
        "import_started",
        "bulk_action_started",
        "export_started",
    }
    kinds = set(AuditEntry.objects.filter(site__slug="ana-yoga").values_list("actor_kind", flat=True))
    assert kinds >= {"team", "support"}


def test_every_dashboard_page_of_the_demo_answers_its_owner(demo, db, client, settings, demo_media):
    """The owner's pages, crawled from the Overview through the links each one shows, one page of each
    kind (its ids aside). `make demo` runs on SQLite: this shows each page there too."""
    settings.MEDIA_ROOT = demo_media  # the demo's export files
    client.force_login(User.objects.get(email="owner@example.com"))
    seen, to_visit, visited = set(), ["/app/ana-yoga/"], []
    while to_visit:
        path = to_visit.pop()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        visited.append(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        for link in re.findall(r'href="(/app/ana-yoga/[^"?#]*)', response.content.decode()):
            kind = re.sub(r"/\d+/", "/<id>/", link)
            if kind not in seen:
                seen.add(kind)
                to_visit.append(link)
    assert len(visited) >= 30, visited  # every section, a contact, an offer, a job, an email...


@pytest.mark.postgres
def test_on_postgresql_the_demo_analyses_the_tables_its_nightly_counts_read(demo, rows):
    """Its 90 nightly counts are planned with statistics of the rows it wrote, not of empty tables; only
    the tables' owner may analyse them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)",
            [["contacts_contact", "offers_access", "activity_activityevent"]],
        )
        analysed = dict(cursor.fetchall())
    assert len(analysed) == 3
    assert all(rows > 0 for rows in analysed.values()), analysed  # -1: never analysed


def test_seed_demo_refuses_with_debug_off_unless_told_it_is_a_demo(db, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with scopes_disabled():
        users = User.objects.count()
    with pytest.raises(CommandError, match="Run it with --demo if this deployment is a demo"):
        call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        assert User.objects.count() == users
