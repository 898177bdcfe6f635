"""Fault: PostgreSQL restarts while the app serves requests. During the outage every request fails
fast and cleanly: the API a 503 in its JSON error format with Retry-After, pages a short 503 page,
never a hang or a traceback; once the database is back, requests succeed again at once, also on
persistent connections (DATABASE_CONN_MAX_AGE, with Django's health check of a reused connection).

The database is a cluster of the test's own (initdb on a free port, tests/support/servers.py), never the
shared one; the app runs in gunicorn.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.live_worker import ROOT, free_port, wait_for
from tests.support.servers import PostgresCluster, postgres_bin

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = """
from django.core.management import call_command
from django_scopes import scope
call_command("migrate", verbosity=0)
from creatorhub import services
from creatorhub.roles import Role
from tests.factories import ContactFactory, MembershipFactory, SiteFactory
site = SiteFactory(slug="ana-yoga")
owner = MembershipFactory(site=site, role=Role.OWNER).user
with scope(site=site):
    ContactFactory.create_batch(3, site=site)
    _, secret = services.create_api_key(site, name="Load", role=Role.ADMIN, acting_user=owner)
print(secret)
"""


@pytest.fixture(scope="module")
def cluster():
    if postgres_bin() is None:
        pytest.skip("needs PostgreSQL's initdb and pg_ctl (Debian: postgresql) for a cluster to restart")
    cluster = PostgresCluster()
    try:
        cluster.start()
        cluster.create_database("creatorhub")
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def app(cluster, tmp_path_factory):
    """gunicorn on the cluster, two processes of two threads, with persistent connections; no Redis (the
    cache is per process, tasks run eagerly)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": cluster.url("creatorhub"),
        "DATABASE_CONN_MAX_AGE": "60",
        "DEBUG": "true",  # an error that escaped would show Django's traceback page (static files as is)
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "creatorhub.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
    command += ["--threads", "2", "--timeout", "30", "--no-control-socket"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _answers(base), timeout=30), Path(log).read_text()
        yield base, seeded.stdout.strip().splitlines()[-1], log
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(base) -> bool:
    try:
        return requests.get(f"{base}/api/v1/health/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Load:
    """Threads requesting the API (an API key's contact list) and a page (the member login) over and
    over, each request recorded with when it started and ended and what came back."""

    def __init__(self, base, key, threads=4):
        self.base, self.key, self.results, self.stop = base, key, [], threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(threads)]

    def run(self, n):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        paths = ["/api/v1/sites/ana-yoga/contacts/", "/s/ana-yoga/login/"]
        i = n
        while not self.stop.is_set():
            path = paths[i % 2]
            i += 1
            started = time.monotonic()
            try:
                response = session.get(self.base + path, timeout=20)
            except requests.RequestException as error:
                self.results.append((started, time.monotonic(), path, error))
            else:
                self.results.append((started, time.monotonic(), path, response))
            time.sleep(0.02)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def assert_clean_failure(path, response):
    assert response.status_code == 503, (path, response.status_code, response.text[:500])
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text
    if path.startswith("/api/"):
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["code"] == "unavailable"
    else:
        assert response.headers["Content-Type"].startswith("text/html")


def test_requests_fail_cleanly_while_postgresql_restarts_and_succeed_once_it_is_back(cluster, app):
    base, key, _ = app
    with Load(base, key) as load:
        time.sleep(1)
        stopping_at = time.monotonic()
        cluster.stop("fast")
        stopped_at = time.monotonic()
        time.sleep(2)
        starting_at = time.monotonic()
        cluster.start()
        back_at = time.monotonic()
        time.sleep(2)
    results = load.results
    errors = [r for r in results if isinstance(r[3], Exception)]
    assert not errors, errors[:3]  # no request hung or had its connection dropped
    assert max(end - start for start, end, _, _ in results) < 10
    before = [r for r in results if r[1] < stopping_at]
    during = [r for r in results if stopped_at < r[0] and r[1] < starting_at]
    after = [r for r in results if r[0] > back_at]
    assert before, "no request before the stop"
    assert during, "no request while the database was down"
    assert after, "no request after it came back"
    assert {r[3].status_code for r in before} == {200}
    for _, _, path, response in during:
        assert_clean_failure(path, response)
    assert [(path, r.status_code) for _, _, path, r in after if r.status_code != 200] == []
    for _, _, path, response in results:  # in flight when it stopped or came back: a 200 or a clean 503
        if response.status_code != 200:
            assert_clean_failure(path, response)


def test_a_restart_while_idle_fails_no_request_on_the_connections_kept(cluster, app):
    """The connections kept open (DATABASE_CONN_MAX_AGE) died with the restart; each is checked before
    its next use (CONN_HEALTH_CHECKS) and replaced, so not one request fails."""
    base, key, _ = app
    headers = {"Authorization": f"Bearer {key}"}

    def statuses():
        return [
            requests.get(f"{base}/api/v1/sites/ana-yoga/contacts/", headers=headers, timeout=20).status_code
            for _ in range(12)
        ]

    assert statuses() == [200] * 12  # every process and thread has its connection open
    cluster.stop("fast")
    cluster.start()
    assert statuses() == [200] * 12
