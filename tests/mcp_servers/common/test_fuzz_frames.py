"""Fuzzing raw JSON-RPC frames over stdio against a real server (a small fixed budget; the long run is
bench/fuzz_jsonrpc.py): every frame that calls for an answer gets one within the deadline, and the
server is alive and serving afterwards."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.frame_fuzz import exchange_stdio, frames
from tests.support.raw_jsonrpc import SERVERS, RawStdioServer

DEADLINE_SECONDS = 10.0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_stdio_server_answers_every_fuzzed_frame_and_survives(tmp_path: Path) -> None:
    probes = itertools.count()
    with RawStdioServer(SERVERS["context_store"], tmp_path) as server:
        server.initialize()

        @settings(
            max_examples=50,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(frame=frames)
        def answered(frame: bytes) -> None:
            exchange_stdio(server, frame, f"probe-{next(probes)}", DEADLINE_SECONDS)

        answered()
        assert server.ping("still-alive")
        assert server.process.poll() is None
