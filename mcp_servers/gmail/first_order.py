"""The order in which a first index journals a mailbox, shared by the Maildir and IMAP stores.

A client reading the change feed (Pepper's orchestrator) learns whom the user writes to from Sent
mail before it judges what the user receives, so some Sent mail comes first; but only the newest
`SENT_LEAD` messages of it: a mailbox of years has tens of thousands of sent messages, and journalling
all of them first would keep today's inbox waiting behind them. The rest of Sent follows the inbox
(IMAP, whose folders are read one by one) or takes its place by date among the rest (Maildir).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["SENT_LEAD", "lead_with_sent", "sent_to_front"]

T = TypeVar("T")

SENT_LEAD = 500


def lead_with_sent(sent: Sequence[T], inbox: Sequence[T], rest: Sequence[T]) -> list[T]:
    """The first index's order: the newest `SENT_LEAD` of `sent`, `inbox`, the other sent mail, `rest`
    (each given newest first)."""
    return [*sent[:SENT_LEAD], *inbox, *sent[SENT_LEAD:], *rest]


def sent_to_front(newest_first: Sequence[T], is_sent: Callable[[T], bool]) -> list[T]:
    """`newest_first` with its newest `SENT_LEAD` sent messages moved to the front, the rest in order."""
    lead = [index for index, item in enumerate(newest_first) if is_sent(item)][:SENT_LEAD]
    chosen = set(lead)
    return [newest_first[i] for i in lead] + [item for i, item in enumerate(newest_first) if i not in chosen]
