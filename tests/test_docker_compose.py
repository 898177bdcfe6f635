"""docker-compose.yml and the Dockerfile start what this project actually contains.

No Docker engine is needed: the file is read as `docker compose config` reads it (YAML merge keys, then
${VARIABLE} interpolation from the environment), and the modules, URLs, settings and Celery options it
names are checked against this checkout and its installed packages. No test here touches the database.
(tests/test_deployment.py starts the processes themselves.)
"""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
SECRETS = {"SECRET_KEY": "compose-test-key", "POSTGRES_PASSWORD": "compose-test-password"}
VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(Exception):
    pass


def interpolate(value, env: dict):
    """Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error};
    $$ is a literal $ (kept as $$ here, as `docker compose config` shows it)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        if name is None:
            return "$$"
        given = env.get(name)
        missing = given is None or (given == "" and op and op.startswith(":"))
        if missing and op and op.endswith("?"):
            raise MissingVariable(f"{name}: {arg}")
        if missing and op and op.endswith("-"):
            return arg
        return given or ""

    return VARIABLE.sub(one, value)


def compose_config(env: dict) -> dict:
    return interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), env)


@pytest.fixture(scope="module")
def compose():
    return compose_config(SECRETS)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile():
    """The Dockerfile's instructions, one string each, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip()]


def _argv(command) -> list[str]:
    """A compose command as the argv it runs: a string is split like a shell would; `sh -c` is unwrapped."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(argv[2])
    return argv


def _health_test(service) -> str:
    test = service["healthcheck"]["test"]
    assert isinstance(test, list), "a healthcheck test as a list states whether a shell runs it"
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return " ".join(test[1:])


def _celery_options(command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def test_compose_runs_web_worker_beat_postgres_and_redis_with_health_checks(services):
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable"), name
        assert _health_test(service).strip(), name
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert _health_test(services["postgres"]).startswith("pg_isready")
    assert _health_test(services["redis"]).startswith("redis-cli ping")


def test_web_migrates_then_serves_creatorhub_wsgi_with_gunicorn_on_port_8000(services):
    web = services["web"]
    script = web["command"][2]
    assert web["command"][:2] == ["sh", "-c"]
    migrate, serve = script.split("&&")
    assert shlex.split(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert shlex.split(serve) == [
        "exec", "gunicorn", "creatorhub.wsgi:application",
        "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-",
    ]  # fmt: skip
    assert web["ports"] == ["127.0.0.1:8000:8000"]


def test_web_health_check_fetches_the_health_endpoint_with_python_not_curl(services):
    from django.urls import resolve

    from creatorhub.api.views import HealthView

    test = services["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/'" in test[3]
    assert "curl" not in " ".join(test)
    compile(test[3], "<healthcheck>", "exec")
    assert resolve("/api/v1/health/").func.view_class is HealthView


def test_worker_and_beat_run_celery_for_the_creatorhub_app(services):
    worker = _argv(services["worker"]["command"])
    beat = _argv(services["beat"]["command"])
    assert worker[:4] == ["celery", "-A", "creatorhub", "worker"]
    assert {"--loglevel=INFO", "--concurrency=2"} <= set(worker)
    assert beat[:4] == ["celery", "-A", "creatorhub", "beat"]
    assert "--loglevel=INFO" in beat
    # Beat answers pings only with remote control on, under its own node name.
    assert "--enable-remote-control" in beat
    worker_check = _health_test(services["worker"])
    beat_check = _health_test(services["beat"])
    assert worker_check.startswith("celery -A creatorhub inspect ping")
    assert worker_check.endswith("-d celery@$$HOSTNAME")
    assert beat_check.startswith("celery -A creatorhub inspect ping")
    assert beat_check.endswith("-d celerybeat@$$HOSTNAME")
    # $$ is compose's escape for $: the shell, not compose, expands HOSTNAME, so the test runs in a shell.
    assert services["worker"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["beat"]["healthcheck"]["test"][0] == "CMD-SHELL"
    for name in ("worker", "beat"):
        check = services[name]["healthcheck"]
        assert int(check["timeout"].rstrip("s")) < int(check["interval"].rstrip("s")), name


def test_every_celery_option_compose_passes_exists_in_the_installed_celery(services):
    from celery.bin.beat import beat
    from celery.bin.celery import celery
    from celery.bin.control import inspect
    from celery.bin.worker import worker

    commands = {
        "worker": (_argv(services["worker"]["command"]), worker),
        "beat": (_argv(services["beat"]["command"]), beat),
        "worker healthcheck": (shlex.split(_health_test(services["worker"])), inspect),
        "beat healthcheck": (shlex.split(_health_test(services["beat"])), inspect),
    }
    for name, (argv, subcommand) in commands.items():
        known = _celery_options(celery) | _celery_options(subcommand)
        options = {token.split("=")[0] for token in argv if token.startswith("-")}
        assert options <= known, f"{name}: {sorted(options - known)} unknown to celery {subcommand.name}"


def test_app_services_wait_for_healthy_postgres_and_redis_and_tasks_wait_for_migrations(services):
    healthy = {"condition": "service_healthy"}
    assert services["web"]["depends_on"] == {"postgres": healthy, "redis": healthy}
    for name in ("worker", "beat"):
        assert services[name]["depends_on"] == {"postgres": healthy, "redis": healthy, "web": healthy}, name


def test_app_services_share_one_build_restart_policy_and_environment(compose, services):
    assert "x-app" in compose
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == ".", name
        assert service["restart"] == "unless-stopped", name
        assert service["environment"] == compose["x-app"]["environment"], name


def test_database_and_redis_urls_point_at_the_compose_services(services):
    env = services["web"]["environment"]
    database = urlsplit(env["DATABASE_URL"])
    postgres = services["postgres"]["environment"]
    assert database.scheme in ("postgres", "postgresql")
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    redis = urlsplit(env["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_secrets_come_from_the_environment_and_compose_refuses_to_start_without_them():
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in APP_SERVICES:
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", raw[name]["environment"]["SECRET_KEY"]), name
    assert re.fullmatch(
        r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", raw["postgres"]["environment"]["POSTGRES_PASSWORD"]
    )
    for missing in SECRETS:
        with pytest.raises(MissingVariable, match=missing):
            compose_config({name: value for name, value in SECRETS.items() if name != missing})
    with pytest.raises(MissingVariable):
        compose_config({**SECRETS, "POSTGRES_PASSWORD": ""})


def test_no_port_is_published_on_every_interface(services):
    """Only web publishes a port, on this machine's loopback: an HTTPS proxy in front publishes the site."""
    published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
    assert set(published) == {"web"}
    for port in published["web"]:
        if isinstance(port, dict):
            assert port.get("host_ip") == "127.0.0.1", port
        else:
            assert str(port).startswith("127.0.0.1:"), port


