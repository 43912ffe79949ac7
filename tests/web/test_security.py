"""Who may use the UI, checked against a real `pepper-orchestrator run` and a real browser: no token
off loopback means no start; with a token, nothing answers without it and the login link lets the
browser in (an HttpOnly cookie the page's scripts cannot read); a DNS-rebinding Host or an Origin
from another local port is refused on the state, the event stream and the profile."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect
from pydantic import SecretStr

from orchestrator.config import OrchestratorSettings
from orchestrator.runtime import ui_link_host, ui_token
from tests.support.processes import REPO_ROOT, free_port
from tests.web.conftest import DESKTOP, HTTP_SECONDS, STARTUP_SECONDS, PepperProcess, new_context, pepper_env

TOKEN = "s3cret-token-for-the-browser-test"
# Generous: a test that starts Pepper may wait up to STARTUP_SECONDS for it on a busy machine.
pytestmark = pytest.mark.timeout(300)


def test_ui_token_is_required_off_loopback_only() -> None:
    assert ui_token(OrchestratorSettings(ui_host="127.0.0.1")) is None
    assert ui_token(OrchestratorSettings(ui_host="0.0.0.0", ui_token=TOKEN)) == TOKEN
    with pytest.raises(SystemExit, match="PEPPER_UI_TOKEN"):
        ui_token(OrchestratorSettings(ui_host="0.0.0.0"))


def test_ui_token_is_required_for_allowed_host_names_beyond_loopback() -> None:
    lan = OrchestratorSettings(ui_host="127.0.0.1", ui_allowed_hosts="pepper.lan")
    with pytest.raises(SystemExit, match="for the hosts pepper.lan without PEPPER_UI_TOKEN"):
        ui_token(lan)
    assert ui_token(lan.model_copy(update={"ui_token": SecretStr(TOKEN)})) == TOKEN
    assert ui_token(OrchestratorSettings(ui_allowed_hosts=["localhost", "[::1]"])) is None


@pytest.mark.slow
def test_run_refuses_a_non_loopback_host_without_a_token(tmp_path) -> None:
    command = [sys.executable, "-m", "orchestrator.cli", "run", "--data-dir", str(tmp_path / "data")]
    finished = subprocess.run(
        [*command, "--host", "0.0.0.0", "--port", str(free_port())],
        env=pepper_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=STARTUP_SECONDS,
    )
    assert finished.returncode != 0
    assert b"refusing to serve the UI on 0.0.0.0 without PEPPER_UI_TOKEN" in finished.stderr


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PepperProcess]:
    """Pepper in rules mode on an empty mailbox, with a UI token."""
    data_dir = tmp_path_factory.mktemp("guarded") / "data"
    process = PepperProcess(data_dir, pepper_env(PEPPER_UI_TOKEN=TOKEN), [])
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.slow
def test_api_answers_401_without_the_token_and_200_with_it(guarded: PepperProcess) -> None:
    for path in ("/pepper/ui.html", "/pepper/api/state", "/pepper/api/status", "/pepper/api/events"):
        assert httpx.get(guarded.url + path, timeout=HTTP_SECONDS).status_code == 401, path
    refused = httpx.post(
        guarded.url + "/pepper/api/chat",
        json={"text": "hi"},
        headers={"X-Pepper-CSRF": "1"},
        timeout=HTTP_SECONDS,
    )
    assert refused.status_code == 401
    wrong = httpx.get(
        guarded.url + "/pepper/api/state", headers={"Authorization": "Bearer nope"}, timeout=HTTP_SECONDS
    )
    assert wrong.status_code == 401
    answer = httpx.get(
        guarded.url + "/pepper/api/state", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=HTTP_SECONDS
    )
    assert answer.status_code == 200
    assert answer.json()["status"]["mode"] == "rules"


def printed_login_link(pepper: PepperProcess) -> str:
    """The UI link Pepper printed at start-up (it prints once its web server listens)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while (found := re.search(r"UI: +(\S+)", pepper.log())) is None:
        assert time.monotonic() < deadline, f"no UI link in Pepper's log:\n{pepper.log()[-2000:]}"
        time.sleep(0.1)
    return found.group(1)


