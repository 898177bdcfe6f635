"""The product as docker-compose runs it, without Docker: web (gunicorn) and a Celery worker as separate
processes, each with a working directory, a home and a temporary folder of its own, started with the
environment and the commands of docker-compose.yml, on PostgreSQL and Redis. They share the database,
the broker and the file storage only: the `media` volume (one folder, as compose mounts it in both), or
an S3 bucket, with no shared disk at all.

Through web, as an integration would: an import uploaded with an API key is read by the worker; an export
written by the worker is downloaded from web; a purchase's confirmation is sent by the worker to an SMTP
server. (The dashboard's own pages need the image's collected static files; tests/test_pages*.py and the
browser tests cover them.)
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from tests import object_storage
from tests.support.live_worker import SmtpSink, free_port, wait_for
from tests.support.servers import RedisServer, redis_binary
from tests.test_docker_compose import SECRETS, compose_config

pytestmark = [pytest.mark.postgres, pytest.mark.worker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
import json
from creatorhub import services
from creatorhub.models import Plan, User
from creatorhub.roles import Role
from creatorhub.tenancy import platform_wide, site_scope
from offers.services.catalog import create_offer

with platform_wide("deployment test: a creator signs up"):
    owner = User.objects.create_user(email="owner@deploy.example", password="not-used-here")
    site = services.create_site(name="Deployed", slug="deployed", plan=Plan.objects.first(), owner=owner)
with site_scope(site):
    _, secret = services.create_api_key(site, name="Integration", role=Role.OWNER, acting_user=owner)
    offer = create_offer(site, title="Course", price=49, currency="USD")
print(json.dumps({"secret": secret, "offer": offer.pk}))
"""


def _run(argv, *, env, cwd, timeout=180) -> str:
    done = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _command(service: dict) -> list[str]:
    """A compose service's command as argv (`sh -c "migrate && exec gunicorn …"`: the gunicorn part)."""
    command = service["command"]
    if isinstance(command, list) and command[:2] == ["sh", "-c"]:
        command = command[2].split("&&")[-1].replace("exec ", "", 1)
    return command.split() if isinstance(command, str) else list(command)