def test_every_service_that_touches_files_mounts_one_named_volume_at_media_root(compose, services):
    """Web saves uploads that the worker reads; the worker writes exports that web serves."""
    env = services["web"]["environment"]
    assert env["FILE_STORAGE"] == "filesystem"
    mounts = {}
    for name in ("web", "worker"):
        volumes = [volume.split(":") for volume in services[name]["volumes"]]
        mounts[name] = [(source, target) for source, target, *_ in volumes if target == env["MEDIA_ROOT"]]
        assert len(mounts[name]) == 1, f"{name} mounts nothing at MEDIA_ROOT"
    assert mounts["web"] == mounts["worker"]
    source = mounts["web"][0][0]
    assert not source.startswith((".", "/", "~")), "a named volume, not a folder of one machine"
    assert source in compose["volumes"]


def test_the_image_lets_its_user_write_the_media_folder(dockerfile, services):
    media = services["web"]["environment"]["MEDIA_ROOT"]
    made = next(line for line in dockerfile if "mkdir -p" in line)
    assert f"mkdir -p {media}" in made
    assert re.search(r"chown -R creatorhub:creatorhub /app/var\b", made)
    assert media.startswith("/app/var/")


def test_compose_environment_gives_production_settings_over_plain_http(services):
    """Load the settings in a fresh process with exactly the compose environment, as the containers do."""
    env = {key: str(value) for key, value in services["web"]["environment"].items()}
    env |= {"PATH": os.environ["PATH"]}
    env["DJANGO_SETTINGS_MODULE"] = "creatorhub.settings"
    probe = textwrap.dedent("""
        import json
        from django.conf import settings as s
        print(json.dumps({
            "DEBUG": s.DEBUG, "ALLOWED_HOSTS": s.ALLOWED_HOSTS, "SITE_URL": s.SITE_URL,
            "DATABASE": [s.DATABASES["default"][key] for key in ("ENGINE", "HOST", "PORT", "NAME")],
            "BROKER": s.CELERY_BROKER_URL, "EAGER": s.CELERY_TASK_ALWAYS_EAGER,
            "ROLE": s.DATABASES["default"].get("OPTIONS", {}).get("assume_role"),
            "HTTPS_ONLY": [s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],
        }))
    """)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1"],
        "SITE_URL": "http://localhost:8000",
        "DATABASE": ["django.db.backends.postgresql", "postgres", 5432, "creatorhub"],
        "BROKER": "redis://redis:6379/0",
        "EAGER": False,
        "ROLE": "creatorhub_app",
        "HTTPS_ONLY": [False, False, False],
    }


