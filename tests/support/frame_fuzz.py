"""Hypothesis strategies for raw JSON-RPC frames, and one exchange of a frame with a real server: what
the fuzz test (tests/mcp_servers/common/test_fuzz_frames.py) and bench/fuzz_jsonrpc.py share.

A frame is anything a client might write on one line: JSON-RPC messages with random ids, methods and
params; the same with random bytes spliced in; arbitrary JSON; raw bytes; deep nesting; lone
surrogates. The server must answer every request and every malformed frame, and a ping sent after
the frame, within the deadline; notifications and responses get no answer.
"""

from __future__ import annotations

import json
import time

from hypothesis import strategies as st
from mcp_types import JSONRPCRequest, jsonrpc_message_adapter

from mcp_servers.common.frames import frame_error
from tests.support.raw_jsonrpc import RawHttpSession, RawStdioServer

__all__ = ["exchange_http", "exchange_stdio", "expected_answer", "frames"]

METHODS = [
    "ping",
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "prompts/list",
    "no/such/method",
    "tools/call",
    "resources/read",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/initialized",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ids = st.one_of(
    st.integers(-(2**53), 2**53),
    st.text(max_size=8).map("f-{}".format),
    st.none(),
    st.floats(),
    st.booleans(),
)
messages = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0"])},
    optional={
        "id": ids,
        "method": st.sampled_from(METHODS) | st.text(max_size=12),
        "params": st.dictionaries(
            st.sampled_from(["name", "arguments", "uri", "cursor", "_meta", "x"]), json_values
        )
        | json_values,
        "result": json_values,
        "error": json_values,
    },
)
encoded = messages.map(lambda message: json.dumps(message).encode())


def _splice(frame: bytes, at: int, noise: bytes) -> bytes:
    at = at % (len(frame) + 1)
    return frame[:at] + noise + frame[at:]


spliced = st.builds(_splice, encoded, st.integers(0, 400), st.binary(min_size=1, max_size=6))
deep = st.builds(
    lambda opener, depth: opener * depth,
    st.sampled_from([b"[", b'{"a":', b'{"params":[']),
    st.integers(1, 100_000),
)
surrogates = st.builds(
    lambda request_id, escape: (
        b'{"jsonrpc":"2.0","id":%d,"method":"ping","params":{"s":"%s"}}' % (request_id, escape)
    ),
    st.integers(0, 1000),
    st.sampled_from([b"\\ud800", b"\\udfff", b"\\ud83d", b"\\ud800\\ud800", b"\\u0000"]),
)
frames = (
    st.one_of(
        encoded,
        spliced,
        deep,
        surrogates,
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=120),
    )
    .map(lambda frame: frame.replace(b"\n", b" "))
    .filter(lambda frame: frame.strip() != b"")
)


def expected_answer(frame: bytes) -> tuple[bool, object]:
    """Whether the server must answer `frame`, and the id its answer carries."""
    error = frame_error(frame)
    if error is not None:
        return True, error["id"]
    message = jsonrpc_message_adapter.validate_json(frame, by_name=False)
    if isinstance(message, JSONRPCRequest):
        return True, message.id
    return False, None


def exchange_stdio(server: RawStdioServer, frame: bytes, probe_id: str, timeout: float) -> float:
    """Write `frame` then a ping; return the seconds until both were answered (the frame only when an
    answer is due). AssertionError on a missing answer, or an answer nobody asked for."""
    must_answer, answer_id = expected_answer(frame)
    started = time.monotonic()
    deadline = started + timeout
    server.send(frame)
    server.send_json({"jsonrpc": "2.0", "id": probe_id, "method": "ping"})
    waiting = {probe_id, answer_id} if must_answer else {probe_id}
    while waiting:
        reply = server.reply(timeout=max(0.01, deadline - time.monotonic()))
        if "method" in reply:  # a notification or request from the server: not an answer
            continue
        assert reply.get("id") in waiting, f"unexpected reply {reply} to {frame[:200]!r}"
        waiting.discard(reply.get("id"))
    return time.monotonic() - started


def exchange_http(session: RawHttpSession, frame: bytes, timeout: float) -> float:
    """POST `frame`; return the seconds until the answer. AssertionError on a 5xx, or a malformed
    frame answered with anything but a 400/413 JSON-RPC error."""
    started = time.monotonic()
    response = session.client.post(session.url, content=frame, headers=session.headers, timeout=timeout)
    elapsed = time.monotonic() - started
    assert response.status_code < 500, f"{response.status_code} {response.text[:300]} for {frame[:200]!r}"
    error = frame_error(frame)
    if error is not None:
        assert (
            response.status_code in (400, 413) and response.json()["error"]["code"] == error["error"]["code"]
        )
    return elapsed
