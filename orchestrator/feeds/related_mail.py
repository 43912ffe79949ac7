"""Related mail, asked of the gmail server's own index: the one keyword index of mail (the context
store leaves `raw.email` out of its keyword index, see its README, and finds mail only by meaning).

`any_of` builds a Gmail query matching mail from any of some senders or with every one of some
words (`{from:a from:b} OR (w1 w2)`); `search_mail` runs it through the `search_messages` of every
mail account's gmail server and returns the message summaries, newest first, or None when all refused
(the caller then falls back to the context store's search by meaning).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from orchestrator.mcp_clients import ToolCaller, ToolCallFailed

__all__ = ["about_from", "any_of", "search_mail", "topic_words"]

logger = logging.getLogger(__name__)

WORD = re.compile(r"\w+", re.UNICODE)
ADDRESS = re.compile(r"^[^\s@{}()\"]+@[^\s@{}()\"]+$")


def any_of(senders: Iterable[str], text: str) -> str:
    """A Gmail query: from any of `senders` (those that are plain addresses) or with every word of `text`."""
    addresses = [address for address in senders if ADDRESS.match(address or "")]
    words = WORD.findall(text)
    parts = []
    if addresses:
        parts.append("{" + " ".join(f"from:{address}" for address in addresses) + "}")
    if words:
        parts.append("(" + " ".join(words) + ")")
    return " OR ".join(parts)


# Words of meeting titles that name no subject: mail containing them is not related to the meeting.
GENERIC = frozenset(
    "the and for with from about into our your daily weekly monthly quarterly meeting meet call sync "
    "standup stand catch chat check team update updates review session today tomorrow".split()
)


def topic_words(title: str, names: Iterable[str] = ()) -> list[str]:
    """The words of a title that name its subject: three letters or more, or a digit with letters
    ("Q4"); not a generic meeting word, a bare number or the name of one of `names` (the people of
    "Alex / Jordan 1:1" are who meets, not what about)."""
    people = {part.lower() for name in names for part in WORD.findall(name or "")}
    return [
        word
        for word in WORD.findall(title)
        if (len(word) > 2 or any(c.isdigit() for c in word))
        and not word.isdigit()
        and word.lower() not in GENERIC | people
    ]


def about_from(senders: Iterable[str], title: str, names: Iterable[str] = ()) -> str:
    """A Gmail query for mail about `title`: from any of `senders` and with any word naming its
    subject (`topic_words`), or with every word of the title; empty when the title names no subject
    (mail from the senders alone is not about anything in particular)."""
    topic = topic_words(title, names)
    if not topic:
        return ""
    addresses = [address for address in senders if ADDRESS.match(address or "")]
    every = "(" + " ".join(WORD.findall(title)) + ")"
    if not addresses:
        return every
    return "({" + " ".join(f"from:{a}" for a in addresses) + "} {" + " ".join(topic) + "}) OR " + every


async def search_mail(
    mail: ToolCaller | Sequence[ToolCaller], query: str, limit: int
) -> list[dict[str, Any]] | None:
    """The summaries (id, from, subject, date, snippet) of the newest `limit` matches in every mail
    account given (each account's gmail server), or None when every server refused the search."""
    servers = [mail] if not isinstance(mail, Sequence) else list(mail)
    found: list[dict[str, Any]] = []
    answered = False
    for server in servers:
        try:
            outcome = await server.call_tool("search_messages", {"query": query, "limit": limit})
        except ToolCallFailed as exc:
            logger.warning("related mail: the mail server refused %r: %s", query, exc)
            continue
        answered = True
        found += list((outcome.structured or {}).get("messages", []))
    if not answered:
        return None
    found.sort(key=lambda message: str(message.get("date") or ""), reverse=True)
    return found[:limit]
