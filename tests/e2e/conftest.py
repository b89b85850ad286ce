"""End-to-end fixtures: the app on a real port (uvicorn in a thread, fresh SQLite database) with
its embedded worker, a local webhook receiver, and one headless Chromium for the whole session.

The browser is Debian's ``chromium`` (Playwright's own browser download cannot work on an
isolated network); without it these tests are skipped, saying so. Screenshots of the main pages
land in ``test-artifacts/screenshots/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import asyncio
import http.server
import queue
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from tests.factories import DEFAULT_PASSWORD
from voucher_service import migrations
from voucher_service.app import create_app
from voucher_service.settings import Settings
from voucher_service.users.bootstrap import create_authority_user

T = TypeVar("T")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SYSADMIN_EMAIL = "admin@kjj.example.gov.cn"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--lang=zh-CN",
]

pytestmark = pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="no Chromium at /usr/bin/chromium: apt-get install chromium fonts-noto-cjk "
    "(.ci/run does) to run the browser tests",
)


def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Call ``function`` in a thread of its own, clear of any event loop in the caller's thread
    (set-up code and Alembic call ``asyncio.run``)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function(*args))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Receiver(http.server.BaseHTTPRequestHandler):
    """A provider's webhook receiver that accepts everything."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings
    hook_url: str


@pytest.fixture(scope="session")
def receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/voucher"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, receiver: str) -> Iterator[LiveServer]:
    """The whole service (API, portal, worker) on a free local port."""
    data = tmp_path_factory.mktemp("e2e")
    port = free_port()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{data / 'voucher.db'}",
        data_dir=data,
        base_url=f"http://127.0.0.1:{port}",
        embedded_worker=True,
        worker_poll_seconds=0.2,
        webhook_allow_loopback=True,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        password_hash_parallelism=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    in_thread(migrations.upgrade, settings.resolved_database_url)
    in_thread(
        asyncio.run,
        create_authority_user(
            settings,
            email=SYSADMIN_EMAIL,
            name="王立新",
            role="sysadmin",
            password=DEFAULT_PASSWORD,
            organisation_name="某市科学技术局",
        ),
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(settings.base_url, settings, receiver)
    server.should_exit = True
    thread.join(timeout=10)


class BrowserThread:
    """One headless Chromium for the whole session, owned by a thread of its own.

    Playwright's sync API runs an event loop in the thread that uses it; in pytest's own thread
    that loop would break every async test that runs after it. So the browser lives here, and
    each journey runs here, in a fresh context (no cookies), its failures re-raised in the test.
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self.started: Future[None] = Future()
        self.thread = threading.Thread(target=self._serve, name="chromium", daemon=True)
        self.thread.start()
        self.started.result(timeout=60)

    def _serve(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS
                )
                self.started.set_result(None)
                while (job := self.jobs.get()) is not None:
                    work, outcome = job
                    try:
                        outcome.set_result(work(chromium))
                    except BaseException as exc:  # re-raised in the test's thread
                        outcome.set_exception(exc)
                chromium.close()
        except BaseException as exc:
            if not self.started.done():
                self.started.set_exception(exc)

    def run(self, work: Callable[[Any], T], timeout: float = 180) -> T:
        outcome: Future[T] = Future()
        self.jobs.put((work, outcome))
        return outcome.result(timeout=timeout)

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def chromium() -> Iterator[BrowserThread]:
    browser = BrowserThread()
    yield browser
    browser.close()


@pytest.fixture
def journey(
    chromium: BrowserThread, live_server: LiveServer
) -> Callable[[Callable[[Any], None]], None]:
    """Run ``steps(page)`` in the browser: a fresh context in Simplified Chinese, desktop size."""

    def run(steps: Callable[[Any], None]) -> None:
        def in_browser(browser: Any) -> None:
            context = browser.new_context(
                base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 860}
            )
            context.set_default_timeout(10_000)
            try:
                steps(context.new_page())
            finally:
                context.close()

        chromium.run(in_browser)

    return run


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  const controls = document.querySelectorAll(
    "input:not([type=hidden]), select, textarea");
  for (const control of controls) {
    if (!control.labels.length && !control.getAttribute("aria-label"))
      problems.push("no label: " + (control.name || control.id));
    for (const id of (control.getAttribute("aria-describedby") || "").split(" "))
      if (id && !document.getElementById(id)) problems.push("describedby missing: " + id);
  }
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i)))
    problems.push("duplicate id: " + id);
  let level = 0;
  for (const heading of document.querySelectorAll("main h1, main h2, main h3, main h4")) {
    const next = Number(heading.tagName[1]);
    if (next > level + 1) problems.push("heading skips a level: " + heading.textContent.trim());
    level = next;
  }
  if (document.querySelectorAll("main h1").length !== 1) problems.push("not one h1");
  return problems;
}"""


def shoot(page: object, screenshots: Path, name: str) -> Path:
    """Check the page's accessibility basics, then save a full-page screenshot of it.

    Every form control has a label, every aria-describedby points at something, ids are
    unique, headings start at one h1 and never skip a level.
    """
    problems = page.evaluate(ACCESSIBILITY_PROBLEMS)  # type: ignore[attr-defined]
    assert problems == [], f"{name}: {problems}"
    path = screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def arrange(settings: Settings, work: object) -> object:
    """Run ``work(session)`` (an async function) against the live server's database."""
    from voucher_service.db import Database, create_engine

    async def run() -> object:
        database = Database(create_engine(settings))
        try:
            async with database.session() as session:
                return await work(session)  # type: ignore[operator]
        finally:
            await database.dispose()

    return in_thread(asyncio.run, run())
