"""The event-loop stdio transport: real child processes, pipes and a regular file as stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from tests.support.processes import REPO_ROOT, child_env

# A server whose tools misbehave the way real code does: print to stdout, start a child that
# writes to stdout, and answer with a very long line.
SERVER = """
import subprocess, sys
from fastmcp import FastMCP
from mcp_servers.common.transport import TransportOptions, run_server

server = FastMCP("pipes")

@server.tool
def noisy(text: str) -> str:
    print("stray print from a tool")
    subprocess.run([sys.executable, "-c", "print('stray output of a child')"], check=True)
    return text.upper()

@server.tool
def echo_size(blob: str) -> int:
    return len(blob)

@server.tool
def big(size: int) -> str:
    return "x" * size

run_server(server, TransportOptions(transport="stdio"))
"""


def client() -> Client:
    transport = StdioTransport(sys.executable, ["-c", SERVER], env=child_env(), cwd=str(REPO_ROOT))
    return Client(transport, timeout=60)


@pytest.mark.anyio
async def test_serve_stdio_keeps_stray_stdout_off_the_protocol_stream() -> None:
    async with client() as session:
        first = await session.call_tool("noisy", {"text": "hello"})
        second = await session.call_tool("noisy", {"text": "again"})
    assert (first.data, second.data) == ("HELLO", "AGAIN")


@pytest.mark.anyio
async def test_serve_stdio_carries_multi_megabyte_messages_both_ways() -> None:
    size = 5 * 1024 * 1024
    async with client() as session:
        sent = await session.call_tool("echo_size", {"blob": "é" * size})
        received = await session.call_tool("big", {"size": size})
    assert sent.data == size
    assert len(received.data) == size


def test_serve_stdio_falls_back_to_fastmcp_when_stdin_is_a_regular_file(tmp_path: Path) -> None:
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    script = tmp_path / "requests.jsonl"
    script.write_text("".join(json.dumps(request) + "\n" for request in requests))
    with script.open("rb") as stdin:
        finished = subprocess.run(
            [sys.executable, "-c", SERVER],
            stdin=stdin,
            capture_output=True,
            env=child_env(),
            cwd=str(REPO_ROOT),
            timeout=60,
            check=True,
        )
    # FastMCP's own transport answers (and stops at the file's end, cancelling what is in flight).
    first = json.loads(finished.stdout.decode().splitlines()[0])
    assert first["result"]["serverInfo"]["name"] == "pipes"
    assert b"Starting MCP server 'pipes'" in finished.stderr
