"""A real Celery worker on Redis and an SMTP sink, for tests marked `worker` (and the benchmarks)."""

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_answers(url: str = TEST_REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """Accepts mail on a local port and keeps it. `hold` makes it wait before accepting a recipient,
    so a test can kill the sender in the middle of a conversation."""

    def __init__(self):
        self.messages = []
        self.hold_after = None  # hold once this many messages were accepted
        self.hold = threading.Event()
        self.held = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.hold.clear()
        self.controller.stop()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.hold.set()
        if self.hold.is_set():
            self.held.set()
            while self.hold.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class Worker:
    """`celery -A creatorhub worker` in a subprocess, on the test database and the test Redis: the solo pool
    (one process, which a test can SIGKILL mid-task), or prefork with its default concurrency."""

    def __init__(
        self, *, smtp_port: int, redis_url: str = TEST_REDIS_URL, env: dict | None = None, pool: str = "solo"
    ):
        db = connection.settings_dict
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
            "REDIS_URL": redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "DEBUG": "true",
            "PYTHONUNBUFFERED": "1",
            "CELERY_TRACE_LOG_LEVEL": "INFO",
            **(env or {}),
        }
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "creatorhub",
            "worker",
            f"--pool={pool}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="creatorhub-worker-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the worker (one process: the solo pool), which gets no chance to clean up."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def broker_client(url: str = TEST_REDIS_URL) -> Celery:
    """A Celery client publishing to the test Redis (or `url`), by task name."""
    import redis

    redis.Redis.from_url(url).flushdb()
    return Celery("tests", broker=url, set_as_current=False)  # never the app of shared tasks


def wait_for(condition, *, timeout: float = 30.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@contextmanager
def publishing_to_test_broker(app, url: str = TEST_REDIS_URL):
    """Inside, `app` sends tasks to the test Redis (or `url`) instead of running them eagerly; after, it
    is as it was. Its connection pools are dropped both ways: they keep the broker they were made for."""
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, url
    app._after_fork()  # Celery's own reset of the pools
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._after_fork()
