"""The first indexing of a big Maildir runs after the MCP session is up, newest first, in steps."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import anyio
import pytest
from fastmcp import Client

from mcp_servers.gmail import server as server_module
from mcp_servers.gmail.first_order import SENT_LEAD
from mcp_servers.gmail.journal import Journal
from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.maildir_store import MaildirStore
from tests.support.clock import PinnedClock
from tests.support.processes import REPO_ROOT, child_env, stdio_transport

from .messages import plain_message

pytestmark = pytest.mark.anyio
BODY = "About the quarterly numbers: the draft is in the shared folder, comments welcome.\n" * 20
BASE_TIME = 1_750_000_000


def big_maildir(root: Path, count: int, tag: str = "bench", every: int = 60) -> list[str]:
    """`count` messages in new/, message i received at BASE_TIME + i * `every` seconds; keys oldest first."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    template = plain_message(subject="Numbers NUMBER", body=BODY, date=datetime.fromtimestamp(BASE_TIME, UTC))
    stamp = format_datetime(datetime.fromtimestamp(BASE_TIME, UTC)).encode()
    keys = []
    for i in range(count):
        key = f"{BASE_TIME + i}.M{i}P1.{tag}"
        path = root / "new" / key
        at = BASE_TIME + every * i
        path.write_bytes(
            template.replace(b"NUMBER", str(i).encode()).replace(stamp, _date(at))
        )  # as received
        os.utime(path, (at, at))
        keys.append(key)
    return keys


def _date(at: int) -> bytes:
    return format_datetime(datetime.fromtimestamp(at, UTC)).encode()


def test_a_years_long_sent_folder_leads_with_its_newest_mail_only(tmp_path: Path) -> None:
    """The newest SENT_LEAD sent messages come first (whom the user writes to), then everything
    newest first: old sent mail does not hold today's inbox back."""
    inbox = big_maildir(tmp_path / "Mail", 300)
    sent = big_maildir(tmp_path / "Mail" / ".Sent", SENT_LEAD + 100, tag="sent", every=30)
    store = MaildirStore(tmp_path / "Mail", Journal(tmp_path / "state" / "index.sqlite3"))
    assert store.plan_index() == 300 + SENT_LEAD + 100
    while store.index_step(200) is not None:
        pass
    order = [change.message_id.rsplit(":", 1)[-1] for change in store.journal.changes(None, 2000).changes]
    assert order[:SENT_LEAD] == sent[::-1][:SENT_LEAD]
    by_time = sorted(inbox + sent[:100], key=lambda key: (int(key.split(".")[0]), key), reverse=True)
    received = {key: BASE_TIME + 60 * i for i, key in enumerate(inbox)} | {
        key: BASE_TIME + 30 * i for i, key in enumerate(sent)
    }
    rest = order[SENT_LEAD:]
    assert sorted(rest) == sorted(by_time) and [received[k] for k in rest] == sorted(
        (received[k] for k in rest), reverse=True
    )


def test_first_index_goes_newest_first_in_steps_and_scan_waits_for_it(tmp_path: Path) -> None:
    keys = big_maildir(tmp_path / "Mail", 500)
    store = MaildirStore(tmp_path / "Mail", Journal(tmp_path / "state" / "index.sqlite3"))
    assert store.plan_index() == 500
    first = store.index_step(200)
    assert first is not None and (first.indexed, first.total) == (200, 500)
    assert store.scan() == 0  # a tool's scan waits for the backlog instead of indexing it in one go
    (tmp_path / "Mail" / "new" / keys[0]).unlink()  # gone before its turn
    while store.index_step(200) is not None:
        pass
    order = [change.message_id for change in store.journal.changes(None, 1000).changes]
    assert order == list(reversed(keys[1:]))
    assert store.progress is None and store.scan() == 0


@pytest.mark.slow
async def test_server_answers_while_it_indexes_a_big_maildir_over_stdio(tmp_path: Path) -> None:
    keys = big_maildir(tmp_path / "Mail", 6000)
    args = ["--maildir", str(tmp_path / "Mail"), "--state-dir", str(tmp_path / "state")]
    async with Client(stdio_transport("mcp_servers.gmail", args), timeout=60) as client:
        found = (
            await client.call_tool("search_messages", {"query": "numbers", "limit": 5})
        ).structured_content
        assert found["indexing"].startswith("indexing")  # answered before the index was complete
        seen: list[str] = []
        cursor, partial_pages = None, 0
        with anyio.fail_after(120):
            while True:
                arguments = {"limit": 500, **({"since": cursor} if cursor else {})}
                page = (await client.call_tool("list_changes", arguments)).structured_content
                seen += [change["message_id"] for change in page["changes"]]
                cursor = page["cursor"]
                partial_pages += page["indexing"] is not None
                if page["indexing"] is None and not page["has_more"]:
                    break
        done = (
            await client.call_tool("search_messages", {"query": "numbers", "limit": 1})
        ).structured_content
    assert partial_pages > 0
    assert seen == list(reversed(keys))  # newest first, each message once
    assert done["indexing"] is None and done["messages"][0]["id"] == keys[-1]


