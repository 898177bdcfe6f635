"""The load test: mixed traffic from locust (bench/load.py) against gunicorn on loopback.

    make loadtest                                   # 50 users for 60 s on a 100,000-contact site
    .venv/bin/python -m bench.loadtest --users 5 --duration 10 --contacts 2000   # a quick smoke run

What it does, in order:

1. creates the PostgreSQL database (`--database`, default creatorhub_load) when missing, migrates it and
   collects the static files when they changed (DEBUG is off: whitenoise serves the manifest's files);
2. seeds the site `load-1` with bench/seed.py's seed_tab() (`--contacts`, default 100,000, and
   `--events`, default ten per contact; kept when a run before seeded the same sizes), then gives it
   one owner login per user and one API key per user;
3. starts an SMTP sink (aiosmtpd), a Celery worker and gunicorn on 127.0.0.1 with production settings
   (DEBUG off, a fresh SECRET_KEY, ALLOWED_HOSTS, persistent database connections, Redis db 3 as
   the broker and cache, so that every purchase's email goes through the worker to the sink);
4. runs `locust --headless -u USERS -r SPAWN` (after `--warmup` seconds of a few users, unmeasured):
   every user logs in, then DURATION seconds are measured (bench/load.py); prints requests per second,
   p50 and p99 latency (ms) and the errors, overall and per request kind, the logins apart, and
   gunicorn's own time per route (its access log); then waits for the worker to send every email the
   purchases queued;
5. stops what it started, and exits 1 when a request failed (any status but the expected one, a lost
   session) or an email was not sent.

Rate limits: API keys keep their production rates (API_RATE_PER_KEY 1200/m, API_WRITE_RATE_PER_KEY
300/m), each user having a key of its own, as each integration would; the dashboard login's rate per
address (LOGIN_RATE_PER_IP, 30/10m) is raised for the run, as every user logs in from 127.0.0.1.

Flags also read from the environment: LOAD_USERS, LOAD_DURATION, LOAD_CONTACTS, LOAD_DATABASE,
LOAD_WAIT. Files (locust's CSVs, gunicorn's and the worker's logs) go to `--out` (var/load).
"""

import argparse
import csv
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SLUG = "load-1"
SAMPLE = 2_000  # contacts the users pick from (ids and emails)
SURNAMES = ["okafor", "tanaka", "silva", "novak", "weber", "garcia"]
REDIS_URL = "redis://127.0.0.1:6379/3"  # the load test's own Redis database (broker and cache)
# The kinds of request bench/load.py makes, as its figures name them.
REQUEST_KINDS = [
    "login page",
    "login",
    "tab: All",
    "tab: a segment",
    "tab: search",
    "tab: older page",
    "page: contact",
    "api: contacts list",
    "api: contact read",
    "api: events batch",
    "api: purchase",
]
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(M)s ms"  # gunicorn access log: method, path, status, server time


def arguments(argv):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=int(env("LOAD_USERS", "50")))
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--duration", type=int, default=int(env("LOAD_DURATION", "60")), help="seconds")
    parser.add_argument("--contacts", type=int, default=int(env("LOAD_CONTACTS", "100000")))
    parser.add_argument("--events", type=int, default=None, help="activity events (default 10 per contact)")
    parser.add_argument("--database", default=env("LOAD_DATABASE", "creatorhub_load"))
    parser.add_argument("--wait", default=env("LOAD_WAIT", "0.5,1.5"), help="each user's pause: min,max s")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured traffic first")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--out", default=str(ROOT / "var" / "load"))
    return parser.parse_args(argv)


def production_env(args, smtp_port: int) -> dict:
    """The environment of every process: production settings on loopback (plain HTTP, so the cookies
    and the redirect that assume HTTPS are off, as in docker-compose.yml)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "creatorhub.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": REDIS_URL,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOGIN_RATE_PER_IP": "10000/10m",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created the database {name}")


def prepare(args, out: Path) -> dict:
    """Migrates, collects static files, seeds the site, its logins and keys; returns the fixture."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from bench.seed import seed_tab
    from contacts.models import Contact
    from creatorhub.models import ApiKey, Membership, Site, User
    from creatorhub.roles import Role
    from creatorhub.services import create_api_key
    from creatorhub.tenancy import platform_wide, site_scope
    from offers.models import Offer

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    collect_static()
    os.environ["BENCH_TAB_CONTACTS"] = str(args.contacts)
    os.environ["BENCH_TAB_EVENTS"] = str(args.events if args.events is not None else 10 * args.contacts)
    seed_tab(SLUG)
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)  # once: each user's is the same
    logins = [f"load-owner-{n}@load.example" for n in range(args.users)]
    with platform_wide("load test: its site's owners"):
        site = Site.objects.get(slug=SLUG)
        for email in logins:
            user, _ = User.objects.update_or_create(email=email, defaults={"password": hashed})
            Membership.objects.get_or_create(site=site, user=user, defaults={"role": Role.OWNER})
    with site_scope(site):
        ApiKey.objects.filter(name__startswith="load test").delete()
        owner = User.objects.get(email=logins[0])
        keys = [
            create_api_key(site, name=f"load test {n}", role=Role.OWNER, acting_user=owner)[1]
            for n in range(args.users)
        ]
        offers = [
            {"id": offer.pk, "price": str(offer.price), "currency": offer.currency}
            for offer in Offer.objects.order_by("pk")
        ]
        contacts = [
            [pk, email] for pk, email in Contact.objects.order_by("?").values_list("pk", "email")[:SAMPLE]
        ]
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    fixture = {
        "site": SLUG,
        "password": password,
        "logins": logins,
        "keys": keys,
        "offers": offers,
        "contacts": contacts,
        "surnames": SURNAMES,
    }
    path = out / "fixture.json"
    path.write_text(json.dumps(fixture))
    path.chmod(0o600)
    return fixture


