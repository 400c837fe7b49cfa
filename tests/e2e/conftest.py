"""Browser suite: builds and serves the real app (Reflex prod mode) with a Celery worker,
on the test database seeded with small demo data, and drives it with Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from marketing_app.db import session_scope
from marketing_app.services.demo_seed import DEMO_PASSWORD, seed_demo
from tests.conftest import ROOT

# Two cores run the app, its worker, PostgreSQL and the browser: give pages time to answer.
expect.set_options(timeout=20_000)  # as long as an action may wait (context default)
PORT = int(os.environ.get("E2E_PORT", "8123"))
BASE_URL = f"http://127.0.0.1:{PORT}"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SHOTS = ROOT / "shots"
START_TIMEOUT = 420  # seconds: a cold frontend build on 2 cores


def _start(command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115  (lives as long as the process)
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _wait_until_serving(server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.exit(f"app exited early:\n{log_path.read_text()[-4000:]}", returncode=1)
        try:
            if httpx.get(f"{BASE_URL}/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.exit(
        f"app did not serve in {START_TIMEOUT}s:\n{log_path.read_text()[-4000:]}", returncode=1
    )


@pytest.fixture(scope="session")
def app_server(migrated_database):
    with session_scope() as session:
        seed_demo(session=session, scale=0.05)
    scratch = Path(tempfile.mkdtemp(prefix="mk-e2e-"))
    env = os.environ | {"APP_PORT": str(PORT), "GRANIAN_WORKERS": "2", "BEAT_INTERVAL_SECONDS": "1"}
    worker = _start(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "jobs.celery_app",
            "worker",
            "--beat",
            "-s",
            str(scratch / "beat"),
            "--concurrency=1",
            "--loglevel=INFO",
        ],
        scratch / "worker.log",
        env,
    )
    server = _start(
        [str(ROOT / ".venv/bin/reflex"), "run", "--env", "prod"], scratch / "app.log", env
    )
    try:
        _wait_until_serving(server, scratch / "app.log")
        yield BASE_URL
    finally:
        _stop(server, signal.SIGINT)
        _stop(worker, signal.SIGTERM)


@pytest.fixture(scope="session")
def browser(app_server):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, app_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=app_server)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    # A click before the page is live is lost (seen on a loaded machine): wait until the app's
    # event socket has answered, which happens only after React has hydrated the form.
    answered: list[bool] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda _: answered.append(True)))
    page.goto("/login")
    for _ in range(300):  # up to 30 s; waiting lets Playwright deliver the socket's events
        if answered:
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")


def login_and_wait(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    login(page, email, password)
    # The first page after signing in loads the app's state: slow while the cores are busy.
    expect(page.locator("#signed-in-as")).to_be_visible(timeout=30_000)


def drop_socket_on_demand(page: Page) -> list:
    """Relay the page's event websocket through Playwright; closing a relay drops that
    connection on both sides, as a network blip does, and the page then reconnects."""
    relays: list = []

    def relay(route) -> None:
        relays.append((route, route.connect_to_server()))

    page.route_web_socket(re.compile(r"/_event"), relay)
    return relays


def drop_and_wait_for_reconnect(page: Page, relays: list) -> None:
    route, server = relays[-1]
    connections = len(relays)
    server.close()
    route.close()
    for _ in range(150):  # the page reconnects at once; the relay is made on its way
        if len(relays) > connections:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page did not reconnect its websocket")