def test_the_app_runs_as_a_role_of_its_own_and_migrate_as_the_tables_owner(services):
    """Row-level security binds the app role, not the owner who logs in: web, worker and beat share one
    environment, and the `migrate` in web's command is creatorhub's, which runs as the login user."""
    from django.core.management import get_commands

    from creatorhub.management.commands.migrate import Command

    role = services["web"]["environment"]["DATABASE_APP_ROLE"]
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", role)
    assert role != services["postgres"]["environment"]["POSTGRES_USER"]
    for name in APP_SERVICES:
        assert services[name]["environment"]["DATABASE_APP_ROLE"] == role, name
    assert get_commands()["migrate"] == "creatorhub"
    assert Command.__module__ == "creatorhub.management.commands.migrate"


def test_modules_named_by_the_commands_are_importable():
    from celery.app.utils import find_app

    import creatorhub.celery
    import creatorhub.wsgi

    assert callable(creatorhub.wsgi.application)
    assert creatorhub.celery.app.main == "creatorhub"
    # What `celery -A creatorhub` resolves to.
    assert find_app("creatorhub") is creatorhub.celery.app


def test_dockerfile_builds_a_non_root_gunicorn_image_with_static_files(dockerfile):
    assert dockerfile[0] == "FROM python:3.11-slim"
    runs = [line for line in dockerfile if line.startswith("RUN ")]
    assert any(re.search(r"\bpip install \.( |$)", run) for run in runs), "the project is installed"
    assert not any("[dev]" in run for run in runs), "no dev extras in the image"
    collect = next(i for i, line in enumerate(dockerfile) if "collectstatic --noinput" in line)
    assert dockerfile[collect].startswith("RUN SECRET_KEY=")
    assert "DEBUG=false" in dockerfile[collect]
    assert not any(re.match(r"(ENV|ARG) .*\bSECRET_KEY\b", line) for line in dockerfile), (
        "the build-time key stays in the collectstatic step"
    )
    assert "ENV DEBUG=false" in dockerfile, "the image runs with DEBUG off, and so needs a SECRET_KEY"
    users = [i for i, line in enumerate(dockerfile) if line.startswith("USER ")]
    assert users, "the image has a USER"
    assert users[-1] > collect
    assert dockerfile[users[-1]].split()[1].split(":")[0] not in ("root", "0")
    assert "EXPOSE 8000" in dockerfile
    cmd = next(line for line in reversed(dockerfile) if line.startswith("CMD "))
    assert cmd == (
        'CMD ["gunicorn", "creatorhub.wsgi:application", "--bind", "0.0.0.0:8000", '
        '"--workers", "3", "--access-logfile", "-"]'
    )
    # The code in WORKDIR must win over site-packages: settings locate templates and static files beside it.
    workdir = next(line.split()[1] for line in dockerfile if line.startswith("WORKDIR "))
    assert re.search(rf"\bPYTHONPATH={re.escape(workdir)}\b", " ".join(dockerfile))


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }  # fmt: skip
    expected = {".venv", "node_modules", ".git", "var", "db.sqlite3", "staticfiles", ".pytest_cache", ".env"}
    assert expected <= ignored
    assert "**/__pycache__" in ignored
