"""The forms pages: a site's sign-up forms, their settings, and archiving them."""

import html
import re
from datetime import UTC, datetime

import pytest
from django_scopes import scope

from contacts.models import Form, FormSubmission
from creatorhub.roles import Role
from tests.factories import ContactFactory, FormFactory


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", response.content.decode())).split())


def settings_of(site, form):
    with scope(site=site):
        form = Form.objects.get(pk=form.pk)
    return {
        "name": form.name,
        "slug": form.slug,
        "double_opt_in": form.double_opt_in,
        "ask_name": form.ask_name,
        "tag_names": form.tag_names,
        "redirect_url": form.redirect_url,
        "success_message": form.success_message,
        "archived": form.archived_at is not None,
    }


@pytest.fixture
def newsletter(site):
    with scope(site=site):
        return FormFactory(site=site, name="Newsletter", slug="newsletter", tag_names=["news"])


VALID = {
    "name": "Free class",
    "slug": "free-class",
    "double_opt_in": "on",
    "ask_name": "on",
    "tag_names": "trial, Spring 2026",
    "redirect_url": "https://ana.example/thanks",
    "success_message": "See you on the mat!",
}


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_the_forms_page_lists_each_form_with_its_address_opt_in_submissions_and_state(
    client, site, newsletter, role, request
):
    with scope(site=site):
        for _ in range(2):
            FormSubmission.objects.create(site=site, form=newsletter, contact=ContactFactory(site=site))
        FormFactory(
            site=site,
            name="Old offer",
            slug="old-offer",
            double_opt_in=False,
            created_at=datetime(2020, 2, 1, tzinfo=UTC),
            archived_at=datetime(2026, 3, 4, 12, tzinfo=UTC),
        )
    client.force_login(request.getfixturevalue(role))
    response = client.get(f"/app/{site.slug}/forms/")
    assert response.status_code == 200
    assert 'aria-current="page">Forms</a>' in response.content.decode()
    page = text(response)
    assert "Newsletter /f/ana-yoga/newsletter/ on 2 active Archive Newsletter" in page
    assert "Old offer /f/ana-yoga/old-offer/ off 0 archived Mar 4, 2026" in page
    assert page.index("Newsletter") < page.index("Old offer")  # newest first


def test_the_forms_tab_shows_to_admins_and_not_to_assistants(client, site, admin, assistant):
    client.force_login(admin)
    assert 'href="/app/ana-yoga/forms/"' in client.get(f"/app/{site.slug}/").content.decode()
    client.force_login(assistant)
    assert 'href="/app/ana-yoga/forms/"' not in client.get(f"/app/{site.slug}/").content.decode()


def test_a_new_form_has_double_opt_in_on_by_default(client, site, admin):
    client.force_login(admin)
    response = client.get(f"/app/{site.slug}/forms/new/")
    assert response.status_code == 200
    assert re.search(r'<input type="checkbox" name="double_opt_in"[^>]* checked', response.content.decode())


def test_admin_creates_a_form(client, site, admin):
    client.force_login(admin)
    response = client.post(f"/app/{site.slug}/forms/new/", VALID)
    assert response.status_code == 302
    assert response["Location"] == f"/app/{site.slug}/forms/"
    assert "Created the form “Free class”." in text(client.get(response["Location"]))
    with scope(site=site):
        form = Form.objects.get(slug="free-class")
    assert settings_of(site, form) == {
        "name": "Free class",
        "slug": "free-class",
        "double_opt_in": True,
        "ask_name": True,
        "tag_names": ["trial", "Spring 2026"],
        "redirect_url": "https://ana.example/thanks",
        "success_message": "See you on the mat!",
        "archived": False,
    }


def test_a_form_without_double_opt_in_or_an_address_gets_its_address_from_the_name(client, site, admin):
    client.force_login(admin)
    data = {"name": "Workshop: May 2026", "slug": "", "tag_names": ""}
    assert client.post(f"/app/{site.slug}/forms/new/", data).status_code == 302
    with scope(site=site):
        form = Form.objects.get()
    assert (form.slug, form.double_opt_in, form.ask_name, form.tag_names) == (
        "workshop-may-2026",
        False,
        False,
        [],
    )


