"""The query table: Gmail searches run on the FTS5 index of a known mailbox, each with its answer.

Every operator of Gmail's language that applies to a mailbox index, alone and combined with OR,
`-`, `{}`, parentheses and phrases; relative and calendar dates against a pinned clock (UTC); and
the constructs the server cannot run, each refused by name. The mailbox is `query_corpus`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.query import QueryError, parse_query

from .query_corpus import DEFAULT, EVERYWHERE, EXTRA_LABELS, ME, NOW, write_corpus

pytestmark = pytest.mark.anyio

INBOX = {"dana", "priya", "news", "rene", "tanaka", "carol"}
UNREAD = {"dana", "news", "rene"}
SINCE_MARCH_5 = {"dana", "priya", "sent", "draft", "rene", "tanaka"}
TO_ME = {"dana", "priya", "bob", "rene", "photos", "tanaka", "carol"}
MARCH_2 = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())

TABLE: list[tuple[str, set[str]]] = [
    # free words and phrases: whole words, case and accents folded, spam and trash left out
    ("budget", {"dana", "news"}),
    ("BUDGET", {"dana", "news"}),
    ("pizza", {"priya"}),
    ("pizza in:anywhere", {"priya", "spam"}),
    ("pizza in:spam", {"spam"}),
    ('"quarterly report"', {"dana"}),
    ('"report quarterly"', set()),
    ("report", {"dana"}),
    ("report in:trash", {"trash"}),
    ("holiday", {"draft", "photos", "carol"}),
    ("holiday vacation", {"carol"}),
    ("holiday AND vacation", {"carol"}),
    ("holiday OR vacation", {"draft", "photos", "carol"}),
    ("holiday -vacation", {"draft", "photos"}),
    ("{pizza sushi}", {"priya", "sent"}),
    ("cafe", {"rene"}),
    ("café", {"rene"}),
    ("cote", {"rene"}),
    ("nothingmatcheshere", set()),
    ('"free pizza" in:anywhere', {"spam"}),
    ("holiday AROUND 10 vacation", {"carol"}),
    ("holiday AROUND 3 vacation", set()),
    # senders and recipients
    ("from:dana", {"dana"}),
    ("FROM:dana", {"dana"}),
    ("from:dana in:anywhere", {"dana", "trash"}),
    ("from:dana OR from:priya", {"dana", "priya", "photos"}),
    ("from:(dana OR priya)", {"dana", "priya", "photos"}),
    ("from:{dana priya}", {"dana", "priya", "photos"}),
    ("-from:dana", DEFAULT - {"dana"}),
    ("from:priya -has:attachment", {"priya"}),
    ("from:priya@corp.example", {"priya", "photos"}),
    ("from:corp.example", {"priya", "photos"}),
    ('"Priya Patel"', {"priya", "photos"}),
    ('from:"Dana Scully"', {"dana"}),
    ("from:rené", {"rene"}),
    ("to:dana", {"draft"}),
    ("cc:dana", {"priya"}),
    ("bcc:boss", {"sent"}),
    ("bcc:boss@corp.example", {"sent"}),
    ("to:priya", {"sent"}),
    (f"to:{ME}", TO_ME),
    ("to:me", TO_ME),
    ("from:me", {"sent", "draft"}),
    ("deliveredto:work@home.example", {"rene"}),
    (f"deliveredto:{ME}", {"dana", "priya"}),
    ("list:weekly.lists.example", {"news"}),
    ("list:weekly", {"news"}),
    ("rfc822msgid:budget-1@fbi.example", {"dana"}),
    ("rfc822msgid:<budget-1@fbi.example>", {"dana"}),
    # subjects
    ("subject:lunch", {"priya", "sent"}),
    ("subject:(lunch thursday)", {"priya", "sent"}),
    ('subject:"re lunch"', {"sent"}),
    ("subject:budget", {"dana"}),
    ("subject:budget in:anywhere", {"dana", "trash"}),
    ("subject:会議の件", {"tanaka"}),
    ('subject:"you won"', set()),
    # labels, folders, states, categories
    ("label:inbox", INBOX),
    ("in:inbox", INBOX),
    ("label:receipts", {"bob"}),
    ("label:Receipts", {"bob"}),
    ("label:my-projects", {"carol"}),
    ('label:"My Projects"', {"carol"}),
    ("in:sent", {"sent"}),
    ("in:drafts", {"draft"}),
    ("label:draft", {"draft"}),
    ("in:trash", {"trash"}),
    ("in:spam", {"spam"}),
    ("in:trash OR in:spam", {"spam", "trash"}),
    ("in:anywhere", EVERYWHERE),
    ("", DEFAULT),
    ("is:unread", UNREAD),
    ("is:read", DEFAULT - UNREAD),
    ("is:starred", {"priya"}),
    ("is:important", {"dana"}),
    ("category:updates", {"news"}),
    ("category:promotions", set()),
    ("has:userlabels", {"bob", "carol"}),
    ("has:nouserlabels", DEFAULT - {"bob", "carol"}),
    ("in:inbox -is:unread", {"priya", "tanaka", "carol"}),
    ("is:unread OR is:starred", UNREAD | {"priya"}),
    ("-in:inbox", DEFAULT - INBOX),
    ("in:inbox is:unread -category:updates", {"dana", "rene"}),
    ("from:win@lottery.example is:unread in:spam", {"spam"}),
    ("-in:spam pizza", {"priya"}),
    # attachments and sizes
    ("has:attachment", {"bob", "photos"}),
    ("filename:pdf", {"bob"}),
    ("filename:invoice.pdf", {"bob"}),
    ("filename:zip OR filename:pdf", {"bob", "photos"}),
    ("larger:1M", {"photos"}),
    ("smaller:1M", DEFAULT - {"photos"}),
    ("larger:10K smaller:1M", {"bob"}),
    ("size:100000", {"photos"}),
    ("larger:60K", {"bob", "photos"}),
    # dates (UTC; the clock is NOW)
    ("after:2026/03/05", SINCE_MARCH_5),
    ("before:2026/03/05", DEFAULT - SINCE_MARCH_5),
    ("after:2026/03/01 before:2026/03/06", {"priya", "sent", "carol"}),
    ("after:2026-03-08", {"dana", "draft", "rene"}),
    ("before:03/02/2026", {"bob", "news", "photos", "carol"}),
    (f"after:{MARCH_2}", SINCE_MARCH_5),
    ("newer_than:2d", {"dana", "draft", "rene"}),
    ("older_than:1y", set()),
    ("older_than:3m", {"news"}),
    ("newer_than:12h", {"rene"}),
    ("older:2026/01/01", {"news"}),
    ("newer:2026/03/09", {"dana", "rene"}),
    ("holiday after:2026/01/01", {"draft", "photos", "carol"}),
    ("holiday before:2026/03/01", {"photos"}),
    ("budget older_than:1m", {"news"}),
    ("from:priya newer_than:60d", {"priya", "photos"}),
    ("from:priya after:2026/01/16 before:2026/03/06", {"priya"}),
    # combinations
    ("(from:dana OR from:priya) has:attachment", {"photos"}),
    ("from:priya (subject:lunch OR subject:holiday)", {"priya", "photos"}),
    ("-(from:dana OR from:priya) in:inbox", {"news", "rene", "tanaka", "carol"}),
    ("-{pizza telescopes} in:inbox", {"dana", "rene", "tanaka", "carol"}),
    ("budget AND in:inbox", {"dana", "news"}),
    ("subject:trip OR (from:rene is:unread)", {"carol", "rene"}),
    ("is:starred -pizza", set()),
    ("label:receipts OR label:my-projects", {"bob", "carol"}),
    ("has:attachment -(filename:pdf)", {"photos"}),
    ("(is:unread newer_than:1d) OR (is:starred older_than:2d)", {"rene", "priya"}),
]

REFUSED: list[tuple[str, str]] = [
    ("is:snoozed", "is:snoozed cannot be searched here"),
    ("is:muted", "is:muted cannot be searched here"),
    ("in:chats", "in:chats cannot be searched here"),
    ("category:purchases", "category:purchases cannot be searched here"),
    ("category:games", "category:games is not a Gmail category"),
    ("has:drive", "has:drive needs Google Drive links"),
    ("has:yellow-star", "has:yellow-star cannot be searched here"),
    ("is:spam", "is:spam is not a state this server knows"),
    ("frm:bob", "unsupported search term frm:bob"),
    ("before:2024", "before:2024 is not a date"),
    ("after:2026/02/30", "after:2026/02/30 is not a date"),
    ("larger:big", "larger:big is not a size"),
    ("older_than:2w", "older_than:2w is not a period"),
    ("(from:dana", r"'\(' .* is not closed"),
    ("from:dana)", r"unexpected '\)'"),
    ('"open phrase', "the quote .* is not closed"),
    ("{}", r"empty \{\} group"),
    ("OR pizza", "OR needs a term on each side"),
    ("pizza OR", "has nothing to apply to"),
    ("from:", "from: needs a value"),
    ("x AROUND y", "AROUND needs a number of words"),
    ("subject:@@@", "has no letters or digits"),
    ("(" * 40 + "a" + ")" * 40, "nests deeper than 32"),
    (" ".join(f"w{i}" for i in range(101)), "more than 100 terms"),
]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def mailbox(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus")
    keys = write_corpus(root / "Mail")
    provider = MaildirProvider(root / "Mail", root / "state")
    await provider.open()
    for name, labels in EXTRA_LABELS.items():
        await provider.modify_labels(keys[name], labels, [])
    yield provider, {key: name for name, key in keys.items()}
    await provider.aclose()


async def _names(mailbox, text: str, me: str | None = ME) -> set[str]:
    provider, names = mailbox
    page = await provider.search_page(parse_query(text), 500, now=NOW, zone=UTC, me=me)
    return {names[hit.id] for hit in page.messages}


def test_the_table_has_at_least_80_queries() -> None:
    assert len(TABLE) >= 80 and len({text for text, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[text or "(empty)" for text, _ in TABLE])
async def test_query_finds_exactly_its_messages(mailbox, text: str, expected: set[str]) -> None:
    assert await _names(mailbox, text) == expected


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[text[:30] for text, _ in REFUSED])
async def test_query_that_cannot_run_is_refused_by_name(mailbox, text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        await _names(mailbox, text)


async def test_from_me_without_the_account_address_is_refused(mailbox) -> None:
    with pytest.raises(QueryError, match="from:me needs the account's address"):
        await _names(mailbox, "from:me", me=None)
