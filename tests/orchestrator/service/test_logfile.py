"""`run --log-file`: a service-run Pepper logs to a private, rotating file as well as to stderr."""

from __future__ import annotations

import logging
import logging.handlers
import stat
from pathlib import Path

from orchestrator.service.logfile import LOG_BACKUPS, LOG_MAX_BYTES, log_to_file
from tests.support.processes import PepperCli, child_env, free_port


def test_log_file_is_private_and_rotates_at_five_mebibytes(tmp_path: Path) -> None:
    path = tmp_path / "log" / "pepper.log"
    handler = log_to_file(path)
    try:
        logging.getLogger("pepper.test").warning("a line for the file")
        handler.flush()

        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        assert (handler.maxBytes, handler.backupCount) == (LOG_MAX_BYTES, LOG_BACKUPS) == (5 * 1024 * 1024, 4)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert "pepper.test WARNING a line for the file" in path.read_text(encoding="utf-8")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_run_with_a_log_file_writes_its_log_there_as_well_as_to_stderr(tmp_path: Path) -> None:
    log_file = tmp_path / "state" / "pepper.log"
    env = child_env({"PEPPER_CONFIG": str(tmp_path / "absent.toml"), "PEPPER_CONTEXT_EMBEDDER": "none"})
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    pepper = PepperCli(
        [
            "--demo",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
            "--log-file",
            str(log_file),
        ],
        env,
    )
    try:
        assert pepper.running.wait(timeout=120), pepper.stderr
        pepper.interrupt()
    finally:
        pepper.kill_if_running()

    logged = log_file.read_text(encoding="utf-8")
    started = next(line for line in logged.splitlines() if "orchestrator.runtime INFO started:" in line)
    assert "mode:    rules mode" in started and "UI:      http://localhost:" in started
    assert logged.rstrip().endswith("orchestrator.runtime INFO stopped")
    assert started in pepper.stderr  # stderr (the journal) gets every line the file gets
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