def test_admin_edits_a_form(client, site, admin, newsletter):
    client.force_login(admin)
    page = client.get(f"/app/{site.slug}/forms/{newsletter.pk}/")
    assert page.status_code == 200
    assert 'value="news"' in page.content.decode()
    assert "Public address: /f/ana-yoga/newsletter/" in text(page)
    data = {**VALID, "name": "Weekly letter", "slug": "weekly", "double_opt_in": "", "tag_names": "letter"}
    response = client.post(f"/app/{site.slug}/forms/{newsletter.pk}/", data)
    assert response.status_code == 302
    assert "Saved the form “Weekly letter”." in text(client.get(response["Location"]))
    changed = settings_of(site, newsletter)
    assert (changed["name"], changed["slug"], changed["double_opt_in"], changed["tag_names"]) == (
        "Weekly letter",
        "weekly",
        False,
        ["letter"],
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "newsletter"}, "Another form of this site has this address."),
        ({"slug": "not a slug!"}, "Enter a valid “slug”"),
        ({"name": ""}, "This field is required."),
        ({"redirect_url": "not a url"}, "Enter a valid URL."),
        ({"tag_names": "x" * 101}, "A tag has at most 100 characters."),
    ],
)
def test_bad_form_settings_are_form_errors(client, site, admin, newsletter, data, message):
    client.force_login(admin)
    created = client.post(f"/app/{site.slug}/forms/new/", {**VALID, **data})
    assert created.status_code == 400
    assert message in text(created)
    with scope(site=site):
        assert Form.objects.count() == 1


def test_a_duplicate_address_on_edit_is_a_form_error(client, site, admin, newsletter):
    with scope(site=site):
        other = FormFactory(site=site, name="Other", slug="other")
    before = settings_of(site, other)
    client.force_login(admin)
    response = client.post(f"/app/{site.slug}/forms/{other.pk}/", {**VALID, "slug": "newsletter"})
    assert response.status_code == 400
    assert "Another form of this site has this address." in text(response)
    assert settings_of(site, other) == before


def test_another_site_may_use_the_same_address(client, site, admin, newsletter, other_site, other_owner):
    client.force_login(other_owner)
    response = client.post(f"/app/{other_site.slug}/forms/new/", {**VALID, "slug": "newsletter"})
    assert response.status_code == 302


def test_admin_archives_a_form(client, site, admin, newsletter):
    client.force_login(admin)
    response = client.post(f"/app/{site.slug}/forms/{newsletter.pk}/archive/", follow=True)
    assert "Archived the form “Newsletter”: it takes no more sign-ups." in text(response)
    assert settings_of(site, newsletter)["archived"]
    assert "Archive Newsletter" not in text(client.get(f"/app/{site.slug}/forms/"))


def test_assistant_gets_403_on_the_forms_pages_and_changes_nothing(client, site, assistant, newsletter):
    before = settings_of(site, newsletter)
    client.force_login(assistant)
    assert client.get(f"/app/{site.slug}/forms/").status_code == 403
    assert client.get(f"/app/{site.slug}/forms/new/").status_code == 403
    assert client.post(f"/app/{site.slug}/forms/new/", VALID).status_code == 403
    assert client.get(f"/app/{site.slug}/forms/{newsletter.pk}/").status_code == 403
    assert client.post(f"/app/{site.slug}/forms/{newsletter.pk}/", VALID).status_code == 403
    assert client.post(f"/app/{site.slug}/forms/{newsletter.pk}/archive/").status_code == 403
    assert settings_of(site, newsletter) == before
    with scope(site=site):
        assert Form.objects.count() == 1


def test_another_sites_owner_gets_404_on_every_form_page_and_action(
    client, site, newsletter, other_site, other_owner
):
    before = settings_of(site, newsletter)
    client.force_login(other_owner)
    for slug in (site.slug, other_site.slug):
        base = f"/app/{slug}/forms/{newsletter.pk}/"
        assert client.get(base).status_code == 404
        assert client.post(base, {**VALID, "name": "Stolen"}).status_code == 404
        assert client.post(base + "archive/").status_code == 404
    assert client.get(f"/app/{site.slug}/forms/").status_code == 404
    assert client.post(f"/app/{site.slug}/forms/new/", VALID).status_code == 404
    assert "Newsletter" not in text(client.get(f"/app/{other_site.slug}/forms/"))
    assert settings_of(site, newsletter) == before
    with scope(site=other_site):
        assert not Form.objects.exists()


def test_archive_is_a_post(client, site, owner, newsletter):
    client.force_login(owner)
    assert client.get(f"/app/{site.slug}/forms/{newsletter.pk}/archive/").status_code == 405
    assert not settings_of(site, newsletter)["archived"]
