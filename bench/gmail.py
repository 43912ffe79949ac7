"""Benchmarks of the gmail server: parse+normalize throughput, and change-feed latency over IMAP IDLE.

    .venv/bin/python bench/gmail.py parse [--messages 5000]
    .venv/bin/python bench/gmail.py imap  [--samples 20]    (needs the dovecot binary; run as root)

`parse` generates a Maildir of varied messages (plain, HTML-only, multipart/alternative with
attachments, replies with quotes and signatures, non-UTF-8 charsets), then times a cold sync of
the Maildir provider, which parses and normalizes every message and writes the index and journal
(target >= 500 messages/s). `imap` appends messages to a real Dovecot and measures the time until
`list_changes` reports each one, with IDLE push (target p50 <= 1 s).
"""

# ruff: noqa: E402 - sys.path must be repaired before the standard library's email is imported
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, where bench/calendar.py would shadow the
# standard library's calendar module (which email imports): drop it, and put the repo root first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import anyio

from mcp_servers.gmail.maildir import MaildirProvider
from mcp_servers.gmail.parsing import parse_file

WORDS = "meeting budget lunch report invoice deadline project review friday call draft numbers team".split()


def generated_message(index: int, rng: random.Random) -> bytes:
    message = EmailMessage()
    message["From"] = f"Person {index % 97} <person{index % 97}@example.org>"
    message["To"] = "ada@example.org"
    message["Subject"] = " ".join(rng.choices(WORDS, k=4)).capitalize()
    message["Date"] = format_datetime(datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=index))
    message["Message-ID"] = make_msgid(domain="example.org")
    body = "\n".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(rng.randint(3, 25)))
    kind = index % 5
    if kind == 0:
        message.set_content(body)
    elif kind == 1:
        message.set_content(
            f"<html><body><p>{body.replace(chr(10), '</p><p>')}</p></body></html>", subtype="html"
        )
    elif kind == 2:
        message.set_content(body)
        message.add_alternative(f"<p>{body}</p>", subtype="html")
        message.add_attachment(
            rng.randbytes(20_000), maintype="application", subtype="pdf", filename="doc.pdf"
        )
    elif kind == 3:
        quoted = "\n".join(f"> {line}" for line in body.splitlines())
        message.set_content(f"Sounds good.\n\n-- \nPerson\n\nOn Mon, 3 Mar 2025, Ada wrote:\n{quoted}\n")
    else:
        message.set_content(f"Café, crème, naïve. {body}", charset="iso-8859-1")
    return bytes(message)


def build_maildir(root: Path, count: int) -> None:
    rng = random.Random(42)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (root / "new" / f"1700000000.M{index}P1.bench").write_bytes(generated_message(index, rng))


async def bench_parse(count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "Mail"
        build_maildir(root, count)
        files = sorted((root / "new").iterdir())
        started = time.perf_counter()
        for path in files:
            parse_file(path, id=path.name, labels=["INBOX"])
        parse_only = time.perf_counter() - started

        provider = MaildirProvider(root, Path(scratch) / "state")
        started = time.perf_counter()
        await provider.open()  # a cold sync: parse, normalize, index and journal every message
        sync = time.perf_counter() - started
        page = await provider.list_changes(None, count + 1)
        await provider.aclose()
        assert len(page.changes) == count, len(page.changes)
    print(f"parse+normalize: {count} messages in {parse_only:.2f} s = {count / parse_only:.0f} messages/s")
    print(f"cold Maildir sync (parse + index + journal): {sync:.2f} s = {count / sync:.0f} messages/s")


async def bench_imap(samples: int) -> None:
    from pydantic import SecretStr

    from mcp_servers.gmail.imap import ImapProvider
    from mcp_servers.gmail.imap_connection import ImapConnection
    from mcp_servers.gmail.settings import GmailSettings
    from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot

    if DOVECOT is None:
        raise SystemExit("dovecot is not installed: apt-get install -y dovecot-imapd")
    rng = random.Random(7)
    with running_dovecot() as dovecot, tempfile.TemporaryDirectory() as scratch:
        user = dovecot.add_user()
        settings = GmailSettings(
            provider="imap", imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none",
            imap_username=user, imap_password=SecretStr("secret"), state_dir=Path(scratch),
        )  # fmt: skip
        provider = ImapProvider(settings)
        await provider.open()
        other = ImapConnection("127.0.0.1", dovecot.port, "none", user, "secret")
        woke = anyio.Event()

        async def changed() -> None:
            woke.set()

        latencies = []
        cursor = (await provider.list_changes(None, 10)).cursor
        async with anyio.create_task_group() as group:
            await group.start(provider.watch, changed)
            for index in range(samples):
                with anyio.fail_after(10):
                    while not provider.idling:  # noqa: ASYNC110 - the watcher re-enters IDLE after each sync
                        await anyio.sleep(0.005)
                woke = anyio.Event()
                started = time.perf_counter()
                await anyio.to_thread.run_sync(other.append, "INBOX", generated_message(index, rng), "")
                with anyio.fail_after(30):
                    await woke.wait()
                    page = await provider.list_changes(cursor, 10)
                latencies.append(time.perf_counter() - started)
                assert [c.kind for c in page.changes] == ["added"], page
                cursor = page.cursor
            group.cancel_scope.cancel()
        other.close()
        await provider.aclose()
    latencies.sort()
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    print(f"list_changes latency after APPEND to Dovecot (IDLE push), {samples} samples: "
          f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    parse = sub.add_parser("parse")
    parse.add_argument("--messages", type=int, default=5000)
    imap = sub.add_parser("imap")
    imap.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    if args.what == "parse":
        anyio.run(bench_parse, args.messages)
    else:
        anyio.run(bench_imap, args.samples)


if __name__ == "__main__":
    main()
