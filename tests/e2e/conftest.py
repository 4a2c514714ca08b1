"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in the test's thread, which makes Django refuse
database access from that thread unless told it is safe; the test itself is synchronous. The
permission is given to the browser tests only, and taken back after each: left in the
environment it would leak into other tests (and into `manage.py check --deploy`, which rightly
warns about it).
"""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path("/tmp")


@pytest.fixture(autouse=True)
def _database_access_beside_playwright(monkeypatch):
    monkeypatch.setitem(os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    # One browser per test: Playwright's event loop must be gone before any other test touches
    # the database, or Django would see that test as running inside an event loop.
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's loop runs, Django keeps the test's database connections apart from
        # the thread's usual ones; close them here, or they outlive the test database.
        connections.close_all()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    # Nothing on these pages may come from outside the registry (hospitals may have no internet).
    outside = []
    page.on(
        "request",
        lambda request: outside.append(request.url)
        if not request.url.startswith(live_server.url)
        else None,
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not outside, f"requests outside the registry: {outside}"
    assert not errors, f"script errors on the page: {errors}"
