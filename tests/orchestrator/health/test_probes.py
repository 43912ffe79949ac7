"""doctor's probes: real server processes, a real closed port, the scripted model endpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio

from orchestrator.config import OrchestratorSettings, default_command
from orchestrator.health.checks import Level
from orchestrator.health.probes import probe_model, probe_server
from orchestrator.mcp_clients import ServerSpec
from tests.support.processes import REPO_ROOT, child_env, free_port
from tests.support.scripted_llm import Step, scripted_llm_server


def test_a_server_that_starts_and_reaches_its_account_is_ok(tmp_path: Path) -> None:
    spec = ServerSpec(name="calendar", command=default_command("calendar", tmp_path), env=child_env())

    checks = anyio.run(probe_server, spec)

    assert [check.name for check in checks] == ["server calendar", "account calendar"]
    assert all(check.level is Level.OK for check in checks), checks
    assert "tools" in checks[0].detail


def test_a_server_that_exits_at_start_fails_with_the_end_of_its_log(tmp_path: Path) -> None:
    script = "import sys; print('cannot open the maildir /nowhere', file=sys.stderr); sys.exit(3)"
    spec = ServerSpec(name="gmail", command=[sys.executable, "-c", script])

    [check] = anyio.run(probe_server, spec)

    assert check.level is Level.FAIL
    assert check.detail.startswith("does not start: ")
    assert "its log ends: cannot open the maildir /nowhere" in check.detail
    assert check.fix.startswith("run it by hand to see why:")


def test_an_unreachable_imap_account_fails_its_account_or_server_check(tmp_path: Path) -> None:
    env = child_env(
        {
            "PEPPER_GMAIL_PROVIDER": "imap",
            "PEPPER_GMAIL_IMAP_HOST": "127.0.0.1",
            "PEPPER_GMAIL_IMAP_PORT": str(free_port()),  # nothing listens there
            "PEPPER_GMAIL_IMAP_SECURITY": "none",
            "PEPPER_GMAIL_IMAP_USERNAME": "dana",
            "PEPPER_GMAIL_IMAP_PASSWORD": "hunter2-secret",
            "PEPPER_GMAIL_STATE_DIR": str(tmp_path / "state"),
        }
    )
    spec = ServerSpec(name="gmail", command=[sys.executable, "-m", "mcp_servers.gmail"], env=env)

    checks = anyio.run(probe_server, spec, 60.0)

    failed = [check for check in checks if check.level is Level.FAIL]
    assert failed, checks
    assert all("hunter2-secret" not in check.line() for check in checks)


def _settings(base_url: str, model: str = "pepper-small") -> OrchestratorSettings:
    return OrchestratorSettings(openai_base_url=base_url, model=model)


def test_model_served_by_the_endpoint_is_ok_and_a_missing_one_fails() -> None:
    with scripted_llm_server(models=["pepper-small", "pepper-large"]) as llm:
        served = anyio.run(probe_model, _settings(llm.base_url))
        missing = anyio.run(probe_model, _settings(llm.base_url, model="gpt-9"))

    assert served.level is Level.OK and "serves pepper-small" in served.detail
    assert missing.level is Level.FAIL
    assert "does not serve gpt-9; it serves pepper-small, pepper-large" in missing.detail


def test_an_endpoint_without_a_model_list_is_asked_for_one_short_answer() -> None:
    with scripted_llm_server(Step(content="pong")) as llm:
        check = anyio.run(probe_model, _settings(llm.base_url))

    assert check.level is Level.OK
    assert "answers as pepper-small (it lists no models)" in check.detail
    assert len(llm.requests) == 1


def test_an_endpoint_that_is_down_fails_and_rules_mode_is_information() -> None:
    down = anyio.run(probe_model, _settings(f"http://127.0.0.1:{free_port()}/v1"))

    assert down.level is Level.FAIL and "does not answer" in down.detail
    assert anyio.run(probe_model, OrchestratorSettings()).level is Level.INFO


def run_doctor(config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`pepper-orchestrator doctor` on `config` (rules mode, no embedder), as a user runs it."""
    env = child_env({"PEPPER_CONFIG": str(config), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    argv = ["doctor", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *argv],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_doctor_command_checks_a_fresh_installation_and_exits_zero(tmp_path: Path) -> None:
    done = run_doctor(tmp_path / "absent.toml", tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("✓ server context:", "✓ account gmail:", "✓ account calendar:", "✓ server notify:",
                 "· embedder: off", "· model: rules mode", "everything Pepper needs works"):  # fmt: skip
        assert line in done.stdout, done.stdout


def test_doctor_checks_each_accounts_own_server(tmp_path: Path) -> None:
    mail = tmp_path / "work-mail"
    for folder in ("cur", "new", "tmp"):
        (mail / folder).mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[accounts.work]\nkind = "maildir"\nmaildir = "{mail}"\n\n'
        f'[accounts.home]\nkind = "ics"\nics = ["{tmp_path / "nowhere" / "missing.ics"}"]\n'
    )
    config.chmod(0o600)
    done = run_doctor(config, tmp_path)

    assert "✓ server gmail.work:" in done.stdout and "✓ account gmail.work:" in done.stdout, done.stdout
    assert "server calendar.home" in done.stdout, done.stdout
