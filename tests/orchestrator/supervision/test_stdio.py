"""The stdio transport's own reader: lines split in linear time, big results intact (real processes)."""

from __future__ import annotations

import os
import sys

import anyio
import pytest
from mcp_types import JSONRPCRequest

from orchestrator.mcp_clients import ServerConnection, ServerSpec
from orchestrator.supervision.stdio import LineSplitter, parse_message
from tests.support.processes import REPO_ROOT

PEER = ServerSpec(
    name="peer",
    command=[sys.executable, "-m", "tests.support.peer_server"],
    env={"PYTHONPATH": str(REPO_ROOT)},
)


def test_a_line_in_many_chunks_is_joined_once_and_lines_sharing_a_chunk_are_split() -> None:
    lines = LineSplitter()
    assert lines.feed(b"ab") == [] and lines.feed(b"c") == []
    assert lines.feed(b"d\nef\n\ng") == [b"abcd", b"ef", b""]
    assert lines.feed(b"\n") == [b"g"]
    assert lines.feed(b"\n") == [b""]  # nothing left over from the line before
    assert lines.feed("é\n".encode()[:1]) == [] and lines.feed("é\n".encode()[1:]) == ["é".encode()]


def test_a_line_that_is_not_json_rpc_comes_back_as_its_error() -> None:
    message = parse_message(b'{"jsonrpc": "2.0", "id": 7, "method": "ping"}')
    assert not isinstance(message, Exception) and isinstance(message.message, JSONRPCRequest)
    assert isinstance(parse_message(b"not json"), ValueError)
    assert isinstance(parse_message(b"\xff\xfe"), ValueError)  # not UTF-8: an error, not a crash


@pytest.mark.anyio
async def test_a_result_of_megabytes_in_many_chunks_arrives_whole_and_the_server_is_stopped_after() -> None:
    text = "".join(f"line {n} é ✓\n" for n in range(400_000))  # ~6 MB, well over 64 KiB chunks
    connection = ServerConnection(PEER)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        assert (await connection.call_tool("echo", {"text": text})).text == text
        pid = int((await connection.call_tool("pid", {})).text)
        task_group.cancel_scope.cancel()
    with pytest.raises(ProcessLookupError):  # stopped and reaped when the connection ended
        os.kill(pid, 0)
