"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test in this folder is marked `browser`. Fixtures: `browser` (one Chromium per session), `page`
(a fresh desktop context per test, its base URL the live server), `phone_page` (the same on a 375x740
phone), `screenshots` (full-page screenshots of a task's steps). Helpers: `login`, `assert_accessible`
(axe-core: no serious or critical violation) and `assert_no_sideways_scroll`.
"""

import itertools
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000
# Where `screenshots` saves; BROWSER_SCREENSHOTS, when set, names another folder (relative to the repo root).
SCREENSHOTS = "var/artefacts/screenshots"


def pytest_itemcollected(item):
    """Every test of this folder is marked `browser`."""
    if HERE in item.path.parents:
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last: from the first one to the end of the session, Playwright keeps an event loop
    running on the main thread (see `browser`), and no other test should run beside it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session.

    Playwright's sync API keeps an asyncio event loop running on this thread. Django then refuses database
    access (DJANGO_ALLOW_ASYNC_UNSAFE lifts that while Playwright runs: our fixtures create rows in plain
    synchronous code) and hands out other connection objects than before the loop started (asgiref keeps
    them per context, not per thread, when a loop runs): they are closed here, else PostgreSQL could not
    drop the test database.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture(autouse=True)
def _live_database(live_server):
    """The live server sees committed rows only, so browser tests run on a transactional database (the
    top conftest seeds the data migrations' rows again for those)."""


@pytest.fixture
def new_context(browser, live_server):
    """Open browser contexts on the live server, closed after the test."""
    contexts = []

    def open_context(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh desktop-sized context."""
    return new_context(**DESKTOP).new_page()


@pytest.fixture
def phone_page(new_context):
    """A page in a fresh phone-sized context (375x740, mobile, touch)."""
    return new_context(**PHONE).new_page()


@pytest.fixture
def screenshots():
    """Full-page screenshots of the steps of a task: `shot = screenshots(page, "grant-a-segment")`, then
    `shot("job-done")` saves `<folder>/grant-a-segment/phone-03-job-done.png`: the width is named from
    the page's viewport (phone or desktop), the steps are numbered in the order they are taken, and the
    folder is BROWSER_SCREENSHOTS or var/artefacts/screenshots (git-ignored). A task's earlier
    screenshots at that width are removed first, so the folder shows the last run only."""

    def start(page, task: str):
        width = "phone" if page.viewport_size["width"] <= PHONE["viewport"]["width"] else "desktop"
        folder = REPO_ROOT / (os.environ.get("BROWSER_SCREENSHOTS") or SCREENSHOTS) / task
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{width}-*.png"):
            old.unlink()
        steps = itertools.count(1)

        def shot(step: str) -> Path:
            path = folder / f"{width}-{next(steps):02}-{step}.png"
            page.screenshot(path=path, full_page=True)
            return path

        return shot

    return start


def login(page, live_server, email, password):
    """Log in through the real form; the page is left wherever the app sends the user."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def assert_accessible(page):
    """Fail on each axe-core violation of impact serious or critical on the current page."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run `npm ci` in {REPO_ROOT}")
    # Evaluated, not added as a <script>: the pages' Content-Security-Policy refuses inline scripts.
    page.evaluate(AXE_JS.read_text())
    results = page.evaluate("() => axe.run()")
    violations = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(", ".join(map(str, node["target"])) for node in v["nodes"])
        for v in violations
    )
    if violations:
        pytest.fail(f"axe: {len(violations)} serious or critical violation(s) on {page.url}\n{report}")


def assert_no_sideways_scroll(page):
    """The page is no wider than the viewport, and no navigation bar scrolls sideways within itself:
    nothing makes the user scroll sideways.

    Compared with the layout viewport (the root's clientWidth), not window.innerWidth: on a mobile
    viewport Chromium zooms out to fit content wider than the screen, and innerWidth grows with it.
    A bar with overflow-x: auto keeps the document narrow while its own links scroll out of sight,
    so each <nav> is measured as well.
    """
    width = page.evaluate("""() => ({
        content: document.documentElement.scrollWidth,
        viewport: Math.min(window.innerWidth, document.documentElement.clientWidth),
        navs: [...document.querySelectorAll("nav")]
            .filter((nav) => nav.scrollWidth > nav.clientWidth)
            .map((nav) => `${nav.getAttribute("aria-label")}: ${nav.scrollWidth}px in ${nav.clientWidth}px`),
    })""")
    assert width["content"] <= width["viewport"], (
        f"{page.url} scrolls sideways: {width['content']}px wide in a {width['viewport']}px viewport"
    )
    assert not width["navs"], f"{page.url} has navigation that scrolls sideways: {width['navs']}"
