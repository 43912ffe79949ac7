"""`generate_demo` and `python -m orchestrator.demo`: deterministic output, the summary, and never overwriting."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.demo import DEMO_USER, generate_demo
from orchestrator.demo.__main__ import main
from orchestrator.demo.people import MANAGER, VIPS

from .conftest import NOW


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_generate_demo_is_byte_identical_for_the_same_seed_and_now(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", seed=11, now=NOW)
    generate_demo(tmp_path / "b", seed=11, now=NOW)
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert len(first) > 200
    assert first == second


def test_generate_demo_differs_for_another_seed(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", seed=1, now=NOW)
    generate_demo(tmp_path / "b", seed=2, now=NOW)
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "b")


def test_generate_demo_dates_everything_relative_to_now(tmp_path: Path) -> None:
    later = NOW + timedelta(days=30)
    summary = generate_demo(tmp_path, now=later)
    newest = max(path.stat().st_mtime for path in summary.mail_dir.rglob("*") if path.is_file())
    assert later - timedelta(hours=12) < datetime.fromtimestamp(newest, later.tzinfo) <= later


def test_generate_demo_keeps_an_existing_mailbox(tmp_path: Path) -> None:
    generate_demo(tmp_path, seed=3, now=NOW)
    (tmp_path / "mail" / "new" / "1.mine").write_bytes(b"Subject: mine\n\nkeep me\n")
    before = snapshot(tmp_path)
    summary = generate_demo(tmp_path, seed=4, now=NOW + timedelta(days=2))
    assert summary.created is False and "Kept" in summary.note
    assert snapshot(tmp_path) == before
    assert summary.messages == sum(1 for name in before if "/cur/" in name or "/new/" in name)


def test_generate_demo_summary_counts_what_is_on_disk(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path, now=NOW)
    files = [p for p in summary.mail_dir.rglob("*") if p.is_file()]
    assert summary.created is True
    assert summary.messages == len(files) and 200 <= summary.messages <= 500
    assert 0 < summary.unread < summary.messages
    assert [p.name for p in summary.calendar_files] == ["personal.ics", "work.ics"]
    assert summary.events == sum(p.read_text().count("BEGIN:VEVENT") for p in summary.calendar_files)
    assert summary.user == DEMO_USER == "Alex Morgan <alex@pepper.demo>"
    assert summary.manager == MANAGER.email and summary.vips == [person.email for person in VIPS]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calendar", "mail"]  # no partial folder left


def test_generate_demo_leaves_a_calendar_file_the_user_put_there(tmp_path: Path) -> None:
    (tmp_path / "calendar").mkdir()
    mine = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//me//EN\r\nEND:VCALENDAR\r\n"
    (tmp_path / "calendar" / "work.ics").write_bytes(mine)
    summary = generate_demo(tmp_path, now=NOW)
    assert (tmp_path / "calendar" / "work.ics").read_bytes() == mine
    assert (tmp_path / "calendar" / "personal.ics").exists() and summary.created


def test_generate_demo_refuses_a_naive_now(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_demo(tmp_path, now=datetime(2026, 11, 24, 10, 30))
    assert not (tmp_path / "mail").exists()


def test_main_prints_the_summary_then_keeps_the_mailbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main([str(tmp_path), "--seed", "5", "--now", "2026-11-24T10:30:00+00:00", "--json"])
    written = json.loads(capsys.readouterr().out)
    main([str(tmp_path)])
    again = capsys.readouterr().out
    assert written["created"] is True and written["messages"] > 200
    assert written["user_address"] == "alex@pepper.demo"
    assert again.startswith("Kept the existing demo mailbox") and f"{written['messages']} messages" in again


def test_main_rejects_a_time_without_timezone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--now", "2026-11-24T10:30"])
    assert "has no timezone" in capsys.readouterr().err
