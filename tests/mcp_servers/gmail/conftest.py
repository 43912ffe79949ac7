"""Fixtures for the gmail server's tests: CPython's own sample messages, and one real Dovecot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mcp_servers.gmail.imap import ImapProvider
from mcp_servers.gmail.settings import GmailSettings

from .dovecot import DOVECOT, Dovecot, imap_account, running_dovecot
from .gmail_emulator import GmailEmulator


def _cpython_email_data() -> Path | None:
    try:
        import test  # the CPython test package, shipped with most installations
    except ImportError:
        return None
    candidate = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def cpython_messages() -> list[Path]:
    directory = _cpython_email_data()
    if directory is None:
        pytest.skip("CPython's test/test_email/data is not installed with this Python")
    return sorted(directory.glob("msg_*.txt"))


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the whole run (plain + STARTTLS and implicit TLS); each test takes a fresh user."""
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot runs mail processes as nobody: the tests need root")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def emulator() -> Iterator[GmailEmulator]:
    """A running Gmail API emulator."""
    with GmailEmulator() as running:
        yield running


@pytest.fixture
def account(dovecot: Dovecot, tmp_path: Path) -> GmailSettings:
    """The imap provider's settings for a fresh Dovecot user."""
    return imap_account(dovecot, tmp_path / "state")


@pytest.fixture
async def provider(account: GmailSettings) -> AsyncIterator[ImapProvider]:
    """An open imap provider on `account`."""
    mailbox = ImapProvider(account)
    await mailbox.open()
    yield mailbox
    await mailbox.aclose()
