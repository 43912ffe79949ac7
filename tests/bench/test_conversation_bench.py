"""The conversation bench: its corpus loads, keeps the reserved split apart, and its scoring counts
a confidently wrong answer as the user would feel it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bench.conversation_eval.corpus import CorpusFileError, ReservedSplitError, Utterance, load_utterances
from bench.conversation_eval.score import Reading, score


def test_the_corpus_has_enough_utterances_and_intents_and_keeps_every_fifth_apart() -> None:
    dev = load_utterances("dev")
    reserved = load_utterances("reserved", final_report=True)
    assert len(dev) + len(reserved) >= 300 and len({u.intent for u in dev}) >= 15
    assert 0.18 <= len(reserved) / (len(dev) + len(reserved)) <= 0.2  # every fifth row of each file
    assert not {u.text for u in dev} & {u.text for u in reserved}
    assert all(u.now.tzinfo is not None for u in dev)


def test_the_reserved_split_is_refused_outside_a_final_report() -> None:
    with pytest.raises(ReservedSplitError):
        load_utterances("reserved")


def test_a_malformed_row_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.tsv").write_text("# now: 2026-03-11T10:00\n# timezone: UTC\nhello\tunknown\tdate\n")
    with pytest.raises(CorpusFileError, match=r"bad.tsv:3: slot 'date' is not key=value"):
        load_utterances("dev", folder=tmp_path)


def test_a_wrong_intent_without_a_question_is_confidently_wrong_and_help_text_is_not() -> None:
    now = datetime.fromisoformat("2026-03-11T10:00+00:00")
    corpus = [
        Utterance("a:1", "remind me at 3", "remind_me", now, {"time": "15:00"}),
        Utterance("a:2", "meetings tomorrow", "agenda_day", now, {"date": "2026-03-12"}),
        Utterance("a:3", "book a flight", "unknown", now),
    ]
    answers = {
        "remind me at 3": Reading("remind_me", {"time": "15:00"}),
        "meetings tomorrow": Reading("agenda_day", {"date": "2026-03-11"}),  # the wrong day
        "book a flight": Reading("mail_about_topic", {"topic": "flight"}),
    }
    figures = score(corpus, lambda text, _: answers[text], examples=5)
    assert (figures["intent_accuracy"], figures["confidently_wrong"]) == (round(2 / 3, 4), 1)
    assert figures["slots"]["date"] == {"right": 0, "compared": 1, "accuracy": 0.0}
    assert figures["slot_accuracy"] == 0.5
    helped = score(corpus[2:], lambda text, _: Reading("unknown"))
    assert (helped["confidently_wrong"], helped["intent_accuracy"]) == (0, 1.0)
