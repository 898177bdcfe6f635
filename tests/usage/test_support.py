"""Support staff's pages and API: the overage queue sorted by how far over, a site's usage
and forecast, a case's history and the work on it. Support staff see sites, plans, usage figures and
cases, never contacts; everyone else is refused."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from django.contrib.auth.models import Permission
from django_scopes import scope
from rest_framework.test import APIClient

from creatorhub.models import Plan
from tests.factories import ContactFactory, SiteFactory, UserFactory
from usage import forecast as fc
from usage.models import OverageCase, OverageCaseEntry, OverageOutcome, OverageStatus, UsageSnapshot

pytestmark = pytest.mark.django_db

SECRET_EMAIL = "maya.secret@customer.example"
D0 = date(2025, 3, 1)


def series(values, start=D0):
    return [(start + timedelta(days=n), v) for n, v in enumerate(values)]


# The forecast, on hand-computed series --------------------------------------------------------------


def test_a_straight_rising_line():
    trend = fc.linear_trend(series([10, 12, 14, 16, 18]))
    assert (trend.slope, trend.level, trend.points) == (2, 18, 5)
    # 18 + 2x > 25 first for x = 4
    outlook = fc.forecast(series([10, 12, 14, 16, 18]), 25)
    assert outlook.reason == fc.Reason.RISING
    assert outlook.crosses_on == D0 + timedelta(days=4 + 4)


def test_reaching_the_limit_is_not_crossing_it():
    # 14 + 2x: 20 on x = 3 (at the limit), 22 on x = 4 (over)
    assert fc.forecast(series([10, 12, 14]), 20).crosses_on == D0 + timedelta(days=2 + 4)


def test_a_noisy_series():
    # x = -3..0, y = 1, 3, 2, 4: slope = 4 / 5 = 0.8, level = 2.5 + 0.8 * 1.5 = 3.7;
    # 3.7 + 0.8x > 10 <=> x > 7.875: day 8 after the last
    trend = fc.linear_trend(series([1, 3, 2, 4]))
    assert trend.slope == Fraction(4, 5)
    assert trend.level == Fraction(37, 10)
    outlook = fc.forecast(series([1, 3, 2, 4]), 10)
    assert outlook.crosses_on == D0 + timedelta(days=3 + 8)
    assert outlook.as_dict()["slope_per_day"] == 0.8


def test_missing_days_are_gaps_not_steps():
    points = [(D0, 0), (D0 + timedelta(days=2), 2), (D0 + timedelta(days=4), 4)]
    assert fc.linear_trend(points).slope == 1


def test_only_the_last_n_days_count():
    old = series([5_000] * 10)
    recent = series(list(range(100, 130)), start=D0 + timedelta(days=10))  # 30 days, +1 a day
    trend = fc.linear_trend(old + recent)
    assert (trend.slope, trend.points) == (1, 30)
    assert fc.linear_trend(old + recent, days=40).slope < 0


@pytest.mark.parametrize(
    ("values", "limit", "reason"),
    [
        ([5, 5, 5], 10, fc.Reason.FLAT),
        ([9, 7, 5], 10, fc.Reason.FALLING),
        ([8, 10, 12], 10, fc.Reason.ALREADY_OVER),
        ([8], 10, fc.Reason.NOT_ENOUGH_DATA),
        ([], 10, fc.Reason.NOT_ENOUGH_DATA),
    ],
)
def test_no_crossing_day_and_why(values, limit, reason):
    outlook = fc.forecast(series(values), limit)
    assert outlook.crosses_on is None
    assert outlook.reason == reason
    assert outlook.message


def test_a_trend_already_above_a_latest_figure_under_the_limit_crosses_tomorrow():
    # 0, 0, 30, 9: slope 3.6, level 16.5 > 10 while the latest figure (9) is under
    assert fc.forecast(series([0, 0, 30, 9]), 10).crosses_on == D0 + timedelta(days=4)


# Fixtures ----------------------------------------------------------------------------------------------


def make_support(email="sam@support.example"):
    user = UserFactory(email=email, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="support", content_type__app_label="creatorhub")
    )
    return user


@pytest.fixture
def support():
    return make_support()


def open_case(site, active, limit, *, status=OverageStatus.OPEN, opened_on=D0, outcome=""):
    with scope(site=site):
        case = OverageCase.objects.create(
            site=site,
            status=status,
            outcome=outcome,
            opened_on=opened_on,
            last_over_on=opened_on,
            active_customers=active,
            peak_active_customers=active,
            active_customer_limit=limit,
        )
        OverageCaseEntry.objects.create(
            site=site, case=case, text=f"Opened on {opened_on}.", to_status="open"
        )
    return case


@pytest.fixture
def world(site, other_site):
    """Three sites over their limits by 50, 400 and 10 (one case resolved), and a contact on one."""
    third = SiteFactory(slug="cleo-cooks", name="Cleo Cooks")
    with scope(site=site):
        ContactFactory(site=site, email=SECRET_EMAIL, name="Maya Secret")
    return {
        "ana": open_case(site, 1_050, 1_000),
        "ben": open_case(other_site, 1_400, 1_000, status=OverageStatus.CONTACTED),
        "cleo": open_case(third, 1_010, 1_000, opened_on=D0 + timedelta(days=3)),
        "old": open_case(third, 1_900, 1_000, status=OverageStatus.RESOLVED, outcome=OverageOutcome.UPGRADED),
    }


def support_urls(world):
    case = world["ana"].pk
    pages = ["/support/", "/support/?status=resolved", "/support/sites/ana-yoga/", f"/support/cases/{case}/"]
    api = [
        "/api/v1/support/cases/",
        f"/api/v1/support/cases/{case}/",
        "/api/v1/support/sites/ana-yoga/usage/",
    ]
    return pages, api


# Who may see them ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "plain_staff", "superuser_without_staff"])
def test_anyone_but_support_staff_gets_a_403(client, request, world, who):
    if who == "owner":
        user = request.getfixturevalue("owner")
    elif who == "plain_staff":
        user = UserFactory(is_staff=True)
    else:
        user = UserFactory(is_superuser=True, is_staff=False)
    pages, api = support_urls(world)
    client.force_login(user)
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/support/cases/{world['ana'].pk}/", {"note": "hi"}).status_code == 403
    api_client = APIClient()
    api_client.force_login(user)
    for url in api:
        assert api_client.get(url).status_code == 403, url
    assert api_client.patch(api[1], {"note": "hi"}, format="json").status_code == 403
    with scope(site=world["ana"].site):
        assert OverageCaseEntry.objects.filter(text="hi").count() == 0


def test_anonymous_visitors_go_to_the_login_page_or_get_a_401(client, api_client, world):
    pages, api = support_urls(world)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    for url in api:
        assert api_client.get(url).status_code == 401, url


def test_a_site_api_key_cannot_use_the_support_api(api_client, owner, site, world):
    from creatorhub import services

    with scope(site=site):
        _, secret = services.create_api_key(site, acting_user=owner, name="Zapier", role="owner")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.get("/api/v1/support/cases/").status_code == 403


def test_support_staff_are_no_site_members_and_see_no_contacts(client, api_client, support, world):
    client.force_login(support)
    for url in ["/app/ana-yoga/contacts/", "/app/ana-yoga/", "/app/ana-yoga/usage/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET_EMAIL not in response.content.decode()
    api_client.force_login(support)
    assert api_client.get("/api/v1/sites/ana-yoga/contacts/").status_code == 404
    pages, api = support_urls(world)
    for url in pages:
        body = client.get(url).content.decode()
        assert SECRET_EMAIL not in body
        assert "Maya Secret" not in body
    for url in api:
        assert SECRET_EMAIL not in api_client.get(url).content.decode()


def test_the_header_links_support_staff_to_the_queue(client, support, owner, world):
    client.force_login(support)
    assert 'href="/support/">Support</a>' in client.get("/support/").content.decode()
    client.force_login(owner)
    assert 'href="/support/"' not in client.get("/app/ana-yoga/").content.decode()


# The queue -------------------------------------------------------------------------------------------


def test_the_queue_is_sorted_by_how_far_over_and_hides_resolved_cases(client, support, world):
    client.force_login(support)
    html = client.get("/support/").content.decode()
    assert html.index("Ben Codes") < html.index("Ana&#x27;s Yoga Studio") < html.index("Cleo Cooks")
    assert "1400 / 1000" in html
    assert '<td data-label="Over by" class="over-by">400</td>' in html
    assert "Upgraded" not in html  # the resolved case
    assert "ben-codes" in html
    assert "Basic" in html


@pytest.mark.parametrize(
    ("status", "cases"), [("open", ["ana", "cleo"]), ("contacted", ["ben"]), ("resolved", ["old"])]
)
def test_the_queue_filters_by_status(client, api_client, support, world, status, cases):
    client.force_login(support)
    html = client.get(f"/support/?status={status}").content.decode()
    shown = [
        name for name in ["ana", "ben", "cleo", "old"] if f'href="/support/cases/{world[name].pk}/"' in html
    ]
    assert shown == cases
    api_client.force_login(support)
    body = api_client.get(f"/api/v1/support/cases/?status={status}").json()
    assert [c["id"] for c in body["results"]] == [world[name].pk for name in cases]


def test_the_case_list_api(api_client, support, world):
    api_client.force_login(support)
    body = api_client.get("/api/v1/support/cases/").json()
    assert [c["id"] for c in body["results"]] == [world["ben"].pk, world["ana"].pk, world["cleo"].pk]
    first = body["results"][0]
    assert first["site"] == {
        "slug": "ben-codes",
        "name": "Ben Codes",
        "time_zone": first["site"]["time_zone"],
        "plan": first["site"]["plan"],
    }
    assert first["site"]["plan"]["name"] == "Basic"
    assert (first["active_customers"], first["active_customer_limit"], first["over_by"]) == (1400, 1000, 400)
    assert first["status"] == "contacted"
    assert first["assignee"] is None
    all_cases = api_client.get("/api/v1/support/cases/?status=all").json()["results"]
    assert all_cases[0]["id"] == world["old"].pk
    assert api_client.get("/api/v1/support/cases/?status=nope").status_code == 400


# A case ------------------------------------------------------------------------------------------------


def test_a_note_a_status_change_and_an_assignee_are_in_the_history(client, support, world):
    colleague = make_support("kim@support.example")
    UserFactory(email="notsupport@example.com", is_staff=True)
    case = world["ana"]
    url = f"/support/cases/{case.pk}/"
    client.force_login(support)
    page = client.get(url).content.decode()
    assert "kim@support.example" in page
    assert "notsupport@example.com" not in page  # only support staff can be assigned
    response = client.post(url, {"note": "Emailed Ana about Growth.", "status": "contacted"})
    assert response.status_code == 302
    response = client.post(url, {"note": "She will think about it.", "assignee": colleague.pk})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert html.index("Opened on") < html.index("Emailed Ana about Growth.") < html.index("She will think")
    assert "Open → Contacted" in html
    assert "sam@support.example" in html
    with scope(site=case.site):
        case.refresh_from_db()
        assert (case.status, case.assignee) == (OverageStatus.CONTACTED, colleague)
        assert list(case.entries.values_list("author__email", "to_status")) == [
            (None, "open"),
            ("sam@support.example", "contacted"),
            ("sam@support.example", ""),
        ]


def test_resolving_needs_an_outcome(client, support, world):
    case = world["ana"]
    client.force_login(support)
    response = client.post(f"/support/cases/{case.pk}/", {"status": "resolved"})
    assert response.status_code == 400
    assert "Say how the case was resolved" in response.content.decode()
    with scope(site=case.site):
        case.refresh_from_db()
        assert case.status == OverageStatus.OPEN
        assert case.entries.count() == 1
    response = client.post(f"/support/cases/{case.pk}/", {"status": "resolved", "outcome": "allowance"})
    assert response.status_code == 302
    with scope(site=case.site):
        case.refresh_from_db()
        assert (case.status, case.outcome) == (OverageStatus.RESOLVED, OverageOutcome.ALLOWANCE)
        assert case.resolved_at is not None


def test_an_empty_update_is_an_error(client, support, world):
    client.force_login(support)
    response = client.post(f"/support/cases/{world['ana'].pk}/", {"note": "  "})
    assert response.status_code == 400
    assert "Give a note, a status or an assignee." in response.content.decode()


def test_an_unknown_case_or_site_is_a_404(client, api_client, support, world):
    client.force_login(support)
    assert client.get("/support/cases/999999/").status_code == 404
    assert client.get("/support/sites/nobody/").status_code == 404
    api_client.force_login(support)
    assert api_client.get("/api/v1/support/cases/999999/").status_code == 404
    assert api_client.get("/api/v1/support/sites/nobody/usage/").status_code == 404


def test_the_case_api_reads_and_changes_a_case(api_client, support, world):
    colleague = make_support("kim@support.example")
    case = world["ben"]
    url = f"/api/v1/support/cases/{case.pk}/"
    api_client.force_login(support)
    body = api_client.get(url).json()
    assert body["over_by"] == 400
    assert [e["text"] for e in body["entries"]] == [f"Opened on {D0}."]
    response = api_client.patch(url, {"status": "resolved"}, format="json")
    assert response.status_code == 400
    assert "outcome" in response.json()["fields"]
    response = api_client.patch(
        url,
        {"status": "resolved", "outcome": "upgraded", "note": "Moved to Growth.", "assignee": colleague.pk},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["outcome"]) == ("resolved", "upgraded")
    assert body["assignee"]["email"] == "kim@support.example"
    assert body["entries"][-1] == {
        "at": body["entries"][-1]["at"],
        "author": "sam@support.example",
        "text": "Moved to Growth.",
        "from_status": "contacted",
        "to_status": "resolved",
    }
    assert api_client.patch(url, {"status": "closed"}, format="json").status_code == 400
    owner_user = UserFactory(email="not-support@example.com")
    assert api_client.patch(url, {"assignee": owner_user.pk}, format="json").status_code == 400


# A site's usage and forecast ---------------------------------------------------------------------------


@pytest.fixture
def rising(site):
    """Ana on a 100-customer plan: 60, 62, ... 78 on the last 10 days (2 a day): over on day 12 after."""
    site.plan = Plan.objects.create(name="Hundred", contact_limit=1_000, active_customer_limit=100, price=9)
    site.save()
    today = site.today()
    with scope(site=site):
        for n in range(10):
            UsageSnapshot.objects.create(
                site=site,
                day=today - timedelta(days=10 - n),
                active_customers=60 + 2 * n,
                customers=90,
                contacts=200,
                active_customer_limit=100,
                contact_limit=1_000,
            )
    # 78 + 2x > 100 <=> x > 11: the 12th day after yesterday
    return today - timedelta(days=1) + timedelta(days=12)


def test_the_site_page_shows_the_plan_the_history_and_the_forecast(client, support, site, rising, world):
    client.force_login(support)
    html = client.get("/support/sites/ana-yoga/").content.decode()
    assert "Hundred: 100 active customers" in html
    assert f"At this trend, the site goes over its limit on {rising:%b %-d, %Y}." in html
    assert "2.0 active customers a day" in html
    assert '<svg viewBox="0 0 360 200" role="img" aria-labelledby="site-usage-title"' in html
    assert '<path class="line"' in html
    assert 'text-anchor="end">100</text>' in html  # the value axis reaches the limit
    assert ">Plan limit 100</text>" in html
    yesterday = site.today() - timedelta(days=1)
    assert f">{yesterday:%b} {yesterday.day}</text>" in html
    assert f"<title>{yesterday:%b} {yesterday.day}, {yesterday.year}: 78 active customers</title>" in html
    assert 'data-label="Active customers">78<' in html
    assert 'data-label="Limit">100<' in html
    assert f'href="/support/cases/{world["ana"].pk}/"' in html
    assert f"/support/cases/{world['ben'].pk}/" not in html  # another site's case


def test_the_site_usage_api(api_client, support, site, rising):
    api_client.force_login(support)
    body = api_client.get("/api/v1/support/sites/ana-yoga/usage/").json()
    assert body["site"]["slug"] == "ana-yoga"
    assert body["site"]["plan"]["active_customer_limit"] == 100
    assert [d["active_customers"] for d in body["history"]] == list(range(60, 80, 2))
    assert body["forecast"]["crosses_on"] == rising.isoformat()
    assert body["forecast"]["reason"] == "rising"
    assert body["forecast"]["slope_per_day"] == 2.0
    assert body["forecast"]["days_used"] == 10


def test_a_site_without_figures_has_no_forecast(api_client, support, other_site):
    api_client.force_login(support)
    body = api_client.get("/api/v1/support/sites/ben-codes/usage/").json()
    assert body["history"] == []
    assert body["forecast"]["reason"] == "not_enough_data"
    assert body["forecast"]["crosses_on"] is None
