"""A research worker over the reference fetch server (PyPI `mcp-server-fetch`, a venv of its own),
tested against a page served on 127.0.0.1 since there is no internet here: the config says `fetch`
only reads, so it runs; but once the run has read mail, a URL handed to it could carry that mail
away, and the same call waits for approval."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.orchestrator.extensions.test_reference_servers import run_worker, tool_outputs
from tests.support.reference_servers import reference_server
from tests.support.scripted_llm import Step, tool_arguments

pytestmark = [pytest.mark.anyio, pytest.mark.servers("context"), pytest.mark.timeout(180)]

PAGE = b"""<html><head><title>Launch notes</title></head><body><article><h1>Launch notes</h1>
<p>The launch moved to the 14th of March; the press embargo lifts at 09:00 CET.</p></article></body></html>"""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path == "/launch.html"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE if found else b"not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/launch.html"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    fetch = reference_server("fetch", "mcp-server-fetch")
    path.write_text(
        f'[servers.web]\ncommand = "{fetch}"\nargs = ["--allow-private-ips"]\nread_tools = ["fetch"]\n'
    )
    return path


def steps(url: str) -> list[Step]:
    return [
        Step(tool_calls=[("web__fetch", tool_arguments(url=url))]),
        Step(content="The launch is on 14 March."),
    ]


async def test_research_worker_reads_a_page_through_the_fetch_server(
    connections, tmp_path: Path, page_url: str
) -> None:
    run = await run_worker(connections["context"], config(tmp_path), steps(page_url), "When is the launch?")
    [page] = tool_outputs(run.requests[1])
    assert "The launch moved to the 14th of March" in page
    assert run.result.answer == "The launch is on 14 March." and run.pending == []


async def test_fetch_after_reading_mail_waits_for_approval(
    connections, tmp_path: Path, page_url: str
) -> None:
    run = await run_worker(
        connections["context"], config(tmp_path), steps(page_url), "When is the launch?", tainted=True
    )
    assert "Queued for the user's approval" in tool_outputs(run.requests[1])[0]
    [action] = run.pending
    assert (action.server, action.tool, action.arguments) == ("web", "fetch", {"url": page_url})
    assert "carries a link to 127.0.0.1" in action.reason
    assert "14th of March" in (run.approved[0].result or "")