def deliver_new(root: Path, key: str) -> None:
    """A message delivered the Maildir way, as an MDA does: written in tmp/, renamed into new/."""
    message = plain_message(subject="Just arrived", body="Can we talk today?\n")
    (root / "tmp" / key).write_bytes(message)
    os.rename(root / "tmp" / key, root / "new" / key)


def test_mail_delivered_during_the_first_indexing_goes_ahead_of_the_backlog(tmp_path: Path) -> None:
    keys = big_maildir(tmp_path / "Mail", 500)
    store = MaildirStore(tmp_path / "Mail", Journal(tmp_path / "state" / "index.sqlite3"))
    store.plan_index()
    store.index_step(200)
    deliver_new(tmp_path / "Mail", "arrival.M1P1.test")
    assert store.scan() == 1 and store.scan() == 0  # journalled at once, and once
    live = store.journal.changes(None, 100, live=True)
    assert [change.message_id for change in live.changes] == ["arrival.M1P1.test"]
    assert live.pending == 0 and not live.has_more
    while store.index_step(200) is not None:
        pass
    order = [change.message_id for change in store.journal.changes(None, 1000).changes]
    assert order == [*reversed(keys[300:]), "arrival.M1P1.test", *reversed(keys[:300])]
    assert store.journal.changes(live.cursor, 100, live=True).changes == []  # the backlog is not live


