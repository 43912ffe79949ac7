"""An MCP host gets one entry per account (`pepper-gmail-work`), started with only PATH and HOME;
an account's secret is never printed: its entry runs `pepper-orchestrator serve gmail.work`."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from tests.orchestrator.test_mcp_config import host_env, run_mcp_config
from tests.support.processes import REPO_ROOT


def test_each_account_is_a_host_entry_and_its_secret_stays_in_the_config(tmp_path: Path) -> None:
    for folder in ("mail/cur", "work-mail/cur", "work-mail/new", "work-mail/tmp"):
        (tmp_path / folder).mkdir(parents=True)
    config = (
        f'[accounts.work]\nkind = "maildir"\nmaildir = "{tmp_path / "work-mail"}"\n'
        'smtp_host = "smtp.example.org"\nsmtp_password = "hunter2-not-for-hosts"\n'
    )
    printed = run_mcp_config(tmp_path, config=config)
    servers = json.loads(printed.stdout)["mcpServers"]

    assert {"pepper-gmail", "pepper-gmail-work"} <= set(servers)
    assert "hunter2" not in printed.stdout + printed.stderr
    entry = servers["pepper-gmail-work"]
    assert entry["args"][-4:] == ["serve", "gmail.work", "--data-dir", str(tmp_path)]
    env = host_env({"PYTHONPATH": str(REPO_ROOT)})  # PATH and HOME, and this checkout's code
    transport = StdioTransport(entry["command"], entry["args"], env=env, cwd=str(tmp_path), keep_alive=False)

    async def labels() -> list[str]:
        async with Client(transport) as client:
            listed = await client.call_tool("list_labels", {})
        return [label["name"] for label in (listed.structured_content or {})["result"]]

    assert "INBOX" in anyio.run(labels)
