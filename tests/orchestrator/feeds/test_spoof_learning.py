"""The profile learns only from the Sent folder: a spam campaign forging the user's own address (the
kind that once renamed the user and made projects of "Time", "Over" and "Low") teaches nothing and is
ranked as a suspicious stranger, while real sent mail still teaches name, role, projects and
correspondents, and re-ranks the mail of someone the user has just written to."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_servers.gmail.parsing import parse_message
from orchestrator.context_items import ContextItems
from orchestrator.event_log import EventLog
from orchestrator.feeds.ingest import MailIngest
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.mail_feed import MailFeed
from orchestrator.profile import ProfileBook

from .test_feeds import deliver, drain

ME = "me@example.org"
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # the test messages are dated 09:00 that day
FORGED_AUTH = (
    "mx.example.org; spf=softfail (mx.example.org: domain of transitioning me@example.org does not "
    "designate 203.0.113.9 as permitted sender) smtp.mailfrom=me@example.org; dkim=none; "
    "dmarc=fail (p=NONE) header.from=example.org"
)
CAMPAIGN = [  # subject, body: every one signed as the user would never sign
    ("Time: your prize is waiting", "Claim it now.\n\n-- \nTime Over\nLow Rates Director · Prizes Inc"),
    ("Time is running out on Over 50s cover", "Act now.\n\n-- \nTime Over\nLow Rates Director · Prizes Inc"),
    ("Low rates, Over and Time again", "Last call.\n\n-- \nTime Over\nLow Rates Director · Prizes Inc"),
]
SIGNED = "\n\n-- \nMe Myself\nHead of Testing · Example Ltd"


def slug(text: str) -> str:
    """A stable Message-ID local part made of the text's words."""
    return ".".join(re.findall(r"[a-z0-9]+", text.lower()))


def forged(subject: str, body: str) -> bytes:
    lines = [
        f"Authentication-Results: {FORGED_AUTH}",
        f"From: Time Over <{ME}>",
        f"To: {ME}",
        f"Subject: {subject}",
        "Date: Tue, 24 Nov 2026 09:00:00 +0000",
        f"Message-ID: <{slug(subject)}@bulk.example>",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
    ]
    return "\n".join(lines).encode()


def as_email(raw: bytes, labels: list[str], id: str = "m1") -> Email:
    return Email.model_validate(
        parse_message(raw, id=id, labels=labels).model_dump(by_alias=True, mode="json")
    )


def sent_mail(subject: str, to: str = "Sam Lee <sam@example.org>") -> bytes:
    head = f"From: Me Myself <{ME}>\nTo: {to}\nSubject: {subject}\nDate: Tue, 24 Nov 2026 09:00:00 +0000\n"
    return (head + f"Message-ID: <{slug(subject)}@example.org>\n\nNotes attached.{SIGNED}\n").encode()


def test_learn_from_sent_refuses_forged_mail_from_the_users_address() -> None:
    profile = UserProfile(addresses={ME})
    before = profile.model_dump()
    for index, (subject, body) in enumerate(CAMPAIGN):
        assert not profile.learn_from_sent(as_email(forged(subject, body), ["INBOX", "UNREAD"], f"f{index}"))
    assert profile.model_dump() == before


def test_learn_from_sent_learns_from_a_sent_folder_message() -> None:
    profile = UserProfile(addresses={ME})
    assert profile.learn_from_sent(as_email(sent_mail("Beacon: notes"), ["SENT"], "s1"))
    assert profile.learn_from_sent(as_email(sent_mail("Re: the Beacon launch plan"), ["SENT"], "s2"))
    assert (profile.name, profile.role) == ("Me Myself", "Head of Testing")
    assert [p.name for p in profile.projects()] == ["Beacon"]
    assert profile.sent_to == {"sam@example.org": 2}
    assert profile.contact_names == {"sam@example.org": "Sam Lee"}
    assert not profile.learn_from_sent(as_email(sent_mail("Beacon: notes"), ["SENT"], "s1"))  # a replay
    assert profile.sent_to == {"sam@example.org": 2}


@pytest.mark.anyio
async def test_profile_book_learns_nothing_from_forged_mail(connections) -> None:
    book = ProfileBook(ContextItems(connections["context"]), [ME], [])
    for index, (subject, body) in enumerate(CAMPAIGN):
        await book.learn(as_email(forged(subject, body), ["INBOX", "UNREAD"], f"f{index}"))
    profile = await ProfileBook(ContextItems(connections["context"]), [ME], []).load()
    assert (profile.name, profile.role, profile.projects(), profile.sent_to) == (None, None, [], {})


def deliver_raw(tmp_path: Path, name: str, raw: bytes, folder: str = "") -> None:
    target = tmp_path / "mail" / folder / "new"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.eml").write_bytes(raw)


@pytest.mark.anyio
@pytest.mark.servers("context", "gmail")
async def test_mail_feed_learns_only_from_sent_and_reranks_a_new_correspondent(
    connections, tmp_path: Path
) -> None:
    items = ContextItems(connections["context"])
    for index, (subject, body) in enumerate(CAMPAIGN):
        deliver_raw(tmp_path, f"forged{index}", forged(subject, body))
    ask = "Could you sign the contract by tomorrow at 5pm?"
    deliver(tmp_path, "dana", "Dana <dana@example.org>", ME, "URGENT: contract", ask)
    deliver_raw(tmp_path, "sent1", sent_mail("Beacon: notes"), ".Sent")
    await MailIngest(connections["gmail"], items).sync()
    feed = MailFeed(items, user_addresses=[ME], vips=[], now=lambda: NOW)
    log = EventLog(connections["context"], idle_poll=0.5)

    async def dana_is(priority: str) -> bool:
        signals = await items.query(["signals.email"], tags=["from:dana@example.org"])
        return bool(signals) and signals[0].data["priority"] == priority

    await drain(feed, log, lambda: dana_is("normal"))  # a stranger so far: her URGENT is not raised
    deliver_raw(tmp_path, "sent2", sent_mail("Beacon launch plan", "Dana <dana@example.org>"), ".Sent")
    await MailIngest(connections["gmail"], items).sync()
    await drain(feed, log, lambda: dana_is("urgent"))  # the user wrote to her: her mail is ranked again

    profile = await ProfileBook(items, [ME], []).load()
    assert (profile.name, profile.role) == ("Me Myself", "Head of Testing")
    assert [p.name for p in profile.projects()] == ["Beacon"]
    assert profile.sent_to == {"sam@example.org": 1, "dana@example.org": 1}
    forged_signals = [s.data for s in await items.query(["signals.email"], tags=[f"from:{ME}"])]
    assert len(forged_signals) == 3
    for signal in forged_signals:
        assert signal["priority"] in ("normal", "low")  # never raised (the content model may call it spam)
        assert any(r.startswith("suspicious: sender authentication failed") for r in signal["reasons"])
