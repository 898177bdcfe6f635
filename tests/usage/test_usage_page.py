"""The creator's usage page and `usage/` endpoint: today's active customers against the plan's
limit, a warning from 80%, an over-limit message that says nothing is blocked, the 90-day chart; owners
only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from activity.models import ActivityKind
from activity.services import NewEvent, record_events
from creatorhub.models import Plan
from offers.services.access import grant_offer
from offers.services.catalog import create_offer
from tests.factories import ContactFactory
from usage.models import UsageSnapshot

pytestmark = pytest.mark.django_db

URL = "/app/ana-yoga/usage/"
API = "/api/v1/sites/ana-yoga/usage/"


@pytest.fixture
def ten_plan(site):
    plan = Plan.objects.create(name="Ten", contact_limit=100, active_customer_limit=10, price=5)
    site.plan = plan
    site.save()
    return plan


def active_customers(site, count):
    """`count` customers who logged in an hour ago, and one customer who has been quiet."""
    now = timezone.now()
    with scope(site=site):
        offer = create_offer(site, title="Course")
        people = []
        for n in range(count + 1):
            contact = ContactFactory(site=site, email=f"c{n}@ana.example")
            grant_offer(site, offer=offer, contact=contact, send_grant_email=False)
            people.append(contact)
        record_events(
            site,
            [
                NewEvent(contact=p, kind=ActivityKind.LOGIN, occurred_at=now - timedelta(hours=1))
                for p in people[:count]
            ],
        )


def live_count(monkeypatch, active):
    """For the thresholds: today's live count, as the selector would give it."""
    monkeypatch.setattr("usage.selectors.plan.active_customers_on", lambda site, day: active)


def snapshots(site, values):
    """One snapshot a day for the days before today, the last value yesterday."""
    today = site.today()
    with scope(site=site):
        for back, value in enumerate(reversed(values), start=1):
            UsageSnapshot.objects.create(
                site=site,
                day=today - timedelta(days=back),
                active_customers=value,
                customers=value,
                contacts=value,
                active_customer_limit=site.plan.active_customer_limit,
                contact_limit=site.plan.contact_limit,
            )


def test_the_page_shows_todays_active_customers_against_the_limit_and_the_plan(client, owner, site, ten_plan):
    active_customers(site, 3)
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 of 10" in html
    assert "30%" in html
    assert "Ten: 10 active customers" in html
    assert "What counts as active" in html
    assert "30 days" in html
    assert "You are at" not in html
    assert "over your plan" not in html


def test_the_usage_tab_shows_for_owners(client, owner, site):
    client.force_login(owner)
    assert f'href="{URL}"' in client.get("/app/ana-yoga/").content.decode()


def test_a_real_80_percent_warns(client, owner, site, ten_plan):
    active_customers(site, 8)
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "You are at 80% of your plan&#x27;s 10 active customers" in html.replace("'", "&#x27;")


@pytest.mark.parametrize(
    ("limit_plan", "active", "warning"),
    [("Growth", 8_400, "You are at 84% of your plan's 10,000 active customers"), ("hundred", 80, "80%")],
)
def test_a_warning_from_80_percent(client, owner, site, monkeypatch, limit_plan, active, warning):
    if limit_plan == "hundred":
        site.plan = Plan.objects.create(
            name="Hundred", contact_limit=1000, active_customer_limit=100, price=7
        )
    else:
        site.plan = Plan.objects.get(name="Growth")
    site.save()
    live_count(monkeypatch, active)
    client.force_login(owner)
    html = client.get(URL).content.decode().replace("&#x27;", "'")
    assert "You are at" in html
    assert warning in html
    assert "over your plan" not in html


def test_79_percent_does_not_warn(client, owner, site, monkeypatch):
    site.plan = Plan.objects.create(name="Hundred", contact_limit=1000, active_customer_limit=100, price=7)
    site.save()
    live_count(monkeypatch, 79)
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "79 of 100" in html
    assert "You are at" not in html


def test_over_the_limit_says_so_and_that_nothing_is_blocked(client, owner, site, monkeypatch):
    live_count(monkeypatch, 1_250)  # Basic: 1,000
    client.force_login(owner)
    html = client.get(URL).content.decode().replace("&#x27;", "'")
    assert "You are over your plan's limit: 1,250 active customers" in html
    assert "Nothing is blocked" in html
    assert "You are at" not in html


