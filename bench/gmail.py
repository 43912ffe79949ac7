"""Benchmarks of the gmail server: parse+normalize throughput, and change-feed latency over IMAP IDLE.

    .venv/bin/python bench/gmail.py parse [--messages 5000]
    .venv/bin/python bench/gmail.py imap  [--samples 20]    (needs the dovecot binary; run as root)

`parse` generates a Maildir of varied messages (plain, HTML-only, multipart/alternative with
attachments, replies with quotes and signatures, non-UTF-8 charsets), then times a cold sync of
the Maildir provider, which parses and normalizes every message and writes the index and journal
(target >= 500 messages/s). `imap` appends messages to a real Dovecot and measures the time until
`list_changes` reports each one, with IDLE push (target p50 <= 1 s).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_servers.gmail.maildir import MaildirProvider  # noqa: E402
from mcp_servers.gmail.parsing import parse_file  # noqa: E402

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
        message.set_content(f"<html><body><p>{body.replace(chr(10), '</p><p>')}</p></body></html>", subtype="html")
    elif kind == 2:
        message.set_content(body)
        message.add_alternative(f"<p>{body}</p>", subtype="html")
        message.add_attachment(rng.randbytes(20_000), maintype="application", subtype="pdf", filename="doc.pdf")
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
        from bench_gmail_imap import bench_imap  # noqa: PLC0415 - defined once the IMAP provider lands

        anyio.run(bench_imap, args.samples)


if __name__ == "__main__":
    main()
