"""The Overview, a site's home page: its figures today and their trend, each linking to the page that
shows it, the plan warning, the jobs running now, the first steps of a new site, what each role sees, its
query budget, and that another site's rows never show."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from contacts import services as contact_services
from contacts.models import BulkAction, BulkActionKind, Import, ImportStatus, JobStatus
from contacts.services import Consent
from creatorhub.models import Plan
from emails.models import EmailKind, EmailStatus, OutboundEmail
from offers.models import GrantJob
from offers.services.access import grant_offer, record_purchase
from offers.services.catalog import create_offer
from tests.factories import ContactFactory
from usage.models import OverageCase, UsageSnapshot
from usage.services import compute_usage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
URL = "/app/ana-yoga/"
QUERY_BUDGET = 16


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def page(client, user, url=URL) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, label: str) -> str:
    """The figure shown under `label` (the text of its link), with its note if it has one."""
    found = re.search(
        rf">{re.escape(label)}</a></dt><dd class=\"figure\">(.*?)</dd>(?:<dd class=\"note\">(.*?)</dd>)?",
        html,
    )
    assert found, f"no figure {label!r}"
    return " | ".join(part for part in found.groups() if part)


def subscribed_contacts(site, count, *, prefix="fan"):
    with scope(site=site):
        for n in range(count):
            contact = ContactFactory(site=site, email=f"{prefix}{n}@example.org")
            contact_services.subscribe(site, contact=contact, by=Consent(source="api", note="Signed up"))


def buy(site, offer, email, key):
    with scope(site=site):
        record_purchase(
            site, offer=offer, email=email, amount=Decimal(10), currency="USD", idempotency_key=key
        )


def grant(site, offer, email):
    with scope(site=site):
        contact = ContactFactory(site=site, email=email)
        grant_offer(site, offer=offer, contact=contact, send_grant_email=False)


def an_offer(site, title="Yoga Basics"):
    with scope(site=site):
        return create_offer(site, title=title, price=Decimal(10))


def emails(site, status, count, *, prefix=None):
    with scope(site=site):
        for n in range(count):
            OutboundEmail.objects.create(
                site=site,
                kind=EmailKind.PURCHASE_CONFIRMATION,
                to_email=f"{status}{n}@example.org",
                dedupe_key=f"{prefix or status}:{n}",
                status=status,
            )


def snapshot(site, day, *, contacts=0, active_customers=0, purchases=None, grants=None):
    with scope(site=site):
        UsageSnapshot.objects.create(
            site=site,
            day=day,
            active_customers=active_customers,
            customers=active_customers,
            contacts=contacts,
            purchases=purchases,
            grants=grants,
            active_customer_limit=site.plan.active_customer_limit,
            contact_limit=site.plan.contact_limit,
        )


@pytest.fixture
def ten_plan(site):
    site.plan = Plan.objects.create(name="Ten", contact_limit=100, active_customer_limit=10, price=5)
    site.save()
    return site.plan


# -- The figures -----------------------------------------------------------------------------------------


def test_the_figures_are_what_the_site_holds(client, site, owner):
    subscribed_contacts(site, 3)
    ContactFactory(site=site, email="quiet@example.org")
    offer = an_offer(site)
    buy(site, offer, "buyer@example.org", "order-1")
    grant(site, offer, "friend@example.org")
    emails(site, EmailStatus.SENT, 4)
    emails(site, EmailStatus.FAILED, 2)
    emails(site, EmailStatus.SUPPRESSED, 1)

    html = page(client, owner)

    assert figure(html, "Contacts") == "6"
    assert figure(html, "Subscribers") == "3 | receive your marketing emails"
    assert figure(html, "Customers") == "2 | hold one of your offers"
    assert figure(html, "New contacts, last 30 days") == "6 | +6 vs the 30 days before; added less deleted"
    assert figure(html, "Purchases").startswith("1 | ")
    assert figure(html, "Grants").startswith("1 | ")
    assert figure(html, "Sent") == "4"
    assert figure(html, "Failed") == "2 | the email log says why"
    assert figure(html, "Suppressed").startswith("1 | ")
    assert "First steps" not in html


def test_emails_older_than_30_days_and_queued_emails_are_not_counted(client, site, owner, clock):
    ContactFactory(site=site)
    clock.move_to(NOW - timedelta(days=31), tick=False)
    emails(site, EmailStatus.SENT, 3, prefix="old")
    clock.move_to(NOW, tick=False)
    emails(site, EmailStatus.QUEUED, 2)
    emails(site, EmailStatus.SENT, 1)

    assert figure(page(client, owner), "Sent") == "1"


def test_purchases_and_grants_beside_the_30_days_before(client, site, owner, clock):
    offer = an_offer(site)
    clock.move_to(NOW - timedelta(days=70), tick=False)
    buy(site, offer, "long-ago@example.org", "order-0")  # in neither window
    clock.move_to(NOW - timedelta(days=45), tick=False)
    buy(site, offer, "a@example.org", "order-1")
    buy(site, offer, "b@example.org", "order-2")
    grant(site, offer, "g1@example.org")
    grant(site, offer, "g2@example.org")
    clock.move_to(NOW - timedelta(days=2), tick=False)
    for n in range(3):
        buy(site, offer, f"new{n}@example.org", f"order-new-{n}")
    grant(site, offer, "g3@example.org")
    clock.move_to(NOW, tick=False)

    html = page(client, owner)

    assert figure(html, "Purchases") == "3 | +1 vs the 30 days before"
    assert figure(html, "Grants") == "1 | \N{MINUS SIGN}1 vs the 30 days before"


def test_with_a_nightly_count_for_each_day_purchases_and_grants_are_summed_not_counted(client, site, owner):
    """Each of the 59 days before today has its snapshot (a purchase a day, two grants on the days of
    the last 30): the page adds today's purchases, counted, to the snapshots' sums."""
    offer = an_offer(site)
    today = NOW.date()
    for back in range(1, 60):
        snapshot(site, today - timedelta(days=back), purchases=1, grants=2 if back < 30 else 0)
    buy(site, offer, "today@example.org", "order-today")

    with CaptureQueriesContext(connection) as queries:
        html = page(client, owner)

    assert figure(html, "Purchases") == "30 | Same as the 30 days before"  # 1 today and 29, against 30
    assert figure(html, "Grants") == "58 | +58 vs the 30 days before"
    window_counts = [q["sql"] for q in queries if "offers_purchase" in q["sql"] and "FILTER" in q["sql"]]
    assert window_counts == []  # the window was not counted


def test_the_nightly_count_keeps_the_days_purchases_and_grants(site):
    offer = an_offer(site)
    buy(site, offer, "a@example.org", "order-a")
    buy(site, offer, "b@example.org", "order-b")
    grant(site, offer, "g@example.org")
    with scope(site=site):
        stored = compute_usage(site, day=NOW.date())
        yesterday = compute_usage(site, day=NOW.date() - timedelta(days=1))
    assert (stored.purchases, stored.grants) == (2, 1)
    assert (yesterday.purchases, yesterday.grants) == (0, 0)


def test_new_contacts_are_todays_count_less_the_nightly_counts_30_and_60_days_ago(client, site, owner):
    site.created_at = NOW - timedelta(days=200)
    site.save()
    today = NOW.date()
    snapshot(site, today - timedelta(days=60), contacts=2)
    snapshot(site, today - timedelta(days=30), contacts=5)
    subscribed_contacts(site, 9)

    html = page(client, owner)

    assert figure(html, "Contacts") == "9"
    assert figure(html, "New contacts, last 30 days") == "4 | +1 vs the 30 days before; added less deleted"


def test_new_contacts_are_not_guessed_without_the_nightly_count(client, site, owner):
    site.created_at = NOW - timedelta(days=200)
    site.save()
    subscribed_contacts(site, 2)

    html = page(client, owner)

    assert figure(html, "Contacts") == "2"
    assert "New contacts" not in html


def test_each_figure_links_to_the_page_that_shows_it(client, site, owner):
    subscribed_contacts(site, 1)
    html = page(client, owner)
    links = re.findall(r'<dt><a href="([^"]+)">', html)
    assert len(links) == 10
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
    assert '<a href="/app/ana-yoga/contacts/?segment=subscribed">Subscribers</a>' in html
    assert '<a href="/app/ana-yoga/emails/log/?status=failed">Failed</a>' in html
    assert '<a href="/app/ana-yoga/usage/">Active customers</a>' in html


def test_the_new_contacts_link_shows_the_contacts_added_in_the_last_30_days(client, site, owner, clock):
    clock.move_to(NOW - timedelta(days=40), tick=False)
    ContactFactory(site=site, email="old@example.org")
    clock.move_to(NOW, tick=False)
    ContactFactory(site=site, email="new@example.org")
    link = re.search(r'<a href="([^"]+)">New contacts', page(client, owner)).group(1).replace("&amp;", "&")

    shown = client.get(link).content.decode()

    assert "new@example.org" in shown
    assert "old@example.org" not in shown


# -- Active customers and the plan ----------------------------------------------------------------------


def test_active_customers_are_the_latest_nightly_count_with_the_chart(client, site, owner, ten_plan):
    subscribed_contacts(site, 1)
    today = NOW.date()
    snapshot(site, today - timedelta(days=2), active_customers=4)
    snapshot(site, today - timedelta(days=1), active_customers=5)

    html = page(client, owner)

    assert figure(html, "Active customers") == (
        '5 <span class="of">of 10</span> | 50% of the Ten plan\'s limit, on Jun 14 (counted each night)'
    )
    assert '<figure class="line-chart">' in html
    assert "Active customers over the last 90 days" in html
    assert "over your plan" not in html
    assert "You are at" not in html


def test_the_plan_warning_shows_over_the_limit_and_says_nothing_is_blocked(client, site, owner, ten_plan):
    subscribed_contacts(site, 1)
    snapshot(site, NOW.date() - timedelta(days=1), active_customers=12)

    html = page(client, owner)

    assert "You are over your plan's limit: 12 active customers, the Ten plan includes 10." in html
    assert "Nothing is blocked" in html


def test_the_plan_warning_starts_at_80_percent(client, site, owner, ten_plan):
    subscribed_contacts(site, 1)
    snapshot(site, NOW.date() - timedelta(days=1), active_customers=8)

    assert "You are at 80% of your plan's 10 active customers." in page(client, owner)


def test_one_active_customer_and_a_plan_of_one_read_in_the_singular(client, site, owner):
    site.plan = Plan.objects.create(name="Solo", contact_limit=1, active_customer_limit=1, price=1)
    site.save()
    subscribed_contacts(site, 1)
    yesterday = NOW.date() - timedelta(days=1)
    snapshot(site, yesterday - timedelta(days=1), active_customers=2)
    snapshot(site, yesterday, active_customers=1)

    html = page(client, owner)

    assert "Solo</a>: 1 contact, 1 active customer</dd>" in html
    assert "You are at 100% of your plan's 1 active customer." in html
    assert "<title>Jun 14, 2026: 1 active customer</title>" in html
    assert "<title>Jun 13, 2026: 2 active customers</title>" in html


def test_one_active_customer_over_the_limit_reads_in_the_singular(client, site, owner):
    site.plan = Plan.objects.create(name="Trial", contact_limit=10, active_customer_limit=0, price=0)
    site.save()
    subscribed_contacts(site, 1)
    snapshot(site, NOW.date() - timedelta(days=1), active_customers=1)

    assert "over your plan's limit: 1 active customer, the Trial plan includes 0." in page(client, owner)


def test_an_open_overage_case_shows(client, site, owner, ten_plan):
    subscribed_contacts(site, 1)
    snapshot(site, NOW.date() - timedelta(days=1), active_customers=12)
    with scope(site=site):
        OverageCase.objects.create(
            site=site,
            opened_on=NOW.date() - timedelta(days=3),
            last_over_on=NOW.date() - timedelta(days=1),
            active_customers=12,
            peak_active_customers=12,
            active_customer_limit=10,
        )

    html = page(client, owner)

    assert "Our support team is looking at your usage</strong> (since Jun 12, 2026; open)" in html


def test_before_the_first_night_active_customers_say_so(client, site, owner):
    subscribed_contacts(site, 1)
    html = page(client, owner)
    assert figure(html, "Active customers") == (
        "Not counted yet | counted each night: the first figure comes tomorrow"
    )


def test_the_team_and_the_plan_show_modestly(client, site, owner, admin):
    html = page(client, owner)
    assert '<dt>Team</dt><dd><a href="/app/ana-yoga/settings/team/">2 members</a></dd>' in html
    assert "Basic</a>: 10,000 contacts, 1,000 active customers" in html


# -- Jobs running now -----------------------------------------------------------------------------------


def test_jobs_running_now_show_their_progress_and_link_to_their_pages(client, site, owner):
    subscribed_contacts(site, 1)
    offer = an_offer(site)
    with scope(site=site):
        imp = Import.objects.create(
            site=site,
            filename="spring.csv",
            status=ImportStatus.RUNNING,
            progress=40,
            encoding="utf-8",
            delimiter=",",
        )
        Import.objects.create(
            site=site, filename="done.csv", status=ImportStatus.DONE, encoding="utf-8", delimiter=","
        )
        action = BulkAction.objects.create(
            site=site,
            kind=BulkActionKind.ADD_TAG,
            selection={"segment": "subscribed"},
            description="Subscribed",
            status=JobStatus.QUEUED,
        )
        job = GrantJob.objects.create(
            site=site, offer=offer, target={"segment": "all"}, status=JobStatus.RUNNING, total=10, granted=3
        )

    html = page(client, owner)

    assert f'<a href="/app/ana-yoga/imports/{imp.pk}/">Import: spring.csv</a>' in html
    assert 'value="40"' in html
    assert f'<a href="/app/ana-yoga/contacts/actions/{action.pk}/">Add a tag: Subscribed</a>' in html
    assert f'<a href="/app/ana-yoga/grant-jobs/{job.pk}/">Grant: Yoga Basics</a>' in html
    assert 'value="30"' in html
    assert "done.csv" not in html


def test_jobs_running_now_are_listed_newest_first_and_only_those_the_role_may_open(client, site, assistant):
    offer = an_offer(site)
    with scope(site=site):
        Import.objects.create(
            site=site, filename="secret.csv", status=ImportStatus.QUEUED, encoding="utf-8", delimiter=","
        )
        GrantJob.objects.create(
            site=site,
            offer=offer,
            target={"segment": "all"},
            status=JobStatus.QUEUED,
            created_at=timezone.now() - timedelta(minutes=5),
        )
        BulkAction.objects.create(
            site=site,
            kind=BulkActionKind.REMOVE_TAG,
            selection={"segment": "all"},
            description="Everyone",
            status=JobStatus.RUNNING,
            created_at=timezone.now() - timedelta(minutes=1),
        )

    html = page(client, assistant)

    assert "secret.csv" not in html, "imports are not the assistant's to open"
    assert html.index("Remove a tag: Everyone") < html.index("Grant: Yoga Basics"), "the newest first"


def test_nothing_running_shows_no_section(client, site, owner):
    subscribed_contacts(site, 1)
    assert "Running now" not in page(client, owner)


# -- A new site -----------------------------------------------------------------------------------------


def test_an_empty_site_shows_the_first_steps_its_role_may_take(client, site, owner, admin, assistant):
    html = page(client, owner)
    assert "First steps" in html
    for url in ["contacts/new/", "imports/new/", "offers/new/", "settings/api-keys/"]:
        assert f'href="/app/ana-yoga/{url}"' in html
    assert "<dt><a" not in html, "no empty figures"

    html = page(client, admin)
    assert 'href="/app/ana-yoga/offers/new/"' in html
    assert 'href="/app/ana-yoga/settings/api-keys/"' not in html

    html = page(client, assistant)
    assert "First steps" in html
    assert 'href="/app/ana-yoga/contacts/new/"' not in html
    assert "Its owners and admins add them" in html


def test_the_first_steps_go_once_there_are_contacts(client, site, owner):
    ContactFactory(site=site)
    assert "First steps" not in page(client, owner)


def test_the_first_steps_go_once_there_is_an_offer(client, site, owner):
    an_offer(site)
    assert "First steps" not in page(client, owner)


# -- Roles ----------------------------------------------------------------------------------------------


def test_each_role_sees_what_it_may_read(client, site, owner, admin, assistant):
    subscribed_contacts(site, 2)
    an_offer(site)
    with scope(site=site):
        Import.objects.create(
            site=site, filename="spring.csv", status=ImportStatus.RUNNING, encoding="utf-8", delimiter=","
        )

    html = page(client, assistant)
    assert figure(html, "Contacts") == "2"
    assert figure(html, "Purchases").startswith("0")
    assert "Automated emails" not in html
    assert "Active customers" not in html
    assert "spring.csv" not in html, "imports are for the roles that run them"
    assert "Plan</dt>" not in html

    html = page(client, admin)
    assert figure(html, "Sent") == "0"
    assert "spring.csv" in html
    assert "Active customers" not in html
    assert "Plan</dt>" not in html

    html = page(client, owner)
    assert "Active customers" in html
    assert "Plan</dt>" in html


# -- Speed ----------------------------------------------------------------------------------------------


def overview_queries(client, user) -> list[str]:
    client.force_login(user)
    client.get(URL)  # the session and the caches are warm, as on a second view
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return [query["sql"] for query in queries]


def test_the_page_keeps_its_query_budget_whatever_the_number_of_contacts(
    client, site, owner, django_assert_max_num_queries
):
    offer = an_offer(site)
    buy(site, offer, "buyer@example.org", "order-1")
    subscribed_contacts(site, 3)
    few = overview_queries(client, owner)
    subscribed_contacts(site, 40, prefix="more")
    with scope(site=site):
        Import.objects.create(
            site=site, filename="spring.csv", status=ImportStatus.RUNNING, encoding="utf-8", delimiter=","
        )
    many = overview_queries(client, owner)

    assert len(many) == len(few)
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(URL)


def test_no_query_counts_the_contacts_table(client, site, owner):
    subscribed_contacts(site, 3)
    for sql in overview_queries(client, owner):
        assert not ("COUNT(" in sql.upper() and 'FROM "contacts_contact"' in sql), sql


# -- Tenancy --------------------------------------------------------------------------------------------


def test_another_sites_rows_are_never_counted(client, site, other_site, owner):
    subscribed_contacts(site, 1)
    subscribed_contacts(other_site, 5, prefix="ben")
    offer = an_offer(other_site, "Python Bootcamp")
    buy(other_site, offer, "student@example.org", "ben-1")
    grant(other_site, offer, "friend@example.org")
    emails(other_site, EmailStatus.FAILED, 3)
    with scope(site=other_site):
        Import.objects.create(
            site=other_site, filename="ben.csv", status=ImportStatus.RUNNING, encoding="utf-8", delimiter=","
        )

    html = page(client, owner)

    assert figure(html, "Contacts") == "1"
    assert figure(html, "Customers").startswith("0")
    assert figure(html, "Purchases").startswith("0")
    assert figure(html, "Grants").startswith("0")
    assert figure(html, "Failed") == "0"
    assert "ben.csv" not in html


def test_another_sites_user_gets_a_404(client, site, other_owner):
    subscribed_contacts(site, 1)
    client.force_login(other_owner)
    assert client.get(URL).status_code == 404


def test_a_member_of_one_site_gets_a_404_on_another(client, site, other_site, owner):
    client.force_login(owner)
    assert client.get(f"/app/{other_site.slug}/").status_code == 404


def test_the_page_asks_for_login(client, site):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_is_the_overview_tab(client, site, owner):
    assert 'href="/app/ana-yoga/" aria-current="page">Overview</a>' in page(client, owner)