def test_the_chart_draws_the_snapshots_with_a_title_and_a_table(client, owner, site, ten_plan):
    snapshots(site, [2, 4, 6, 9])
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert '<svg viewBox="0 0 360 200" role="img" aria-labelledby="usage-title"' in html
    assert 'preserveAspectRatio="none"' not in html
    assert '<path class="line"' in html
    assert '<title id="usage-title">Active customers over the last 90 days: 2 on' in html
    assert "against a limit of 10" in html
    assert '<desc id="usage-desc">Figures for 4 of the 90 days.' in html
    assert '<details class="chart-data">' in html
    # the table, newest first
    assert html.index('data-label="Active customers">9<') < html.index('data-label="Active customers">2<')


def test_the_chart_reads_its_axes_the_limit_and_each_day(client, owner, site, ten_plan):
    snapshots(site, [2, 4, 6, 9])
    yesterday = site.today() - timedelta(days=1)
    first_shown = yesterday - timedelta(days=89)
    client.force_login(owner)
    html = client.get(URL).content.decode()
    for value in ("0", "5", "10"):  # the value axis reaches the limit
        assert f'text-anchor="end">{value}</text>' in html
    assert f">{first_shown:%b} {first_shown.day}</text>" in html  # the dates below
    assert f">{yesterday:%b} {yesterday.day}</text>" in html
    assert ">Plan limit 10</text>" in html
    assert f"<title>{yesterday:%b} {yesterday.day}, {yesterday.year}: 9 active customers</title>" in html
    assert html.count("active customers</title>") == 4
    assert '<text class="last-value"' in html


def test_the_chart_drawn_again_shows_a_new_nights_figure_and_a_new_plan_at_the_next_view(
    client, owner, site, ten_plan
):
    snapshots(site, [2, 4])
    client.force_login(owner)
    assert ">Plan limit 10</text>" in client.get(URL).content.decode()
    with scope(site=site):
        UsageSnapshot.objects.filter(active_customers=4).update(active_customers=7)
    site.plan = Plan.objects.get(name="Growth")
    site.save()

    html = client.get(URL).content.decode()

    assert 'data-label="Active customers">7<' in html
    assert 'data-label="Active customers">4<' not in html
    assert ">Plan limit 10,000</text>" in html


def test_without_snapshots_the_page_says_they_come_each_night(client, owner, site):
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "No daily figures yet" in html
    assert '<path class="line"' not in html
    assert ">Plan limit 1,000</text>" in html  # Basic


@pytest.mark.parametrize("role", ["admin", "assistant"])
def test_only_owners_see_usage(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(request.getfixturevalue(role))
    assert api.get(API).status_code == 403


def test_another_sites_owner_gets_a_404(client, api_client, other_owner, site):
    client.force_login(other_owner)
    assert client.get(URL).status_code == 404
    api_client.force_login(other_owner)
    assert api_client.get(API).status_code == 404


def test_anonymous_visitors_go_to_the_login_page(client, site):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_usage_api_shape(api_client, owner, site, ten_plan):
    active_customers(site, 9)
    snapshots(site, list(range(1, 96)))  # 95 days: the last 90 are given
    api_client.force_login(owner)
    body = api_client.get(API).json()
    assert set(body) == {
        "day",
        "active_customers",
        "active_customer_limit",
        "share",
        "warning",
        "over_limit",
        "plan",
        "history",
    }
    assert body["day"] == site.today().isoformat()
    assert (body["active_customers"], body["active_customer_limit"]) == (9, 10)
    assert body["share"] == 0.9
    assert (body["warning"], body["over_limit"]) == (True, False)
    assert body["plan"]["name"] == "Ten"
    assert body["plan"]["active_customer_limit"] == 10
    history = body["history"]
    assert len(history) == 90
    assert set(history[0]) == {"day", "active_customers", "active_customer_limit"}
    assert history[0]["active_customers"] == 6
    assert history[-1]["active_customers"] == 95
    assert history[-1]["day"] == (site.today() - timedelta(days=1)).isoformat()


def test_the_usage_api_over_the_limit(api_client, owner, site, monkeypatch):
    live_count(monkeypatch, 1_001)
    api_client.force_login(owner)
    body = api_client.get(API).json()
    assert (body["warning"], body["over_limit"], body["share"]) == (False, True, 1.001)
    assert body["history"] == []
