"""What a correction teaches the content (spam/bulk) model: the kind of mail, not only its sender.

The ranker learns each correction about the sender (`orchestrator.triage.ranker_book`); the content
model learns what it says about the mail's words and headers, so that alike mail from *other*
senders is judged alike at once (the rules put a stranger's mail the model calls spam at low, in the
category "spam", out of Now). The lesson, by rule (`lesson_of`):

- "Never from this sender", about a sender the user does not know or whose From cannot be believed:
  junk, learned as spam at `USER_WEIGHT` (as if the user had filed it in the Junk folder);
- "Not important", about such a sender: a hint, learned as spam at `HINT_WEIGHT`;
- "Important", about mail whose From can be believed: learned as ham at `USER_WEIGHT`;
- nothing else. The mail of someone the user knows is never judged by content (`triage_rules`), so
  muting a colleague says nothing about words; and "Important" on a forged or borrowed From (the
  user's own address on mail from outside, failed authentication, a look-alike) must not teach that
  the forger's words are fine. No lesson lifts a mail past the trust rules either: content only ever
  says "spam" or not, and urgency stays for senders the user knows.

A correction of a sender (an address, no mail at hand) teaches from their latest stored mail
(`SENDER_MAIL` of it). When the model learned something, the open mail of senders the user does not
know is judged again (`rejudge`: the mail feed's), so Now changes in the same breath.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import Email
from orchestrator.feeds.sender_trust import SenderTrust, sender_trust
from orchestrator.feeds.signals import sender_tag
from orchestrator.profile import ProfileBook
from orchestrator.triage.content import USER_WEIGHT
from orchestrator.triage.content_book import ContentBook
from orchestrator.triage.ranker import CorrectionKind

__all__ = ["HINT_WEIGHT", "ContentLessons", "lesson_of"]

HINT_WEIGHT = 1  # "not important" is weaker evidence of junk than the Junk folder or "never"
SENDER_MAIL = 10


def lesson_of(kind: CorrectionKind, trust: SenderTrust) -> tuple[bool, int] | None:
    """What a correction of a mail from a sender judged `trust` teaches: (spam, weight), or nothing."""
    believed = not trust.suspicious and not trust.own_address
    if kind == "important":
        return (False, USER_WEIGHT) if believed else None
    if trust.known and believed:
        return None
    return (True, USER_WEIGHT if kind == "never" else HINT_WEIGHT)


class ContentLessons:
    """The ranker book's hook (`RankerBook.lessons`): teach the content model from a correction and
    judge open strangers' mail again; returns how many mail signals changed."""

    def __init__(
        self,
        items: ContextItems,
        content: ContentBook,
        profiles: ProfileBook,
        rejudge: Callable[[], Awaitable[int]],
    ) -> None:
        self._items = items
        self._content = content
        self._profiles = profiles
        self._rejudge = rejudge

    async def __call__(self, kind: CorrectionKind, message_id: str | None, sender: str | None) -> int:
        profile = await self._profiles.load()
        lessons: dict[tuple[bool, int], list[Email]] = {}
        for email in await self._mail(message_id, sender):
            lesson = lesson_of(kind, sender_trust(email, profile))
            if lesson is not None:
                lessons.setdefault(lesson, []).append(email)
        taught = 0
        for (spam, weight), emails in lessons.items():
            taught += await self._content.learn(emails, spam, weight=weight, by="correction")
        return await self._rejudge() if taught else 0

    async def _mail(self, message_id: str | None, sender: str | None) -> list[Email]:
        if message_id:
            ids = [message_id]
        else:
            address = (sender or "").strip().lower()
            signals = await self._items.query(
                ["signals.email"], tags=[sender_tag(address)], limit=SENDER_MAIL
            )
            ids = [item.id for item in signals]
        found = await self._items.get_many("raw.email", ids) if ids else {}
        return [Email.model_validate(item.data) for item in found.values() if isinstance(item.data, dict)]
