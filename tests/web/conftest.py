"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, and Pepper itself.

`pepper` is one `pepper-orchestrator run --demo` child process per test module, in LLM mode against
the scripted model of `tests/web/brain.py`, on a free port; tests can stop and start it again on the
same port and data. `browser` is headless Chromium; `page` opens Pepper's UI in a fresh context.
Screenshots go to `test-artifacts/ui/`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
SIGNAL_WAIT_MS = 45_000  # how long `expect` waits: the feeds read the whole demo mailbox after start-up


class PepperProcess:
    """`python -m orchestrator.cli run` on `data_dir` and `port`, started and stopped at will."""

    def __init__(self, data_dir: Path, env: dict[str, str], arguments: list[str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = env
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
    """Pepper on the demo data, in LLM mode with the scripted model."""
    env = pepper_env(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="test", PEPPER_MODEL="scripted")
    process = PepperProcess(tmp_path_factory.mktemp("pepper") / "data", env, ["--demo"])
    process.start()
    try:
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


@pytest.fixture
def page(browser, pepper: PepperProcess):
    """Pepper's page at desktop size, loaded; a script error on it fails the test."""
    context = browser.new_context(viewport=DESKTOP, base_url=pepper.url)
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
