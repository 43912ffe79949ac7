"""Related mail is searched in every mail account's index and merged newest first; a server that
refuses the query is skipped, and only when all refuse is the answer None (the caller falls back)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.feeds.related_mail import any_of, search_mail
from orchestrator.mcp_clients import ToolCallFailed, ToolOutcome

pytestmark = pytest.mark.anyio


class Account:
    def __init__(self, *messages: dict[str, Any], refuses: bool = False) -> None:
        self.messages, self.refuses, self.queries = list(messages), refuses, []

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        assert name == "search_messages"
        self.queries.append(arguments["query"])
        if self.refuses:
            raise ToolCallFailed("gmail.work.search_messages: the index is being rebuilt")
        return ToolOutcome(text="", structured={"messages": self.messages[: arguments["limit"]]})


async def test_every_account_is_searched_and_the_answers_merged_newest_first() -> None:
    home = Account({"subject": "Atlas dinner", "date": "2026-03-01T10:00:00+00:00"})
    work = Account(
        {"subject": "Atlas pricing", "date": "2026-03-03T10:00:00+00:00"},
        {"subject": "Atlas kickoff", "date": "2026-02-01T10:00:00+00:00"},
    )
    query = any_of(["dana@example.com"], "Atlas review")
    found = await search_mail([home, work], query, 2)
    assert [m["subject"] for m in found or []] == ["Atlas pricing", "Atlas dinner"]
    assert home.queries == work.queries == ["{from:dana@example.com} OR (Atlas review)"]


async def test_a_refusing_account_is_skipped_and_all_refusing_is_none() -> None:
    home = Account({"subject": "Atlas dinner", "date": "2026-03-01T10:00:00+00:00"})
    assert [m["subject"] for m in await search_mail([Account(refuses=True), home], "Atlas", 3) or []] == [
        "Atlas dinner"
    ]
    assert await search_mail([Account(refuses=True)], "Atlas", 3) is None
    assert await search_mail(home, "Atlas", 3) is not None  # one server alone, as before
