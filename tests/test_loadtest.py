"""The load test's runner (bench/loadtest.py), bounded: a few users for a few seconds against gunicorn on a
small site, on a database of its own (LOADTEST_TEST_DATABASE, default creatorhub_load_test). Every
request kind must have been made, and none may have failed.

The first run on a machine also migrates its database and collects the static files (bench.loadtest)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.loadtest import REDIS_URL, REQUEST_KINDS
from tests.support.live_worker import redis_answers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_load_run_makes_every_kind_of_request_without_an_error(tmp_path):
    if not redis_answers(REDIS_URL):
        pytest.skip(f"the load test needs Redis at {REDIS_URL}")
    database = os.environ.get("LOADTEST_TEST_DATABASE", "creatorhub_load_test")
    run = subprocess.run(
        [
            sys.executable, "-m", "bench.loadtest", "--database", database, "--out", str(tmp_path),
            "--users", "5", "--spawn-rate", "5", "--duration", "8", "--warmup", "0",
            "--contacts", "2000", "--wait", "0.02,0.05",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        | {"LOAD_SETTLE": "1"},
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    with (tmp_path / "load_stats.csv").open(newline="") as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    made = {name: int(row["Request Count"]) for name, row in rows.items() if name != "Aggregated"}
    logins = json.loads((tmp_path / "load_logins.json").read_text())  # before the measurement
    made.update({name: row["requests"] for name, row in logins["logins"].items()})
    assert {kind for kind, count in made.items() if count} == set(REQUEST_KINDS), made
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    assert not logins["errors"]
    assert "Purchase Confirmations:" in run.stdout
