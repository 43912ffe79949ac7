"""`generate_demo`: write the demo mailbox and calendars under a data directory, once.

The mailbox is a Maildir++ tree at `data_dir/mail` (what `pepper-gmail --maildir` serves) and the
calendars are `data_dir/calendar/*.ics` (what `pepper-calendar --ics` serves). Everything is derived
from the seed and `now`, so one seed and one `now` always give byte-identical files. Generation works
in a private folder next to the target and renames it into place last, so a crash never leaves half
a mailbox behind; an existing `data_dir/mail` is never touched, which makes the call idempotent.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from orchestrator.demo.agenda import calendars
from orchestrator.demo.bulk import newsletters
from orchestrator.demo.mime import Mail, write_maildir
from orchestrator.demo.notices import notifications, receipts
from orchestrator.demo.people import DEMO_TIMEZONE, DEMO_USER, DEMO_USER_ADDRESS, MANAGER, VIPS
from orchestrator.demo.scenarios import routine, scenarios
from orchestrator.demo.threads import everyday_threads
from orchestrator.demo.timeline import Timeline

__all__ = ["DemoSummary", "generate_demo"]

WEEKS = 6
THREADS = 50


class DemoSummary(BaseModel):
    """What `generate_demo` wrote (or found and kept), and what to tell Pepper about the demo user."""

    created: bool = Field(description="False when an existing mailbox was kept untouched")
    note: str = Field(description="One line for the user: generated, or kept")
    user: str = Field(description="The demo user, as a From header")
    user_address: str = Field(description="The demo user's address")
    manager: str = Field(description="The manager's address")
    vips: list[str] = Field(description="Addresses worth marking as VIPs")
    timezone: str = Field(description="IANA zone the calendar times are written in")
    messages: int = Field(description="Message files in the mailbox")
    unread: int = Field(description="Of which unread (no S flag, outside Sent and Drafts)")
    events: int = Field(description="VEVENT components across the calendar files")
    data_dir: Path
    mail_dir: Path = Field(description="Maildir++ root: pass as --maildir")
    calendar_dir: Path = Field(description="Folder of .ics files: pass as --ics")
    calendar_files: list[Path] = Field(default_factory=list)

    def describe(self) -> str:
        """A few lines for a terminal."""
        return (
            f"{self.note}\n"
            f"  mailbox:   {self.mail_dir} ({self.messages} messages, {self.unread} unread)\n"
            f"  calendars: {self.calendar_dir} ({self.events} events in {len(self.calendar_files)} files)\n"
            f"  user:      {self.user}; manager {self.manager}; VIPs {', '.join(self.vips)}"
        )


def _is_bulk(mail: Mail) -> bool:
    return bool({"List-Id", "Precedence", "Auto-Submitted"} & mail.headers.keys())


def _everyday_state(mail: Mail, timeline: Timeline) -> None:
    """Read state and folder of mail the scenarios did not pin: old mail read, recent mail not."""
    age = timeline.now - mail.date
    roll = timeline.rng.random()
    if mail.folder == "Sent":
        return
    mail.seen = age > timedelta(hours=36) and not (_is_bulk(mail) and roll < 0.1)
    if not _is_bulk(mail) and age > timedelta(days=21) and roll < 0.45:
        mail.folder = "Archive"
    mail.flagged = not _is_bulk(mail) and age > timedelta(days=3) and roll > 0.95


def _mailbox(timeline: Timeline) -> list[Mail]:
    everyday = (
        newsletters(timeline, WEEKS)
        + notifications(timeline, WEEKS)
        + receipts(timeline, WEEKS)
        + everyday_threads(timeline, THREADS, WEEKS)
        + routine(timeline, WEEKS)
    )
    for mail in everyday:
        _everyday_state(mail, timeline)
    mails = everyday + scenarios(timeline, WEEKS)
    for mail in mails:
        if not mail.seen and mail.folder == "" and timeline.now - mail.date < timedelta(hours=6):
            mail.fresh = True
    return mails


def generate_demo(data_dir: Path, *, seed: int = 7, now: datetime | None = None) -> DemoSummary:
    """Write the demo mailbox and calendars under `data_dir`, unless a mailbox is already there."""
    data_dir = Path(data_dir)
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware, e.g. datetime.now(UTC)")
    mail_dir, calendar_dir = data_dir / "mail", data_dir / "calendar"
    if mail_dir.exists():
        return _summary(data_dir, created=False, note=f"Kept the existing demo mailbox in {mail_dir}")
    timeline = Timeline(now or datetime.now(UTC), ZoneInfo(DEMO_TIMEZONE), seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / f".demo-partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write_maildir(partial / "mail", _mailbox(timeline))
        calendar_dir.mkdir(exist_ok=True)
        for name, content in calendars(timeline).items():
            if not (calendar_dir / name).exists():  # a calendar the user put there stays theirs
                (partial / name).write_bytes(content)
                os.rename(partial / name, calendar_dir / name)
        try:
            os.rename(partial / "mail", mail_dir)
        except OSError:  # another process generated it first: theirs wins
            return _summary(
                data_dir, created=False, note=f"Kept the demo mailbox another run wrote in {mail_dir}"
            )
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return _summary(data_dir, created=True, note=f"Generated the demo mailbox and calendars in {data_dir}")


def _summary(data_dir: Path, *, created: bool, note: str) -> DemoSummary:
    mail_dir, calendar_dir = data_dir / "mail", data_dir / "calendar"
    messages = unread = 0
    for folder in [mail_dir, *sorted(mail_dir.glob(".*"))] if mail_dir.is_dir() else []:
        for sub in ("cur", "new"):
            for path in (folder / sub).glob("*") if (folder / sub).is_dir() else []:
                messages += 1
                flags = path.name.partition(":2,")[2]
                unread += "S" not in flags and folder.name not in (".Sent", ".Drafts")
    files = sorted(calendar_dir.glob("*.ics")) if calendar_dir.is_dir() else []
    events = sum(path.read_bytes().count(b"BEGIN:VEVENT") for path in files)
    return DemoSummary(
        created=created,
        note=note,
        user=DEMO_USER,
        user_address=DEMO_USER_ADDRESS,
        manager=MANAGER.email,
        vips=[person.email for person in VIPS],
        timezone=DEMO_TIMEZONE,
        messages=messages,
        unread=unread,
        events=events,
        data_dir=data_dir,
        mail_dir=mail_dir,
        calendar_dir=calendar_dir,
        calendar_files=files,
    )
