"""The apps import one another in one direction only (docs/architecture.md, "Layers"): the contracts in
pyproject.toml, checked by import-linter. Reads the source only: no database, no Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_import_contract_is_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


APPS = ("creatorhub", "contacts", "activity", "offers", "emails", "usage", "audience")


def test_no_app_looks_another_up_by_name():
    """Every app is always installed and imports the ones below it plainly: no `apps.get_model` or
    `apps.is_installed` outside migrations, where the historical models come that way."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "apps.get_model(" in line or "is_installed(" in line
    ]
    assert not found, "\n".join(found)
