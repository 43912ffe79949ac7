"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, and Pepper itself.

`pepper` is one `pepper-orchestrator run --demo` child process per test module, in LLM mode against
the scripted model of `tests/web/brain.py`, on a free port; tests can stop and start it again on the
same port and data. `browser` is headless Chromium; `page` opens Pepper's UI in a fresh context.
Screenshots go to `test-artifacts/ui/`.

The demo is dated from the clock, and what it shows (which mail is urgent, which meetings are still to
come) depends on the day and the hour, so Pepper runs with its clock pinned to `PINNED` (a Monday
morning) by libfaketime, servers included (see `tests/support/clock.py` for why libfaketime and not a
setting of Pepper's), and every page gets the same time from Playwright's clock and London's timezone
(`new_context`). The day-to-day variation itself is tested in-process, for each day of a week, by
`tests/orchestrator/demo/test_any_day.py`.

Waits are conditions with generous deadlines, never fixed pauses: `pepper` is handed over only once
Pepper has read the demo (`wait_until_demo_read`, which took from 10 s on an idle machine to over 45 s
on a loaded one), and `expect` and every action wait up to `SIGNAL_WAIT_MS` (Playwright's default is
30 s for a click), so each test waits only for what it does itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.demo import DEMO_TIMEZONE
from orchestrator.demo.agenda import QBR_TITLE
from tests.support.clock import PinnedClock
from tests.support.processes import REPO_ROOT, child_env, free_port, stop, wait_for_port
from tests.support.scripted_llm import ScriptedLLM, scripted_llm_server
from tests.web.brain import ScriptedPepperModel

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
STARTUP_SECONDS = 90.0
READ_DEMO_SECONDS = 300.0  # for the feeds to read the whole demo mailbox after start-up, on a loaded machine
# What the tests rely on, and what comes last: the scripted model notifies the demo's urgent mail.
URGENT_IN_DEMO = ("URGENT: Atlas numbers for the board deck", "Q4 budget template due tomorrow 5pm")
HTTP_SECONDS = 45.0  # for one answer from Pepper's API (httpx waits 5 s by default)
SIGNAL_WAIT_MS = 45_000  # how long `expect` and actions wait (Playwright's default for actions: 30 s)


class PepperProcess:
    """`python -m orchestrator.cli run` on `data_dir` and `port`, started and stopped at will."""

    def __init__(
        self, data_dir: Path, env: dict[str, str], arguments: list[str], clock: PinnedClock | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.clock = clock
        self.env = clock.env(env) if clock is not None else env
        self.arguments = arguments
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def page_url(self) -> str:
        return f"{self.url}/pepper/ui.html"

    def start(self) -> None:
        self.starts += 1
        log = (self.data_dir.parent / f"pepper-{self.starts}.log").open("wb")
        command = [sys.executable, "-m", "orchestrator.cli", "run", "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), *self.arguments],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        try:
            wait_for_port(self.port, self.process, timeout=STARTUP_SECONDS)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"Pepper did not start: {exc}\n{self.log()[-3000:]}") from exc

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def log(self) -> str:
        return (self.data_dir.parent / f"pepper-{self.starts}.log").read_text(errors="replace")

    def wait_until_demo_read(self, timeout: float = READ_DEMO_SECONDS) -> None:
        """Until the demo's urgent mail is notified, the CEO's question triaged, tomorrow's client review
        listed and the unanswered vendor question followed up (sent mail comes last), so that each
        test's own waits cover only what it does, not Pepper's first reading of the mailbox."""
        deadline = time.monotonic() + timeout
        while not self._demo_read():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Pepper did not read the demo in {timeout:.0f} s\n{self.log()[-3000:]}")
            try:  # the pause between looks doubles as a check that Pepper is still running
                code = self.process.wait(timeout=1.0) if self.process is not None else "never started"
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"Pepper stopped ({code}) before it read the demo\n{self.log()[-3000:]}")

    def _demo_read(self) -> bool:
        try:  # while the feeds read the demo, a busy machine can take longer than this to answer
            answer = httpx.get(f"{self.url}/pepper/api/state", timeout=HTTP_SECONDS)
        except httpx.TimeoutException:
            return False
        state = answer.raise_for_status().json()
        notified = " ".join(item["data"].get("title", "") for item in state["notifications"])
        signals = {namespace: "" for namespace in ("signals.email", "signals.meeting", "signals.follow_up")}
        for item in state["signals"]:
            if item["namespace"] in signals:
                signals[item["namespace"]] += item["data"].get("summary", "") + "\n"
        return (
            all(subject in notified for subject in URGENT_IN_DEMO)
            and "Atlas pricing before the board" in signals["signals.email"]
            and QBR_TITLE in signals["signals.meeting"]
            and "BrightStack" in signals["signals.follow_up"]
        )

    def now(self) -> datetime:
        """The time as Pepper sees it (pinned, or the real one)."""
        return self.clock.now() if self.clock is not None else datetime.now(UTC)


def pepper_env(**extra: str) -> dict[str, str]:
    """A hermetic environment: no config file, no embedding model, no inherited LLM or token."""
    env = child_env()
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PEPPER_MODEL", "PEPPER_UI_TOKEN", "PEPPER_UI_HOST"):
        env.pop(name, None)
    env.update(
        {"PEPPER_CONFIG": str(REPO_ROOT / "no-such-pepper-config.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"}
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with scripted_llm_server(responder=ScriptedPepperModel()) as script:
        yield script


@pytest.fixture(scope="module")
def pepper(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PepperProcess]:
    """Pepper on the demo data, in LLM mode with the scripted model, its clock pinned to a Monday morning."""
    env = pepper_env(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="test", PEPPER_MODEL="scripted")
    process = PepperProcess(tmp_path_factory.mktemp("pepper") / "data", env, ["--demo"], PinnedClock())
    try:
        process.start()
        process.wait_until_demo_read()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")  # not the session: Playwright's sync API holds an event loop while it
def browser():  # runs, and anyio tests collected after the browser tests could not start their own
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (scripts/apt-packages.txt)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=SIGNAL_WAIT_MS)
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def new_context(browser, pepper: PepperProcess, behind: timedelta = timedelta(0), **options):
    """A browser context on `pepper` that shares its clock (or runs `behind` it, as a browser whose
    clock is off would), in the demo's timezone, with generous waits."""
    context = browser.new_context(base_url=pepper.url, timezone_id=DEMO_TIMEZONE, **options)
    context.set_default_timeout(SIGNAL_WAIT_MS)
    context.set_default_navigation_timeout(SIGNAL_WAIT_MS)
    if pepper.clock is not None:
        context.clock.install(time=pepper.now() - behind)
    return context


@pytest.fixture
def page(browser, pepper: PepperProcess):
    """Pepper's page at desktop size, loaded; a script error on it fails the test."""
    yield from _page(browser, pepper, timedelta(0))


@pytest.fixture
def page_behind(browser, pepper: PepperProcess):
    """As `page`, in a browser whose clock runs two minutes behind Pepper's."""
    yield from _page(browser, pepper, timedelta(minutes=2))


def _page(browser, pepper: PepperProcess, behind: timedelta):
    context = new_context(browser, pepper, behind, viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(pepper.page_url)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"the page's scripts failed: {errors}"


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    path = screenshot_path(name)
    page.screenshot(path=str(path), full_page=full_page)
    return path


@contextmanager
def pepper_page(browser, url: str) -> Iterator[Any]:
    """Pepper's page at `url`, desktop size, every kind of card shown (the low-priority filter on); a
    script error on the page fails the test."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.get_by_role("checkbox", name="low priority and bulk").check()  # wherever the ranker put them
        yield page
        assert errors == [], f"the page's scripts failed: {errors}"
    finally:
        context.close()
