"""Dashboard tests: headless Debian Chromium driven by Playwright against the real server
(they skip with how to install it locally and fail on CI, ``GRIDCORE_REQUIRE_BROWSER=1``).

The fixtures the view modules share: ``chromium`` (Debian's, found as the dashboard's tests
find it), ``browser``, and ``page`` (a fresh context per test, failing on any uncaught page
error) over the module's own ``site`` fixture (an object with ``base`` and ``token(staff_no)``),
and ``login``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters import demo
from adapters.settings import sqlite_env
from graphql_api.app import create_app
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from graphql_api.web import dashboard_built
from gridcore.application import GridcoreApp
from projections import all_projections
from projections.runner import Runner
from tests.web import test_web_dashboard as dashboard

T = TypeVar("T")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, as the dashboard's tests find it (installed when required)."""
    path = dashboard._browser_path()
    if path is None or not dashboard._has_chinese_font():
        dashboard._try_install()
        path = dashboard._browser_path()
    if path is None:
        dashboard._unavailable("No chromium executable was found.")
    try:
        from playwright.sync_api import expect
    except ImportError:
        dashboard._unavailable("The playwright package is not installed.")
    # every wait is for something the page shows; the bound only keeps a broken page from
    # hanging the run, and is wide enough for a loaded machine (the 5 s default is not)
    expect.set_options(timeout=60_000)
    if not dashboard_built():
        pytest.fail("The dashboard is not built: run `npm ci && npm run build` in web/.")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, site: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def login(page: Any, site: Any, staff_no: str) -> None:
    from playwright.sync_api import expect

    page.goto(site.base + "/")
    page.get_by_label("访问令牌").fill(site.token(staff_no))
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("identity")).to_be_visible()


@contextmanager
def served_712(tmp_path_factory: pytest.TempPathFactory, name: str, secret: str,
               story: Callable[[GridcoreApp, demo.ScenarioClock], T]
               ) -> Iterator[tuple[str, GridcoreApp, T, Path]]:
    """The 712 community on a fresh SQLite store with ``story`` played on its scenario
    clock, its read models caught up and the API and dashboard served: (base URL, the
    application, what the story returned, the screenshot folder)."""
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path_factory.mktemp(name) / "gridcore.sqlite"),
                      clock=clock)
    demo.build(app)
    told = story(app, clock)
    runner = Runner(app, all_projections()).start()
    asgi = create_app(app, runner, ApiSettings(mode=Mode.DEVELOPMENT, secret=secret))
    shots = Path(os.environ.get("GRIDCORE_SCREENSHOT_DIR")
                 or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        runner.wait(app.recorder.max_notification_id(), timeout=120)
        with running(asgi) as base:
            yield base, app, told, shots
    finally:
        runner.stop()
