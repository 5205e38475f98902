"""Real-browser fixtures: one headless Chromium for the whole folder, a fresh browser
context (cookies, storage) for every test, pointed at pytest-django's live server.

Chromium comes from the operating system (Debian's ``chromium`` package, which ``.ci/run``
installs); Playwright's own browser download is not used. Without the binary every test
in this folder is skipped, with the reason shown in the summary (``-ra``).
"""

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Milliseconds Playwright waits for a page or an element before failing a test.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}; .ci/run installs it")
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(skip)


# The live server answers one request at a time. On the embedded SQLite the test database
# lives in memory and Django hands the server's threads the test's own connection; two
# requests at once (search-as-you-type sends them back to back) would run two
# transactions on that one connection, which SQLite refuses. Connections stay threaded
# (the browser keeps them alive); each request's work, response body and clean-up run
# under one lock.
class SerialWSGIServer(ThreadedWSGIServer):
    _one_at_a_time = threading.Lock()

    def set_app(self, application: Any) -> None:
        def serial(environ: Any, start_response: Any) -> list[bytes]:
            with self._one_at_a_time:
                result = application(environ, start_response)
                try:
                    return list(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()

        super().set_app(serial)


LiveServerThread.server_class = SerialWSGIServer


# One browser for all the tests of this folder. While Playwright runs, its event loop
# counts as running in the main thread, so:
# - Django refuses ORM calls there (factories, database flushes) unless
#   DJANGO_ALLOW_ASYNC_UNSAFE is set. It is safe here: the loop only waits on the browser
#   and never runs Django code alongside the test. The variable is set for the browser's
#   lifetime only, not at import: set for the whole run, it would reach subprocesses of
#   other tests (``manage.py check --deploy`` fails on it with async.E001).
# - asgiref's async_to_sync refuses to work there; closing the browser when this folder is
#   done, rather than at the end of the session, keeps that away from the rest of the suite.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where tests save screenshots: ``E2E_SCREENSHOT_DIR`` if set, else the test's temp
    folder (never the repository)."""
    chosen = os.environ.get("E2E_SCREENSHOT_DIR")
    if not chosen:
        return tmp_path
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
