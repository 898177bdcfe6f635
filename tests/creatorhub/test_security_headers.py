"""Security headers (docs/security.md, "Security headers"): the Content-Security-Policy and the
other headers on pages and API responses; HSTS in production; templates that the policy lets run.
The browser proves the pages pass the policy (tests/browser/test_content_security_policy.py)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.creatorhub.test_settings import PRODUCTION, run_django
from tests.factories import FormFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def policy(response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


def test_a_page_has_the_policy_and_the_security_headers(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert policy(response) == POLICY
    assert {name: response.get(name) for name in HEADERS} == HEADERS


def test_a_dashboard_page_and_a_member_page_have_them_too(client, site, owner):
    client.force_login(owner)
    for url in (reverse("contacts", args=[site.slug]), reverse("member-login", args=[site.slug])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == POLICY
        assert {name: response.get(name) for name in HEADERS} == HEADERS


def test_an_api_response_has_them_too(client, site, owner):
    client.force_login(owner)
    response = client.get(f"/api/v1/sites/{site.slug}/contacts/")
    assert response.status_code == 200
    assert policy(response) == POLICY
    assert {name: response.get(name) for name in HEADERS} == HEADERS
    refused = client.get("/api/v1/sites/nowhere/contacts/")
    assert refused.status_code == 404
    assert policy(refused) == POLICY


def test_a_form_that_redirects_elsewhere_lets_its_own_page_post_on_to_there(client, site):
    """The sign-up posts to our own URL, which redirects to the creator's page: browsers check that
    redirect against form-action, so the form's page (and no other) names the creator's origin."""
    FormFactory(site=site, slug="newsletter", redirect_url="https://ana-yoga.example/thanks?from=form")
    FormFactory(site=site, slug="plain")
    page = client.get(reverse("public-form", args=[site.slug, "newsletter"]))
    assert policy(page)["form-action"] == "'self' https://ana-yoga.example"
    assert policy(page)["script-src"] == "'self'"
    submitted = client.post(
        reverse("public-form", args=[site.slug, "newsletter"]), {"email": "mia@example.com"}
    )
    assert submitted.status_code == 302
    assert submitted["Location"] == "https://ana-yoga.example/thanks?from=form"
    assert policy(client.get(reverse("public-form", args=[site.slug, "plain"])))["form-action"] == "'self'"


def test_the_dashboard_shell_keeps_htmx_inside_the_policy(client, site, owner):
    client.force_login(owner)
    page = client.get(reverse("site-home", args=[site.slug])).content.decode()
    assert (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>"""
        in page
    )
    css = (TEMPLATES.parent / "static" / "css" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


@pytest.mark.parametrize(
    "path", sorted(p for p in TEMPLATES.rglob("*.html") if "emails" not in p.relative_to(TEMPLATES).parts[:1])
)
def test_no_page_template_has_an_inline_script_style_or_event_handler(path):
    """What style-src 'self' and script-src 'self' refuse. (Email templates are no pages: mail apps
    show them, and the preview has a policy of its own.)"""
    source = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), "an inline <script>"
    assert "<style" not in source
    assert not re.search(r"\sstyle=", source), "a style attribute"
    assert not re.search(r"\son[a-z]+=", source), "an event handler attribute"
    assert "javascript:" not in source


def test_production_sends_hsts():
    probe = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT)"
    )
    result = run_django("shell", "--no-imports", "-c", probe, **PRODUCTION)
    assert result.stdout.split() == ["31536000", "True", "True"], result.stderr
