"""Servers of a test's own, for the fault tests (tests/faults/): a redis-server and a PostgreSQL cluster
on free ports, which a test stops, kills and starts again at will. Never the machine's shared Redis
(6379) or PostgreSQL (5432), which other tests and people use."""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.live_worker import free_port, redis_answers, wait_for


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bin() -> Path | None:
    """The folder of the newest PostgreSQL's initdb and pg_ctl (Debian keeps them off the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class RedisServer:
    """`redis-server` on a free port, keeping nothing on disk: stopped, what it held is gone, as a
    broker that went away with the messages published to it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="creatorhub-redis-", suffix=".log", delete=False)  # noqa: SIM115

    def start(self) -> "RedisServer":
        command = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: redis_answers(self.url), timeout=10):
            raise RuntimeError(f"redis-server did not start: see {self.log.name}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb) on a free port, trusting local connections; fsync off,
    it is thrown away. As root, its programs run as the `postgres` user, as PostgreSQL requires."""

    def __init__(self):
        self.bin = postgres_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pgfault_"))
        self.data, self.logfile = self.root / "data", self.root / "server.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> "PostgresCluster":
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        """Stops the cluster if it runs and deletes its files."""
        if (self.data / "postmaster.pid").exists():
            stop = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            subprocess.run([*self.as_postgres, *stop], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, str(self.bin / program), *args], capture_output=True, text=True, timeout=60
        )
        if done.returncode:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{log[-2000:]}")
