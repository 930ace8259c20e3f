"""The real app served on a localhost port for a real browser: a database of its own per
module, a movable clock shared with the tests (so each typed TOTP code is fresh), and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from registry.app import create_app
from registry.clock import MovableClock
from registry.settings import Settings
from tests.conftest import TEMPLATE, _with_database
from tests.harness import POLICY, SECRET_KEY, TEST_HASH, World

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """uvicorn in a thread of its own, with its own event loop."""

    def __init__(self, world: World) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(world.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
async def live_world(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """A World whose app is served over real HTTP; its clock and database are the tests' too."""
    name = f"w_{os.getpid()}_{_free_port()}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    url = _with_database(server_url, name)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web"),
        database_url=url,
        policy_path=POLICY,
        secret_key=SECRET_KEY,
        password_hash=TEST_HASH,
        audit_seal_interval_seconds=0,
        # Plain http on localhost: the browser would drop a Secure cookie.
        cookie_secure=False,
        # Periodic work runs only when a test asks for it, not at whatever moment the moved
        # clock happens to be at.
        jobs_interval_seconds=0,
    )
    clock = MovableClock(datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC))
    db = await asyncpg.connect(url)
    world = World(create_app(settings, clock=clock), clock, db, settings)
    try:
        yield world
    finally:
        await db.close()
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture(scope="module")
def live(live_world: World) -> Iterator[LiveServer]:
    with LiveServer(live_world) as server:
        yield server


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def browsing(browser: Browser, live: LiveServer, *, javascript: bool = False) -> AsyncIterator[BrowserContext]:
    """A fresh browser context (its own cookies), at a laptop's size, JavaScript off: every
    page must work without it. With JavaScript on (for axe-core, tests/web/axe.py) the pages'
    CSP is bypassed so that the checker can be injected; the pages themselves run no script."""
    context = await browser.new_context(
        base_url=live.url,
        viewport={"width": 1280, "height": 860},
        java_script_enabled=javascript,
        bypass_csp=javascript,
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(browser: Browser, live: LiveServer) -> AsyncIterator[Page]:
    async with browsing(browser, live) as context:
        yield await context.new_page()


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
