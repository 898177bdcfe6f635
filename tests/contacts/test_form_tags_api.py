"""A form's `tag_names` through the API is a list of tag names: anything else is a 400 naming the field
(null or a text was a 500, found by tests/api/test_schemathesis.py)."""

import pytest


@pytest.mark.parametrize("tag_names", [None, "VIP", {"VIP": 1}, 7, ["x" * 101]])
def test_a_forms_tags_must_be_a_list_of_names(as_user, owner, site, tag_names):
    response = as_user(owner).post(
        f"/api/v1/sites/{site.slug}/forms/",
        {"name": "News", "slug": "news", "tag_names": tag_names},
        format="json",
    )
    assert response.status_code == 400
    assert "tag_names" in response.json()["fields"]


def test_a_form_is_created_with_its_tags_cleaned(as_user, owner, site):
    response = as_user(owner).post(
        f"/api/v1/sites/{site.slug}/forms/",
        {"name": "News", "slug": "news", "tag_names": ["VIP", " vip ", "Yoga"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["tag_names"] == ["VIP", "Yoga"]
