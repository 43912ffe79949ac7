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
    transport = StdioTransport(
        sys.executable, ["-c", SERVER], env=child_env(), cwd=str(REPO_ROOT), keep_alive=False
    )
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


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
# Good requests between bad frames: a file of them, as `server < requests.jsonl` reads it.
FRAMES = [
    json.dumps(INITIALIZE).encode(),
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
    b"{not json",
    b"[" * 300,  # deeper than the parser's 200 levels
    b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":"\\ud800"}}',
    b'{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
    b"x" * 500,  # over the 400-byte frame limit this test sets
    b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"noisy","arguments":{"text":"hi"}}}',
    b'{"jsonrpc":"2.0","id":4,"method":"ping"}',
]
FILE_SERVER = SERVER.replace(
    'run_server(server, TransportOptions(transport="stdio"))',
    "import anyio\nfrom mcp_servers.common.stdio_pipes import serve_stdio\n"
    "anyio.run(serve_stdio, server, 400)",
)


def answers(output: bytes) -> dict[object, dict[str, object]]:
    replies = [json.loads(line) for line in output.decode().splitlines()]
    assert all(reply["jsonrpc"] == "2.0" for reply in replies)
    return {
        reply["id"] if "result" in reply else ("error", reply["id"], i): reply
        for i, reply in enumerate(replies)
    }


@pytest.mark.slow
@pytest.mark.parametrize("stdout_kind", ["pipe", "file"])
def test_a_regular_file_as_stdin_gets_every_frame_checked_and_every_request_answered(
    tmp_path: Path, stdout_kind: str
) -> None:
    requests, replies = tmp_path / "requests.jsonl", tmp_path / "replies.jsonl"
    requests.write_bytes(b"".join(frame + b"\n" for frame in FRAMES))
    with requests.open("rb") as stdin, replies.open("wb") as out:
        finished = subprocess.run(
            [sys.executable, "-c", FILE_SERVER],
            stdin=stdin,
            stdout=out if stdout_kind == "file" else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            cwd=str(REPO_ROOT),
            timeout=60,
            check=True,
        )
    output = replies.read_bytes() if stdout_kind == "file" else finished.stdout
    got = answers(output)
    assert {key for key in got if not isinstance(key, tuple)} == {1, 2, 3, 4}  # none cancelled at the end
    assert got[3]["result"]["content"][0]["text"] == "HI"  # type: ignore[index]
    errors = [(reply["id"], reply["error"]["code"]) for key, reply in got.items() if isinstance(key, tuple)]  # type: ignore[index]
    assert errors == [(None, -32700), (None, -32700), (5, -32600), (None, -32600)]
    assert b"stray" not in output
