"""Malformed JSON-RPC frames get a JSON-RPC error, never silence: `frame_error` itself, then real
server processes over stdio (raw bytes on their stdin) and over streamable HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_servers.common.frames import INVALID_REQUEST, MAX_STDIO_FRAME_BYTES, PARSE_ERROR, frame_error
from tests.support.processes import http_server
from tests.support.raw_jsonrpc import SERVERS, RawHttpSession, RawStdioServer

# (frame, expected code, expected id): the kinds of bad input a client or an attacker sends.
MALFORMED = [
    pytest.param(b"[" * 100_000, PARSE_ERROR, None, id="deeply-nested"),
    pytest.param(b"{not json", PARSE_ERROR, None, id="invalid-json"),
    pytest.param(
        b'{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"\xff\xfe"}}',
        PARSE_ERROR,
        None,
        id="not-utf8",
    ),
    pytest.param(
        b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":"\\ud800"}}',
        INVALID_REQUEST,
        5,
        id="lone-surrogate",
    ),
    pytest.param(b"42", INVALID_REQUEST, None, id="a-number"),
    pytest.param(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', INVALID_REQUEST, None, id="a-batch"),
    pytest.param(b'{"jsonrpc":"2.0","id":"seven"}', INVALID_REQUEST, "seven", id="no-method"),
    pytest.param(b'{"jsonrpc":"1.0","id":8,"method":"ping"}', INVALID_REQUEST, 8, id="wrong-version"),
    pytest.param(
        b'{"jsonrpc":"2.0","id":9,"method":"ping","params":5}', INVALID_REQUEST, 9, id="params-not-object"
    ),
]


@pytest.mark.parametrize(("frame", "code", "request_id"), MALFORMED)
def test_frame_error_answers_each_malformed_frame(frame: bytes, code: int, request_id: object) -> None:
    error = frame_error(frame)
    assert error is not None
    assert (error["jsonrpc"], error["id"], error["error"]["code"]) == ("2.0", request_id, code)
    assert len(error["error"]["message"]) < 300


def test_frame_error_lets_valid_messages_through() -> None:
    assert frame_error(b'{"jsonrpc":"2.0","id":1,"method":"ping"}') is None
    assert frame_error(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n') is None
    assert frame_error(b'{"jsonrpc":"2.0","id":1,"result":{}}') is None


@pytest.mark.slow
@pytest.mark.parametrize("server", ["context_store", "notify"])
def test_stdio_server_answers_malformed_frames_and_keeps_serving(server: str, tmp_path: Path) -> None:
    with RawStdioServer(SERVERS[server], tmp_path) as process:
        process.initialize()
        for case in MALFORMED:
            frame, code, request_id = case.values
            process.send(frame)
            answer = process.reply(timeout=10)
            assert (answer["id"], answer["error"]["code"]) == (request_id, code), case.id
        assert process.ping()


@pytest.mark.slow
def test_stdio_server_skips_a_frame_over_the_limit_with_an_error(tmp_path: Path) -> None:
    with RawStdioServer(SERVERS["notify"], tmp_path) as process:
        process.initialize()
        blob = "x" * (MAX_STDIO_FRAME_BYTES + 10)
        process.send(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"b": blob}}).encode()
        )
        answer = process.reply(timeout=30)
        assert answer["error"]["code"] == INVALID_REQUEST
        assert f"larger than {MAX_STDIO_FRAME_BYTES} bytes" in answer["error"]["message"]
        assert process.ping()


@pytest.mark.slow
def test_http_server_answers_malformed_bodies_with_400_and_keeps_serving(tmp_path: Path) -> None:
    recipe = SERVERS["context_store"]
    with http_server(recipe.module, recipe.arguments(tmp_path), recipe.env) as url:
        with RawHttpSession(url) as session:
            for case in MALFORMED:
                frame, code, request_id = case.values
                answer = session.post(frame)
                assert answer.status_code == 400, case.id
                assert answer.json()["id"] == request_id and answer.json()["error"]["code"] == code, case.id
            oversized = session.post(b'{"b":"' + b"x" * 5 * 1024 * 1024 + b'"}')
            assert oversized.status_code == 413 and oversized.json()["error"]["code"] == INVALID_REQUEST
            assert session.ping()