def collect_static() -> None:
    """collectstatic (slow: whitenoise compresses every file) unless its manifest is
    newer than every file of the project's static/ folder."""
    from django.conf import settings
    from django.core.management import call_command

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    sources = [
        path.stat().st_mtime for folder in settings.STATICFILES_DIRS for path in Path(folder).rglob("*")
    ]
    if manifest.exists() and manifest.stat().st_mtime > max(sources, default=0):
        return
    call_command("collectstatic", interactive=False, verbosity=0)


def emails_since(marker: int) -> dict[str, int]:
    """{status: how many} of the Purchase Confirmations whose row id is above `marker`."""
    from django.db.models import Count

    from creatorhub.tenancy import platform_wide
    from emails.models import EmailKind, OutboundEmail

    with platform_wide("load test: the emails its purchases queued"):
        rows = OutboundEmail.objects.filter(pk__gt=marker, kind=EmailKind.PURCHASE_CONFIRMATION)
        return dict(rows.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def all_handled(marker: int) -> bool:
    """Whether the worker took every one: sent, or suppressed (a contact who complained or bounced)."""
    from emails.models import EmailStatus

    return not emails_since(marker).get(EmailStatus.QUEUED)


def last_email_id() -> int:
    from creatorhub.tenancy import platform_wide
    from emails.models import OutboundEmail

    with platform_wide("load test: where its emails start"):
        return OutboundEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {process.returncode}): see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} in {timeout:.0f} s")