@pytest.mark.slow
def test_login_link_lets_the_browser_in_with_a_cookie_scripts_cannot_read(
    browser, guarded: PepperProcess
) -> None:
    context = new_context(browser, guarded, viewport=DESKTOP)
    page = context.new_page()
    try:
        assert page.goto("/pepper/ui.html").status == 401
        assert page.goto("/pepper/login?token=wrong").status == 401
        link = printed_login_link(guarded)
        assert link == f"http://localhost:{guarded.port}/pepper/login?token={TOKEN}"
        page.goto(link)
        assert page.url == f"http://localhost:{guarded.port}/pepper/ui.html"
        expect(page.locator("#mode")).to_have_text("Rules mode · no language model")
        expect(page.locator("#live")).to_have_text("live")
        assert TOKEN not in page.evaluate("document.cookie")
        page.get_by_label("Message to Pepper").fill("hello with a token")
        page.get_by_label("Message to Pepper").press("Enter")
        expect(page.locator("#messages .message.user .body")).to_have_text("hello with a token")
        expect(page.locator("#messages .message.assistant").first).to_be_visible()
    finally:
        context.close()


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PepperProcess]:
    """Pepper in rules mode on an empty mailbox, on loopback without a token (the default)."""
    process = PepperProcess(tmp_path_factory.mktemp("loopback") / "data", pepper_env(), [])
    process.start()
    try:
        yield process
    finally:
        process.stop()


def guarded_routes(
    pepper: PepperProcess, headers: dict[str, str], vip: str = "attacker@evil.example"
) -> dict[str, int]:
    """The status of reading the state, opening the event stream and adding `vip`, with `headers`."""
    with httpx.Client(base_url=pepper.url, headers=headers, timeout=60) as client:
        state = client.get("/pepper/api/state").status_code
        with client.stream("GET", "/pepper/api/events") as events:
            stream = events.status_code
        vip = client.post(
            "/pepper/api/profile",
            json={"action": "add_vip", "value": vip},
            headers={"X-Pepper-CSRF": "1"},
        ).status_code
    return {"state": state, "events": stream, "profile": vip}


@pytest.mark.slow
def test_ui_refuses_dns_rebinding_and_saves_nothing(loopback: PepperProcess) -> None:
    rebound = {"Host": f"evil.example:{loopback.port}", "Origin": f"http://evil.example:{loopback.port}"}
    assert guarded_routes(loopback, rebound) == {"state": 421, "events": 421, "profile": 421}
    assert "attacker@evil.example" not in httpx.get(loopback.url + "/pepper/api/profile", timeout=60).text


@pytest.mark.slow
def test_ui_refuses_an_origin_on_another_local_port(loopback: PepperProcess) -> None:
    other_port = {"Origin": f"http://127.0.0.1:{free_port()}"}
    assert guarded_routes(loopback, other_port) == {"state": 403, "events": 403, "profile": 403}
    assert "attacker@evil.example" not in httpx.get(loopback.url + "/pepper/api/profile", timeout=60).text


@pytest.mark.slow
def test_ui_answers_its_own_origin_on_each_loopback_name(loopback: PepperProcess) -> None:
    for name in ("localhost", "127.0.0.1", "[::1]"):
        own = {
            "Host": f"{name}:{loopback.port}",
            "Origin": f"http://{name}:{loopback.port}",
        }
        assert guarded_routes(loopback, own, vip="friend@example.org") == {
            "state": 200,
            "events": 200,
            "profile": 200,
        }, name
    assert "friend@example.org" in httpx.get(loopback.url + "/pepper/api/profile", timeout=60).text


def test_printed_ui_link_names_a_host_the_ui_answers_to() -> None:
    assert ui_link_host(OrchestratorSettings(ui_host="127.0.0.1")) == "localhost"
    assert ui_link_host(OrchestratorSettings(ui_host="0.0.0.0")) == "localhost"
    assert (
        ui_link_host(OrchestratorSettings(ui_host="0.0.0.0", ui_allowed_hosts="pepper.lan")) == "pepper.lan"
    )
    assert ui_link_host(OrchestratorSettings(ui_host="fd00::7")) == "[fd00::7]"


@pytest.mark.slow
def test_ui_on_all_interfaces_answers_only_its_configured_names(tmp_path) -> None:
    env = pepper_env(PEPPER_UI_TOKEN=TOKEN, PEPPER_UI_ALLOWED_HOSTS="pepper.lan")
    lan = PepperProcess(tmp_path / "data", env, ["--host", "0.0.0.0"])
    lan.start()
    try:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        named = {**bearer, "Host": f"pepper.lan:{lan.port}", "Origin": f"http://pepper.lan:{lan.port}"}
        assert httpx.get(lan.url + "/pepper/api/state", headers=named, timeout=60).status_code == 200
        for host in (f"evil.example:{lan.port}", f"0.0.0.0:{lan.port}"):
            refused = httpx.get(lan.url + "/pepper/api/state", headers={**bearer, "Host": host}, timeout=60)
            assert refused.status_code == 421, host
        assert printed_login_link(lan) == f"http://pepper.lan:{lan.port}/pepper/login?token={TOKEN}"
    finally:
        lan.stop()
