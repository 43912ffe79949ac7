"""Who is waiting on the user: threads where someone wrote to the user, asked something, and the user
has not answered since.

One detector, the reverse of `follow_ups` (mail the user sent that waits for an answer): a thread waits
on the user from its first incoming message that is addressed to the user (To or Cc) and asks
something (a question or a request, as the triage read it: a signal's `action_items`, else
`triage_rules.requests_in`), when no message the user sent (filed under Sent: the only proof, see
`Email.in_sent`) came later in the thread. Drafts, spam and trash neither wait nor answer. Threads
whose ask is older than `within` are left out: after a month nobody is waiting any more. It reads mail
headers only (the dicts the gmail server stores in `raw.email`), so the chat and the Now list can both
run it over what they already hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["WaitingOnMe", "how_long", "may_wait", "waiting_on_user", "waits_on_user"]

IGNORED_LABELS = {"DRAFT", "SPAM", "TRASH"}
WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class WaitingOnMe:
    email_id: str  # the first message that asked and is still unanswered
    thread_id: str
    subject: str
    sender: str  # the asker's name (or address)
    sender_email: str
    asked: tuple[str, ...]
    since: datetime
    unanswered: int  # messages to the user in the thread since their last reply (the ask included)
    account: str | None = None  # the account the ask came to (orchestrator.accounts)


def waits_on_user(*, addressed: bool, from_user: bool, asks: bool, answered_after: bool) -> bool:
    """The one rule of who waits on the user, for one message: it is addressed to the user (To or
    Cc), not written by them, asks something, and no reply of theirs came later in its thread. The
    chat's "who is waiting on me?", Today's "Waiting on you" and the Now ranker's "someone you know
    asks you" all apply it (the ranker adds: from someone the user knows)."""
    return addressed and not from_user and asks and not answered_after


def may_wait(message: Mapping[str, Any], user: set[str]) -> bool:
    """Whether a message (headers) can be the ask a thread waits on: addressed to the user (`user`:
    their addresses, lower case), not from them, neither sent, a draft, spam nor trash. Only such
    messages' asks are read (`feeds.waiting_feed.triage_asks`)."""
    labels = set(message.get("labels") or ())
    return not labels & (IGNORED_LABELS | {"SENT"}) and _to_user(message, user)


def waiting_on_user(
    messages: Iterable[Mapping[str, Any]],
    asks: Mapping[str, list[str]],
    user_addresses: Iterable[str],
    now: datetime,
    within: timedelta = WITHIN,
) -> list[WaitingOnMe]:
    """The threads that wait on the user, oldest ask first. `messages` are mail headers (`id`,
    `thread_id`, `from`, `to`, `cc`, `date`, `subject`, `labels`); `asks` maps a message id to the
    sentences in it that ask the user something (absent or empty: it asks nothing)."""
    user = {address.lower() for address in user_addresses}
    threads: dict[str, list[tuple[datetime, Mapping[str, Any]]]] = {}
    for message in messages:
        labels = set(message.get("labels") or ())
        if labels & IGNORED_LABELS or not message.get("date") or not message.get("id"):
            continue
        key = str(message.get("thread_id") or message["id"])
        threads.setdefault(key, []).append((datetime.fromisoformat(str(message["date"])), message))
    found = [
        waiting
        for thread in threads.values()
        if (waiting := _waiting_in(sorted(thread, key=lambda pair: pair[0]), asks, user)) is not None
        and now - waiting.since <= within
    ]
    return sorted(found, key=lambda waiting: waiting.since)


def _waiting_in(
    thread: list[tuple[datetime, Mapping[str, Any]]], asks: Mapping[str, list[str]], user: set[str]
) -> WaitingOnMe | None:
    replied = max((at for at, m in thread if "SENT" in (m.get("labels") or ())), default=None)
    unanswered = [
        (at, m)
        for at, m in thread
        if "SENT" not in (m.get("labels") or ()) and (replied is None or at > replied) and _to_user(m, user)
    ]
    for at, message in thread:
        asked = asks.get(str(message["id"])) or []
        if "SENT" in (message.get("labels") or ()) or not waits_on_user(
            addressed=_addressed(message, user),
            from_user=_sender(message) in user,
            asks=bool(asked),
            answered_after=replied is not None and replied >= at,
        ):
            continue
        sender = message.get("from") or {}
        return WaitingOnMe(
            email_id=str(message["id"]),
            thread_id=str(message.get("thread_id") or message["id"]),
            subject=str(message.get("subject") or ""),
            sender=str(sender.get("name") or sender.get("email") or ""),
            sender_email=_sender(message),
            asked=tuple(asked),
            since=at,
            unanswered=len(unanswered),
            account=message.get("account"),
        )
    return None


def _sender(message: Mapping[str, Any]) -> str:
    return str((message.get("from") or {}).get("email") or "").lower()


def _addressed(message: Mapping[str, Any], user: set[str]) -> bool:
    recipients = [*(message.get("to") or ()), *(message.get("cc") or ())]
    return any(str(r.get("email") or "").lower() in user for r in recipients if isinstance(r, dict))


def _to_user(message: Mapping[str, Any], user: set[str]) -> bool:
    return _addressed(message, user) and _sender(message) not in user


def how_long(waited: timedelta) -> str:
    """`waited` in the largest whole unit: "3 days", "5 hours", "40 minutes"."""
    minutes = max(int(waited.total_seconds() // 60), 0)
    count, unit = (
        (minutes // 1440, "day")
        if minutes >= 1440
        else (minutes // 60, "hour")
        if minutes >= 60
        else (minutes, "minute")
    )
    return f"{count} {unit}{'' if count == 1 else 's'}"
