"""Whatever `now` is (just after midnight, a Sunday night, a DST change, a leap year) the demo stays coherent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.demo import generate_demo

from .conftest import read_mailbox

AWKWARD = [
    datetime(2026, 11, 24, 0, 4, tzinfo=UTC),  # four minutes into the day
    datetime(2026, 11, 29, 23, 58, tzinfo=UTC),  # Sunday night
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # the morning the clocks go forward in London
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the morning they go back
    datetime(2028, 2, 24, 12, 0, tzinfo=UTC),  # a birthday on 29 February, five days on
    datetime(2027, 1, 1, 7, 45, tzinfo=UTC),  # New Year's Day, before the first meeting
]


@pytest.mark.parametrize("now", AWKWARD, ids=lambda moment: moment.strftime("%Y-%m-%d-%H%M"))
def test_generate_demo_is_coherent_at_awkward_times(tmp_path: Path, now: datetime) -> None:
    summary = generate_demo(tmp_path, now=now)
    mailbox = read_mailbox(summary.mail_dir)
    known = {stored.message.message_id: stored.message for stored in mailbox}
    assert len(known) == len(mailbox) == summary.messages
    assert [s.path.name for s in mailbox if s.message.defects] == []
    assert [s.path.name for s in mailbox if not now - timedelta(weeks=7) < s.message.date <= now] == []
    assert all(known[m.in_reply_to].date <= m.date for m in known.values() if m.in_reply_to)
    assert any("due tomorrow" in m.subject and m.date.date() == now.date() for m in known.values())
    assert summary.events > 10
