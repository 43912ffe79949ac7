"""The demo generated once for the tests that only read it, and the mailbox read by the gmail server's parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_servers.gmail.maildir_store import labels_of
from mcp_servers.gmail.models import Message
from mcp_servers.gmail.parsing import parse_file
from orchestrator.demo import DemoSummary, generate_demo

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # a Tuesday


@dataclass
class Stored:
    """One message file as the gmail server's Maildir store sees it."""

    path: Path
    folder: str
    flags: str
    message: Message


def read_mailbox(root: Path) -> list[Stored]:
    stored = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.parent.name not in ("cur", "new"):
            continue
        folder_dir = path.parent.parent
        folder = "" if folder_dir == root else folder_dir.name.removeprefix(".")
        flags = path.name.partition(":2,")[2]
        message = parse_file(path, id=path.name.partition(":")[0], labels=labels_of(folder, flags, []))
        stored.append(Stored(path, folder, flags, message))
    return stored


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo(tmp_path_factory.mktemp("demo"), now=NOW)


@pytest.fixture(scope="session")
def mailbox(demo: DemoSummary) -> list[Stored]:
    return read_mailbox(demo.mail_dir)