class Machine:
    """One process of the deployment, as if alone on its machine: its own working directory, home and
    temporary folder; the code comes from PYTHONPATH, as in the image."""

    def __init__(self, root: Path, name: str, env: dict):
        self.dir = root / name
        (self.dir / "tmp").mkdir(parents=True)
        self.env = {**env, "HOME": str(self.dir), "TMPDIR": str(self.dir / "tmp")}
        self.log = (self.dir / "log").open("w")
        self.process = None

    def start(self, argv: list[str]) -> "Machine":
        self.process = subprocess.Popen(
            argv, cwd=self.dir, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return (self.dir / "log").read_text()[-4000:]


@pytest.fixture(scope="module")
def services_of_compose():
    return compose_config(SECRETS)["services"]


@pytest.fixture(scope="module")
def backing(tmp_path_factory, services_of_compose):
    """A new database (migrated by web's `migrate`, as the tables' owner), a Redis of its own, an SMTP
    server, and the site and API key of a creator."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    if redis_binary() is None:
        pytest.skip("needs redis-server, to give the deployment a broker of its own")
    settings = connection.settings_dict
    host, port, user = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432, settings["USER"]
    name = f"creatorhub_deploy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    redis, smtp = RedisServer().start(), SmtpSink().__enter__()
    root = tmp_path_factory.mktemp("deployment")
    env = {key: str(value) for key, value in services_of_compose["web"]["environment"].items()}
    env |= {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),  # the image's PYTHONPATH=/app
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{name}",
        "REDIS_URL": redis.url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    migrator = Machine(root, "migrate", env)
    _run([sys.executable, "manage.py", "migrate", "--noinput"], env=migrator.env, cwd=ROOT)
    made = _run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SETUP], env=migrator.env, cwd=ROOT
    )
    created = json.loads(made.strip().splitlines()[-1])
    try:
        yield {"env": env, "root": root, "smtp": smtp, "redis": redis, **created}
    finally:
        smtp.__exit__(None, None, None)
        redis.stop()
        with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def s3_endpoint():
    with object_storage.s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["media volume", "object storage"])
def deployment(request, backing, services_of_compose):
    """web and worker started as compose starts them, with files in one folder both mount (the volume)
    or in an S3 bucket (each then has a media folder of its own, which must stay empty)."""
    root = backing["root"] / request.param.replace(" ", "-")
    port = free_port()
    env = {**backing["env"], "SITE_URL": f"http://127.0.0.1:{port}"}
    if request.param == "object storage":
        endpoint = request.getfixturevalue("s3_endpoint")
        env |= object_storage.environment(endpoint, object_storage.new_bucket(endpoint))
    web, worker = Machine(root, "web", env), Machine(root, "worker", env)
    for machine, name in ((web, "web"), (worker, "worker")):
        machine.env["MEDIA_ROOT"] = str(_media_folder(root, machine, services_of_compose[name]))
    gunicorn = _command(services_of_compose["web"])
    assert gunicorn[:2] == ["gunicorn", "creatorhub.wsgi:application"]
    gunicorn[gunicorn.index("--bind") + 1] = f"127.0.0.1:{port}"
    gunicorn[gunicorn.index("--workers") + 1] = "2"
    web.start([sys.executable, "-m", *gunicorn])
    worker.start([sys.executable, "-m", *_command(services_of_compose["worker"])])
    base = f"http://127.0.0.1:{port}"
    try:
        healthy = wait_for(lambda: _answers(f"{base}/api/v1/health/"), timeout=60, every=0.5)
        assert healthy, f"web did not become healthy:\n{web.output()}"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {backing['secret']}"
        yield {
            "api": f"{base}/api/v1/sites/deployed/",
            "session": session,
            "web": web,
            "worker": worker,
            "smtp": backing["smtp"],
            "offer": backing["offer"],
            "kind": request.param,
            "env": env,
        }
    finally:
        web.stop()
        worker.stop()
        if request.param == "object storage":
            for machine in (web, worker):
                assert not any(Path(machine.env["MEDIA_ROOT"]).rglob("*")), (
                    f"a file on {machine.dir.name}'s disk"
                )
        shutil.rmtree(root, ignore_errors=True)


def _media_folder(root: Path, machine: Machine, service: dict) -> Path:
    """What the service sees at MEDIA_ROOT: the named volume compose mounts there (one folder, whoever
    mounts it), or else a folder of its machine's own."""
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if target == service["environment"]["MEDIA_ROOT"]:
            return root / "volumes" / source
    return machine.dir / "media"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _finished(session, url: str, *, timeout: float = 60) -> dict:
    """Polls a job's API resource until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = session.get(url, timeout=10).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"{url} did not finish: {job}")


def test_an_import_an_export_and_a_purchase_email_work_across_web_and_worker(deployment):
    session, api = deployment["session"], deployment["api"]
    people = [f"person{n}-{uuid.uuid4().hex[:6]}@deploy.example" for n in range(50)]  # new in each run
    rows = "email,name\n" + "".join(f"{email},Person {n}\n" for n, email in enumerate(people))
    upload = session.post(api + "imports/", files={"file": ("people.csv", rows.encode())}, timeout=30)
    assert upload.status_code == 202, upload.text
    imported = _finished(session, upload.headers["Location"])
    assert (imported["status"], imported["created"]) == ("done", 50), (
        imported,
        deployment["worker"].output(),
    )

    started = session.post(api + "exports/", json={"segment": "all"}, timeout=30)
    assert started.status_code == 202, started.text
    export = _finished(session, started.headers["Location"])
    assert export["status"] == "done", deployment["worker"].output()
    download = session.get(export["download_url"], timeout=30, allow_redirects=False)
    if deployment["kind"] == "object storage":
        assert download.status_code == 302
        assert download.headers["Location"].startswith(deployment["env"]["S3_ENDPOINT_URL"])
        download = requests.get(download.headers["Location"], timeout=30)
    assert download.status_code == 200, deployment["web"].output()
    emails = [line.split(",")[0] for line in download.content.decode("utf-8-sig").splitlines()[1:]]
    assert len(emails) == export["total"]
    assert set(people) <= set(emails)

    buyer = f"buyer-{uuid.uuid4().hex[:6]}@deploy.example"
    purchase = {
        "offer": deployment["offer"],
        "email": buyer,
        "name": "Bea",
        "amount": "49.00",
        "currency": "USD",
        "idempotency_key": uuid.uuid4().hex,
    }
    assert session.post(api + "purchases/", json=purchase, timeout=30).status_code == 201
    smtp = deployment["smtp"]
    sent = wait_for(lambda: any(m["To"] == buyer for m in smtp.messages), timeout=60, every=0.2)
    assert sent, deployment["worker"].output()
    log = session.get(api + "emails/", timeout=10).json()["results"]
    assert [(e["kind"], e["status"]) for e in log if e["to_email"] == buyer] == [
        ("purchase_confirmation", "sent")
    ]
