"""Marking a mail read from Pepper (the card's button, the chat): the gmail server's `mark_read` sets
\\Seen in the mailbox (a reversible local write in the trust capability model, so it runs without an
approval) when the server was started with `--allow-write`; without it the mail is marked read in
Pepper only (`RankerBook.mark_read_locally`). Either way the mail's signal is stored read at once,
so its card leaves Now in the same moment, and the next triage of that mail agrees. The mailbox
is the one of the account the mail's signal names (`orchestrator.accounts.routing`), whatever its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from orchestrator.accounts.routing import item_route
from orchestrator.context_items import ContextItems
from orchestrator.feeds.signals import Signal
from orchestrator.mcp_clients import ToolCaller, ToolCallFailed
from orchestrator.triage.ranker_book import EMAIL_SIGNALS, RankerBook

__all__ = ["mark_read"]

NOT_WRITABLE = "was started without it"  # the servers' write-flag refusal (mcp_servers.common.write_flags)


async def mark_read(
    connections: Mapping[str, ToolCaller], items: ContextItems, ranker: RankerBook, message_id: str
) -> Literal["mailbox", "pepper"]:
    """Mark `message_id` read; says where: in the mailbox of the mail's account (its gmail
    connection, when there is one), or in Pepper only (not writable). A failure other than the
    write flag's refusal is raised (`ToolCallFailed`)."""
    item = await items.get(EMAIL_SIGNALS, message_id)
    if item is None or not isinstance(item.data, dict):
        raise LookupError(f"no mail {message_id!r} among the triaged mail; pick one Pepper showed")
    where: Literal["mailbox", "pepper"] = "pepper"
    server, provider = item_route("gmail", item.id, item.data)
    if (gmail := connections.get(server)) is not None:
        try:
            await gmail.call_tool("mark_read", {"id": provider, "read": True})
            where = "mailbox"
        except ToolCallFailed as exc:
            if NOT_WRITABLE not in str(exc):
                raise
    if where == "pepper":
        await ranker.mark_read_locally(message_id)
    signal = Signal.model_validate({**item.data, "seen": True, "attention": False})
    await items.put_many([signal.store_item()])
    return where
