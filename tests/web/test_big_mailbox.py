"""After a first sync of years of mail the page still shows Now's mail and Today's meetings.

A first sync judges the newest mail first, then the older mail back through the years: the signals
that Now and Today show are among the first written, followed by thousands more (old list mail). The
page's snapshot (`/pepper/api/state`) read the newest 300 signals and so held almost none of Now's
(0-4 of ~335 in three 100,000-message runs). Here a second context-store process on Pepper's own
database writes 600 signals of old bulk mail after the demo's, as a long backfill would.
"""

from __future__ import annotations

import sys

import anyio
import httpx
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from playwright.sync_api import Page, expect

from orchestrator.demo.agenda import QBR_TITLE
from orchestrator.feeds.signals import Signal
from orchestrator.triage.now import now_list
from tests.support.processes import REPO_ROOT
from tests.web.conftest import HTTP_SECONDS, PepperProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

URGENT_MAIL = "Atlas pricing before the board"  # in the demo's Now
OLD_MAIL = 600


def old_list_mail(n: int) -> dict:
    return Signal(
        kind="email", source_id=f"backfill-{n:04d}", summary=f"Weekly digest #{n}", priority="low",
        category="bulk", score=-4.0, attention=False,
    ).store_item()  # fmt: skip


async def backfill(pepper: PepperProcess) -> None:
    """Store `OLD_MAIL` judged signals through a context store of our own on Pepper's database."""
    server = StdioTransport(  # Pepper's environment: its pinned clock, so these are written after its own
        sys.executable,
        ["-m", "mcp_servers.context_store", "--db", str(pepper.data_dir / "context.sqlite3")],
        env=pepper.env,
        cwd=str(REPO_ROOT),
        keep_alive=False,
    )
    async with Client(server) as store:
        for start in range(0, OLD_MAIL, 200):
            items = [old_list_mail(n) for n in range(start, start + 200)]
            await store.call_tool_mcp("store_many", {"items": items})


@pytest.fixture(scope="module")
def backfilled(pepper: PepperProcess) -> PepperProcess:
    anyio.run(backfill, pepper)
    return pepper


def test_the_snapshot_holds_now_s_mail_and_today_s_meetings_behind_a_long_backfill(
    backfilled: PepperProcess,
) -> None:
    state = httpx.get(f"{backfilled.url}/pepper/api/state", timeout=HTTP_SECONDS).raise_for_status().json()
    signals = [item["data"] for item in state["signals"]]
    assert sum(s["summary"].startswith("Weekly digest") for s in signals) >= 100  # the newest are there
    shown, _ = now_list(signals, now=backfilled.now())
    assert any(URGENT_MAIL in s["summary"] for s in shown), [s["summary"] for s in shown]
    assert any(s["kind"] == "meeting" and s["summary"] == QBR_TITLE for s in signals)


def test_the_page_opened_after_a_long_backfill_shows_now_and_today(
    backfilled: PepperProcess, page: Page
) -> None:
    expect(page.locator("#now-list")).to_contain_text(URGENT_MAIL)
    expect(page.locator("#meetings-list")).to_contain_text(QBR_TITLE)
    expect(page.locator("#now-list")).not_to_contain_text("Weekly digest")  # bulk: behind the filter