def stop(process: subprocess.Popen | None, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def read_stats(path: Path) -> list[dict]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def report(rows: list[dict], failures: list[dict]) -> int:
    """Prints the figures; returns the number of failed requests."""
    columns = ("requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors")
    print(f"\n{'request kind':<22} {columns[0]:>9} " + " ".join(f"{column:>7}" for column in columns[1:]))
    aggregated = None
    for row in rows:
        if row["Name"] == "Aggregated":
            aggregated = row
            continue
        if row["Request Count"] == "0":  # the logins, counted before the measurement
            continue
        print(line(row["Name"], row))
    print(line("all", aggregated))
    for failure in failures:
        print(
            f"  error: {failure['Method']} {failure['Name']}: {failure['Error']} x {failure['Occurrences']}"
        )
    return int(aggregated["Failure Count"])


def server_times(access_log: Path) -> None:
    """gunicorn's own time per route (warm-up included), from its access log: what the requests cost
    inside the server, without their wait in its listen queue."""
    routes = {}
    for entry in access_log.read_text().splitlines():
        method, path, _, ms, _ = entry.split()
        routes.setdefault(f"{method} {re.sub(r'/[0-9]+/', '/<id>/', path)}", []).append(int(ms))
    print(f"\nin gunicorn (access log)                          {'requests':>9} {'p50 ms':>7} {'p99 ms':>7}")
    for route, times in sorted(routes.items(), key=lambda item: -sum(item[1])):
        times.sort()
        p50, p99 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{route:<50} {len(times):>9,} {p50:>7} {p99:>7}")


def line(name: str, row: dict) -> str:
    return (
        f"{name:<22} {int(row['Request Count']):>9,} {float(row['Requests/s']):>7.1f} {row['50%']:>7} "
        f"{row['99%']:>7} {float(row['Max Response Time']):>7.0f} {int(row['Failure Count']):>7}"
    )


def run_locust(args, env: dict, host: str, out: Path, name: str, *, users: int, duration: int):
    """locust, headless: `users` log in, then `duration` seconds are measured (bench/load.py stops
    itself; -t only bounds a run whose logins never all end)."""
    return subprocess.run(
        [
            VENV_BIN / "locust", "-f", str(ROOT / "bench" / "load.py"), "--headless",
            "-u", str(users), "-r", str(args.spawn_rate), "-t", f"{duration + 300}s",
            "--host", host, "--csv", str(out / name), "--only-summary", "--stop-timeout", "10",
            "--loglevel", "WARNING", "--logfile", str(out / f"{name}.log"),
        ],
        cwd=ROOT,
        env={
            **env,
            "LOAD_FIXTURE": str(out / "fixture.json"),
            "LOAD_WAIT": args.wait,
            "LOAD_USERS": str(users),
            "LOAD_MEASURE": str(duration),
            "LOAD_LOGINS_FILE": str(out / f"{name}_logins.json"),
        },
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=duration + 400,
    )  # fmt: skip


def report_logins(path: Path) -> int:
    """Prints the logins' figures (kept aside before the measurement); returns how many failed."""
    if not path.exists():
        print("\nlogins: not every user logged in: the figures above include the logins")
        return 0
    logins = json.loads(path.read_text())
    print("\nlogins, before the measurement (one per user, through the form):")
    for name, row in logins["logins"].items():
        print(
            f"{name:<22} {row['requests']:>9,} {'':>7} {row['p50']:>7.0f} {row['p99']:>7.0f} "
            f"{row['max']:>7.0f} {row['failures']:>7}"
        )
    for error in logins["errors"]:
        print(f"  error: {error}")
    return sum(row["failures"] for row in logins["logins"].values())


def main(argv=None) -> int:
    args = arguments(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop what was started (finally)
    sys.path.insert(0, str(ROOT))
    from tests.support.live_worker import SmtpSink, free_port, redis_answers, wait_for

    if not redis_answers(REDIS_URL):
        print(f"the load test needs Redis at {REDIS_URL}", file=sys.stderr)
        return 2
    create_database(args.database)
    port = args.port or free_port()
    processes = {}
    with SmtpSink() as sink:
        env = production_env(args, sink.port)
        os.environ.update(env)
        fixture = prepare(args, out)
        marker = last_email_id()
        try:
            for name in ("worker", "gunicorn", "load", "warmup", "access"):
                (out / f"{name}.log").unlink(missing_ok=True)
                (out / f"{name}_logins.json").unlink(missing_ok=True)
            processes["worker"] = subprocess.Popen(
                [
                    VENV_BIN / "celery", "-A", "creatorhub", "worker", "--concurrency=2",
                    "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                cwd=ROOT, env=env, stdout=(out / "worker.log").open("w"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            threads = ["--threads", str(args.threads)] if args.threads > 1 else []
            processes["gunicorn"] = subprocess.Popen(
                [
                    VENV_BIN / "gunicorn", "creatorhub.wsgi:application", "--bind", f"127.0.0.1:{port}",
                    "--workers", str(args.workers), *threads, "--timeout", "30",
                    "--log-level", "warning", "--access-logfile", str(out / "access.log"),
                    "--access-logformat", ACCESS_FORMAT,
                ],
                cwd=ROOT, env=env, stdout=(out / "gunicorn.log").open("w"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            host = f"http://127.0.0.1:{port}"
            wait_until_healthy(f"{host}/api/v1/health/", processes["gunicorn"])
            kind = f"{args.threads} threads each" if args.threads > 1 else "sync"
            print(
                f"load: {args.users} users (spawning {args.spawn_rate:g}/s) for {args.duration} s, each "
                f"pausing {args.wait.replace(',', ' to ')} s between actions; site {SLUG} of "
                f"{args.contacts:,} contacts; gunicorn {args.workers} workers ({kind}) on {host}; a Celery "
                f"worker (2 processes) on {REDIS_URL}; {len(fixture['keys'])} API keys (one per user) at "
                f"the production rates; LOGIN_RATE_PER_IP raised to 10000/10m (one address for all); "
                f"measured after {args.warmup} s of warm-up traffic, from "
                f"{os.environ.get('LOAD_SETTLE', '5')} s after the last login",
                flush=True,
            )
            if args.warmup:  # each gunicorn worker loads its URLs and compiles its templates first
                run_locust(args, env, host, out, "warmup", users=min(args.users, 5), duration=args.warmup)
            locust = run_locust(args, env, host, out, "load", users=args.users, duration=args.duration)
            errors = report(read_stats(out / "load_stats.csv"), read_stats(out / "load_failures.csv"))
            errors += report_logins(out / "load_logins.json")
            server_times(out / "access.log")
            handled = wait_for(lambda: all_handled(marker), timeout=60, every=0.5)
            statuses = emails_since(marker)
            print(
                f"\nPurchase Confirmations: {sum(statuses.values()):,}, by the worker: "
                + ", ".join(f"{n:,} {status}" for status, n in sorted(statuses.items()))
            )
            problems = []
            if errors:
                problems.append(f"{errors:,} requests failed")
            if locust.returncode not in (0, 1):  # 1: some requests failed, reported above
                problems.append(f"locust exited {locust.returncode} (see {out / 'load.log'})")
            if not handled:
                problems.append(f"{statuses.get('queued', 0):,} emails still queued after 60 s")
            if statuses.get("failed"):
                problems.append(f"{statuses['failed']:,} emails failed (see the email log)")
            for problem in problems:
                print(f"FAILED: {problem}", file=sys.stderr)
            return 1 if problems else 0
        finally:
            for name in ("gunicorn", "worker"):
                stop(processes.get(name))


if __name__ == "__main__":
    sys.exit(main())
