"""doctor's clock check against a real HTTP server whose Date header the test chooses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio

from orchestrator.config import OrchestratorSettings
from orchestrator.health.checks import Level
from orchestrator.health.probes import clock_references, probe_clock
from tests.support.processes import free_port


@contextmanager
def dated_server(offset: float) -> Iterator[str]:
    """An HTTP server whose clock is `offset` seconds off this machine's."""

    class Handler(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return formatdate(time.time() + offset, usegmt=True)

        def do_HEAD(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_clock_within_a_minute_is_ok_and_one_far_off_fails_with_what_to_do() -> None:
    with dated_server(0) as exact, dated_server(-900) as slow, dated_server(120) as fast:
        fine = anyio.run(probe_clock, [exact])
        ahead = anyio.run(probe_clock, [slow])
        behind = anyio.run(probe_clock, [fast])

    assert fine.level is Level.OK
    assert ahead.level is Level.FAIL and ahead.detail.startswith("900 s ahead of 127.0.0.1")
    assert "timedatectl set-ntp true" in ahead.fix
    assert behind.level is Level.WARN and behind.detail.startswith("120 s behind")


def test_the_first_service_that_answers_is_used_and_none_is_information() -> None:
    with dated_server(0) as exact:
        check = anyio.run(probe_clock, [f"http://127.0.0.1:{free_port()}/", exact])

    assert check.level is Level.OK
    assert anyio.run(probe_clock, []).level is Level.INFO


def test_clock_references_are_the_model_endpoint_and_the_servers_urls() -> None:
    settings = OrchestratorSettings(
        openai_base_url="http://127.0.0.1:11434/v1",
        servers={"calendar": {"env": {"PEPPER_CALENDAR_CALDAV_URL": "https://dav.example.org/cal/"}}},
    )

    assert clock_references(settings) == ["http://127.0.0.1:11434/v1", "https://dav.example.org/cal/"]
