"""SIGKILL the whole of Pepper (orchestrator and its servers) at random points while it ingests 300
emails; after a restart every email has exactly one signal and no notification was sent twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import anyio
import httpx
import pytest

from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT, child_env, free_port, stop

pytestmark = pytest.mark.slow
EMAILS = 300
ME = "me@example.org"


def write_mailbox(data_dir: Path) -> None:
    """300 emails from 17 people the user has written to (their URGENT mail counts: see sender_trust)."""
    for folder in ("cur", "new", "tmp"):
        (data_dir / "mail" / folder).mkdir(parents=True, exist_ok=True)
        (data_dir / "mail" / ".Sent" / folder).mkdir(parents=True, exist_ok=True)
    for index in range(17):
        sent = EmailMessage()
        sent["From"], sent["To"] = ME, f"Sender {index} <sender{index}@example.org>"
        sent["Message-ID"] = f"<sent{index}@example.org>"
        sent["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - 86400))
        sent["Subject"] = f"Hello {index}"
        sent.set_content("Good to meet you.")
        (data_dir / "mail" / ".Sent" / "cur" / f"sent{index:02d}.eml:2,S").write_bytes(bytes(sent))
    for index in range(EMAILS):
        message = EmailMessage()
        message["From"] = f"Sender {index % 17} <sender{index % 17}@example.org>"
        message["To"] = ME
        message["Message-ID"] = f"<m{index}@example.org>"
        message["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        urgent = index % 10 == 0
        message["Subject"] = f"{'URGENT: ' if urgent else ''}Topic {index}"
        message.set_content(
            "Could you send the figures by tomorrow at 5pm?" if urgent else f"Notes on topic {index}."
        )
        (data_dir / "mail" / "new" / f"{index:04d}.eml").write_bytes(bytes(message))


def start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = child_env(
        {
            "PEPPER_CONFIG": str(data_dir / "absent.toml"),
            "PEPPER_CONTEXT_EMBEDDER": "none",
            "PEPPER_USER_ADDRESSES": json.dumps([ME]),
        }
    )
    command = [
        sys.executable,
        "-m",
        "orchestrator.cli",
        "run",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
    ]
    with open(data_dir / "pepper.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, start_new_session=True, stdout=log, stderr=log
        )


def state(port: int) -> dict | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/pepper/api/state", timeout=10)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None  # 503 while the store starts


def wait_until_settled(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    quiet_polls = 0
    while quiet_polls < 3:
        assert process.poll() is None, "Pepper exited on its own"
        assert time.monotonic() < deadline, "Pepper did not finish the mailbox in time"
        snapshot = state(port)
        done = snapshot and sum(1 for s in snapshot["signals"] if s["namespace"] == "signals.email") == EMAILS
        idle = done and snapshot["status"]["queued"] == 0 and not snapshot["status"]["in_flight"]
        quiet_polls = quiet_polls + 1 if idle else 0
        time.sleep(1)


async def stored_results(data_dir: Path) -> tuple[list[str], list[dict]]:
    env = {"PYTHONPATH": str(REPO_ROOT), "PEPPER_CONTEXT_EMBEDDER": "none"}
    context = ServerConnection(
        ServerSpec(
            name="context",
            command=[
                sys.executable,
                "-m",
                "mcp_servers.context_store",
                "--db",
                str(data_dir / "context.sqlite3"),
            ],
            env=env,
        )
    )
    notify = ServerConnection(
        ServerSpec(
            name="notify",
            command=[sys.executable, "-m", "mcp_servers.notify", "--db", str(data_dir / "notify.sqlite3")],
            env=env,
        )
    )
    async with anyio.create_task_group() as task_group:
        await task_group.start(context.run)
        await task_group.start(notify.run)
        signals = (
            await context.call_tool("query", {"namespaces": ["signals.email"], "limit": 1000})
        ).structured["items"]
        notes = (await notify.call_tool("list_notifications", {"limit": 500})).structured["notifications"]
        task_group.cancel_scope.cancel()
    return [item["id"] for item in signals], notes


def test_pepper_killed_at_random_points_loses_nothing_and_notifies_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_mailbox(data_dir)
    port = free_port()
    randomness = random.Random(20261124)
    for _ in range(3):
        process = start(data_dir, port)
        time.sleep(randomness.uniform(4.0, 9.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    process = start(data_dir, port)
    try:
        wait_until_settled(port, process, time.monotonic() + 240)
    finally:
        stop(process)
    signal_ids, notifications = anyio.run(stored_results, data_dir)
    assert len(signal_ids) == EMAILS == len(set(signal_ids))
    keys = [n["dedupe_key"] for n in notifications]
    assert len(keys) == len(set(keys)), "a notification was sent twice"
    assert len(notifications) == EMAILS // 10, "every urgent email is notified exactly once"
