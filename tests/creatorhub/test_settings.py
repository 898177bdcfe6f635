"""Settings come from the environment; production values pass `check --deploy`; bad values are refused."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from creatorhub.env import envbool, envfilestorage, envint, envlist

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 30 + "-production-secret-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "creators.example.com",
    "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}",
}


def run_django(*args, **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "REDIS_URL", "DATABASE_URL")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.postgres
def test_production_settings_pass_check_deploy_without_warnings(db):
    """On PostgreSQL, the test database as `migrate` left it, as the app role (creatorhub.checks)."""
    from django.db import connection

    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    result = run_django("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DATABASE_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_on_sqlite_check_deploy_warns_that_there_is_no_row_level_security():
    result = run_django("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(creatorhub.W001) SQLite: no row-level security" in result.stderr
    assert "System check identified 1 issue " in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def test_a_bad_boolean_is_refused_with_a_clear_message():
    result = run_django("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of true/false" in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("Yes", True), ("on", True), ("0", False), ("false", False), ("", False)],
)
def test_envbool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert envbool("FLAG", "true") is expected


def test_envint_and_envlist(monkeypatch):
    monkeypatch.setenv("NUMBER", "12")
    monkeypatch.setenv("HOSTS", " a.example.com, b.example.com ,")
    assert envint("NUMBER", "0") == 12
    assert envlist("HOSTS", "") == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("NUMBER", "twelve")
    with pytest.raises(ImproperlyConfigured, match="NUMBER must be a whole number"):
        envint("NUMBER", "0")


def test_files_are_stored_in_a_directory_or_in_a_named_s3_bucket(monkeypatch):
    monkeypatch.delenv("FILE_STORAGE", raising=False)
    assert envfilestorage("FILE_STORAGE", link_seconds=60)["BACKEND"].endswith("FileSystemStorage")
    monkeypatch.setenv("FILE_STORAGE", "S3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="S3_BUCKET must be set when FILE_STORAGE is s3"):
        envfilestorage("FILE_STORAGE", link_seconds=60)
    monkeypatch.setenv("S3_BUCKET", "creator-files")
    s3 = envfilestorage("FILE_STORAGE", link_seconds=60)
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] | {"bucket_name": "creator-files", "querystring_auth": True} == s3["OPTIONS"]
    assert (s3["OPTIONS"]["querystring_expire"], s3["OPTIONS"]["default_acl"]) == (60, None)
    monkeypatch.setenv("FILE_STORAGE", "nfs")
    with pytest.raises(ImproperlyConfigured, match="FILE_STORAGE must be filesystem or s3; got 'nfs'"):
        envfilestorage("FILE_STORAGE", link_seconds=60)


def test_without_redis_tasks_run_eagerly_and_with_it_they_go_to_the_broker():
    probe = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    eager = run_django("shell", "--no-imports", "-c", probe)
    assert eager.stdout.split() == ["True", "memory://localhost/"], eager.stderr
    brokered = run_django("shell", "--no-imports", "-c", probe, REDIS_URL="redis://127.0.0.1:6379/3")
    assert brokered.stdout.split() == ["False", "redis://127.0.0.1:6379/3"], brokered.stderr


def test_the_database_comes_from_database_url():
    probe = "from django.db import connection as c; print(c.vendor, c.settings_dict['NAME'])"
    result = run_django(
        "shell", "--no-imports", "-c", probe, DATABASE_URL="postgres://someone@db.internal:5432/creators"
    )
    assert result.stdout.split() == ["postgresql", "creators"], result.stderr