def test_a_journal_from_before_the_backlog_mark_is_upgraded_with_its_entries_live(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    with sqlite3.connect(path) as old:  # the changes table as it was before the mark
        old.execute(
            "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
            "message_id TEXT NOT NULL, labels TEXT NOT NULL, error TEXT)"
        )
        old.execute("INSERT INTO changes (kind, message_id, labels) VALUES ('added', 'old1', '[\"INBOX\"]')")
    journal = Journal(path)
    journal.append("added", "backlog1", ["INBOX"], backlog=True)
    journal.append("added", "new1", ["INBOX", "UNREAD"])
    assert [c.message_id for c in journal.changes(None, 10, live=True).changes] == ["old1", "new1"]
    assert [c.message_id for c in journal.changes(None, 10).changes] == ["old1", "backlog1", "new1"]
    journal.close()


def test_a_step_is_parsed_before_the_index_is_touched_and_then_journalled_whole(tmp_path: Path) -> None:
    """`fetch_step` reads and parses files only (outside the index lock); `write_step` journals
    them. Mail delivered in between goes first; a file moved away in between is left to the final
    scan; a step that is no longer the backlog's head is dropped."""
    keys = big_maildir(tmp_path / "Mail", 500)
    store = MaildirStore(tmp_path / "Mail", Journal(tmp_path / "state" / "index.sqlite3"))
    store.plan_index()
    store.index_step(200)
    fetched = store.fetch_step(200)
    assert [parsed.message.subject for parsed in fetched[:2]] == ["Numbers 299", "Numbers 298"]
    assert store.journal.last_seq() == 200  # nothing written by the fetch
    deliver_new(tmp_path / "Mail", "arrival.M1P1.test")
    assert store.scan() == 1
    (tmp_path / "Mail" / "new" / keys[290]).rename(tmp_path / "Mail" / "cur" / f"{keys[290]}:2,S")
    progress = store.write_step(fetched)
    assert progress is not None and progress.indexed == 400
    assert store.write_step(fetched) == progress  # the same step again: not the head any more
    while store.index_step(200) is not None:
        pass
    order = [change.message_id for change in store.journal.changes(None, 1000).changes]
    expected = [
        *reversed(keys[300:]),
        "arrival.M1P1.test",
        *(k for k in reversed(keys[100:300]) if k != keys[290]),
    ]
    assert order[:-1] == [*expected, *reversed(keys[:100])] and order[-1] == keys[290]
    assert store.journal.row(keys[290]).flags == "S"  # found by the final scan where it went


async def test_a_big_maildir_is_read_ahead_on_a_low_priority_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_maildir(tmp_path / "Mail", 450)
    priorities: list[int] = []
    fetch = MaildirStore.fetch_step

    def watched(store: MaildirStore, size: int, unindexed: object = None) -> list:
        priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return fetch(store, size, unindexed)

    monkeypatch.setattr(MaildirStore, "fetch_step", watched)
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await provider.connect()
    steps: list[int] = []

    async def changed() -> None:
        steps.append(provider.indexing.indexed if provider.indexing else -1)

    await provider.index(changed, step=200)
    await provider.aclose()
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert steps == [200, 400, 450, -1]
    # the first step whole under the lock at the tools' priority; the rest read ahead below it
    assert priorities == [mine, *[min(mine + 10, 19)] * 3]  # the last read finds the backlog empty


def test_a_scan_lists_the_folders_again_only_when_one_of_them_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Mail"
    keys = big_maildir(root, 5)
    store = MaildirStore(root, Journal(tmp_path / "state" / "index.sqlite3"))
    listed, clock_reads = [], []
    files, mkstemp = store.files, tempfile.mkstemp
    monkeypatch.setattr(store, "files", lambda: listed.append(1) or files())
    monkeypatch.setattr(tempfile, "mkstemp", lambda **kw: clock_reads.append(1) or mkstemp(**kw))

    def settle(when: float = BASE_TIME) -> None:  # the folders' times, as if changed at `when`
        for folder in store.folders():
            for sub in ("new", "cur"):
                os.utime(store.folder_path(folder) / sub, (when, when))

    settle()
    assert store.scan() == 5 and len(listed) == 1
    reads = len(clock_reads)
    assert store.scan() == 0 and store.scan() == 0 and len(listed) == 1  # nothing changed: no listing
    assert len(clock_reads) == reads, "nor a file written to read the clock: the folders are older"
    (root / "new" / keys[0]).rename(root / "cur" / f"{keys[0]}:2,S")  # read by another client
    assert store.scan() == 1 and len(listed) == 2
    settle(time.time() + 3600)  # a change within the file system's current tick (or a clock set back)
    assert store.scan() == 0 and store.scan() == 0 and len(listed) == 4  # listed each time
    settle()
    assert store.scan() == 0 and len(listed) == 5
    assert store.scan() == 0 and len(listed) == 5
    deliver_new(root, "arrival.M1P1.test")
    (root / "new" / keys[1]).unlink()
    settle()  # even a change that left the times as they were is seen once a folder appears
    store.ensure_folder("Projects")
    assert store.scan() == 2 and len(listed) == 6
    assert store.journal.row("arrival.M1P1.test") is not None and store.journal.row(keys[1]) is None

    def read_only(*args: object, **kwargs: object) -> None:  # a Maildir Pepper may read but not write
        raise PermissionError(13, "Permission denied", str(root / "tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    store = MaildirStore(root, Journal(tmp_path / "state" / "index.sqlite3"))
    files = store.files
    monkeypatch.setattr(store, "files", lambda: listed.append(1) or files())
    assert store.scan() == 0 and store.scan() == 0 and len(listed) == 8  # listed each time


def test_new_mail_after_the_first_index_is_found_without_listing_the_whole_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first index, a delivery changes only a `new/`: a look journals what arrived there
    without listing every folder (a full scan of 100,000 files held new mail back ~0.6 s a look),
    and anything else a `new/` can show (a file gone from it, a `cur/` changed) is still found by a
    full scan."""
    root = tmp_path / "Mail"
    keys = big_maildir(root, 5)
    store = MaildirStore(root, Journal(tmp_path / "state" / "index.sqlite3"))
    listed: list[int] = []
    files = store.files
    monkeypatch.setattr(store, "files", lambda: listed.append(1) or files())
    store.ensure_folder("Projects")

    def touch(folder: str, sub: str, when: float) -> None:
        os.utime(store.folder_path(folder) / sub, (when, when))

    for folder in store.folders():
        for sub in ("new", "cur"):
            touch(folder, sub, BASE_TIME)
    assert store.scan() == 5 and len(listed) == 1

    deliver_new(root, "arrival.M1P1.test")
    touch("", "new", BASE_TIME + 10)
    assert store.scan() == 1 and len(listed) == 1, "the delivery alone is read"
    assert store.journal.row("arrival.M1P1.test") is not None
    assert store.scan() == 0 and len(listed) == 1

    projects = store.folder_path("Projects")
    deliver_new(projects, "filed.M2P1.test")  # a filtering MDA's delivery into another folder
    deliver_new(root, "second.M3P1.test")
    touch("", "new", BASE_TIME + 20)
    touch("Projects", "new", BASE_TIME + 20)
    assert store.scan() == 2 and len(listed) == 1
    filed = store.journal.row("filed.M2P1.test")
    assert filed is not None and filed.folder == "Projects"

    (root / "new" / keys[0]).unlink()  # deleted straight from new/: only a full scan sees it go
    touch("", "new", BASE_TIME + 30)
    assert store.scan() == 1 and len(listed) == 2
    assert store.journal.row(keys[0]) is None

    (root / "new" / keys[1]).rename(root / "cur" / f"{keys[1]}:2,S")  # read by another client
    touch("", "new", BASE_TIME + 40)
    touch("", "cur", BASE_TIME + 40)
    assert store.scan() == 1 and len(listed) == 3
    moved = store.journal.row(keys[1])
    assert moved is not None and moved.flags == "S"

    copy = root / "new" / f"{keys[2]}.copy"
    copy.write_bytes((root / "new" / keys[2]).read_bytes())
    copy.rename(root / "new" / f"{keys[2]}:2,F")  # the same key again, flagged: the full scan decides
    touch("", "new", BASE_TIME + 50)
    store.scan()
    assert len(listed) == 4


def test_a_file_listed_before_its_bytes_are_in_is_read_again_once_written(tmp_path: Path) -> None:
    """A file written straight into `new/` (not through `tmp/`) can be listed while still empty;
    it was journalled as "the message is empty" and never read again. Now an unreadable file that
    changed within WRITING_SECONDS waits for the next look; an older one is journalled with its
    error as before."""
    root = tmp_path / "Mail"
    big_maildir(root, 1)
    store = MaildirStore(root, Journal(tmp_path / "state" / "index.sqlite3"))
    store.scan()
    (root / "new" / "arriving.eml").write_bytes(b"")  # created, its bytes not yet written
    assert store.scan() == 0 and store.journal.row("arriving.eml") is None
    (root / "new" / "arriving.eml").write_bytes(plain_message(subject="Written at last", body=BODY))
    assert store.scan() == 1
    row = store.journal.row("arriving.eml")
    assert row is not None and row.error is None and row.summary["subject"] == "Written at last"
    (root / "new" / "broken.eml").write_bytes(b"")
    long_ago = time.time() - 60
    os.utime(root / "new" / "broken.eml", (long_ago, long_ago))  # empty for a minute: broken
    assert store.scan() == 1
    broken = store.journal.row("broken.eml")
    assert broken is not None and broken.error == "the message is empty"


LISTINGS_UNDER_A_MOVED_CLOCK = """
import os, sys, time
from pathlib import Path
from mcp_servers.gmail.journal import Journal
from mcp_servers.gmail.maildir_store import MaildirStore
root, state = Path(sys.argv[1]), Path(sys.argv[2])
store = MaildirStore(root, Journal(state / "index.sqlite3"))
listed = []
files = store.files
store.files = lambda: listed.append(1) or files()
soon = os.stat(root / "tmp").st_mtime + 3  # the file system's clock, a moment ahead
for folder in store.folders():
    for sub in ("new", "cur"):
        os.utime(store.folder_path(folder) / sub, (soon, soon))
store.scan(), store.scan(), store.scan()
print(len(listed))
"""


def test_a_folder_changed_within_the_file_systems_current_tick_is_listed_again_whatever_the_process_clock(
    tmp_path: Path,
) -> None:
    """The stamp's "now" is the kernel's, not the process's: under libfaketime two days ahead (as the
    UI tests run Pepper), folders whose times are not yet past the file system's clock still have
    no stamp, so every scan lists them."""
    root = tmp_path / "Mail"
    big_maildir(root, 3)
    (root / "tmp").mkdir(exist_ok=True)
    os.utime(root / "tmp")  # real time: this process is not under libfaketime
    env = PinnedClock(datetime.now(UTC) + timedelta(days=2)).env(child_env())
    run = subprocess.run(
        [sys.executable, "-c", LISTINGS_UNDER_A_MOVED_CLOCK, str(root), str(tmp_path / "state")],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.split() == ["3"], run.stderr


async def test_subscribers_hear_of_the_first_index_at_most_every_second_and_when_it_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_maildir(tmp_path / "Mail", 1000)
    monkeypatch.setattr(server_module, "STEP_NOTICE_SECONDS", 3600.0)
    provider = MaildirProvider(tmp_path / "Mail", tmp_path / "state")
    await provider.connect()
    notices: list[int | None] = []

    class Subscribers:
        async def notify(self, uri: str) -> None:
            assert uri == "gmail://inbox"
            notices.append(provider.indexing.indexed if provider.indexing else None)

    await server_module.index_mailbox(provider, Subscribers())  # type: ignore[arg-type]
    await provider.aclose()
    assert notices == [200, None]  # the first step's, then the end's: not one per step of 200
