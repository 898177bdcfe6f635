"""Queries the ORM builds once (creatorhub.compiled): built once per key, run with each call's values."""

import pytest

from creatorhub import compiled
from creatorhub.compiled import STAND_IN_ID, built
from creatorhub.models import Plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_built():
    compiled.forget()
    yield
    compiled.forget()


calls = []


def plans(stand_in):
    calls.append(stand_in)
    return Plan.objects.filter(pk=stand_in).order_by()


def test_a_query_is_built_once_per_key_and_runs_with_each_calls_values():
    calls.clear()
    basic, pro = Plan.objects.order_by("price")[0], Plan.objects.order_by("-price")[0]
    first = built(("plan",), lambda: plans(STAND_IN_ID), [STAND_IN_ID])
    again = built(("plan",), lambda: plans(STAND_IN_ID), [STAND_IN_ID])
    assert again is first
    assert calls == [STAND_IN_ID]
    assert [p.name for p in first.rows([basic.pk])] == [basic.name]
    assert [p.name for p in first.rows([pro.pk])] == [pro.name]


def test_a_query_not_kept_is_built_every_time():
    calls.clear()
    built(("plan",), lambda: plans(STAND_IN_ID), [STAND_IN_ID], keep=False)
    built(("plan",), lambda: plans(STAND_IN_ID), [STAND_IN_ID], keep=False)
    assert len(calls) == 2
    assert compiled._built == {}


def test_a_stand_in_the_query_does_not_hold_is_an_error():
    with pytest.raises(ValueError, match="0 times"):
        built(("plan", "other"), lambda: plans(7), [STAND_IN_ID])
