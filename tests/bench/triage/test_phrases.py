"""The labelled deadline phrases load by split, and the detector's score counts a wrong date as both
a false positive and a miss, with a day's tolerance."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bench.triage.corpus import ReservedSplitError
from bench.triage.phrases import PhraseFileError, load_phrases, score_phrases

HEADER = "# a comment line\nnumber\tsplit\tfamily\tnow\texpected\tphrase\n"
NOW = "2026-03-04T09:30:00+00:00"  # a Wednesday


def phrase_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "phrases.tsv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_load_phrases_refuses_the_reserved_split_without_final_report(tmp_path: Path) -> None:
    path = phrase_file(tmp_path, [f"1\treserved\tweekday\t{NOW}\t2026-03-06\tby Friday"])
    with pytest.raises(ReservedSplitError):
        load_phrases("reserved", path=path)
    assert [p.text for p in load_phrases("reserved", final_report=True, path=path)] == ["by Friday"]
    assert load_phrases("dev", path=path) == []


def test_load_phrases_keeps_quotes_and_names_a_bad_row(tmp_path: Path) -> None:
    path = phrase_file(tmp_path, [f'1\tdev\ttrap_size_range\t{NOW}\tNONE\tGrow by 1-3" fast'])
    assert load_phrases(path=path)[0].text == 'Grow by 1-3" fast'
    bad = phrase_file(tmp_path, ["7\tdev\tweekday\t2026-03-04T09:30:00\t2026-03-06\tno timezone"])
    with pytest.raises(PhraseFileError, match="row '7'"):
        load_phrases(path=bad)


def test_score_phrases_counts_right_wrong_date_and_trap_detections(tmp_path: Path) -> None:
    path = phrase_file(
        tmp_path,
        [
            f"1\tdev\tweekday\t{NOW}\t2026-03-06\tright: by Friday",
            f"2\tdev\tweekday\t{NOW}\t2026-03-06\tclose: by Friday",
            f"3\tdev\tweekday\t{NOW}\t2026-03-06\twrong: by Friday",
            f"4\tdev\tweekday\t{NOW}\t2026-03-06\tmissed: by Friday",
            f"5\tdev\ttrap_bare_number\t{NOW}\tNONE\ttrap: by 24",
            f"6\tdev\ttrap_bare_number\t{NOW}\tNONE\tquiet: by 0.01",
        ],
    )
    found = {
        "right": [date(2026, 3, 6)],
        "close": [date(2026, 3, 5)],  # within a day
        "wrong": [date(2026, 3, 13)],
        "trap": [date(2026, 3, 24)],
    }

    def detector(text: str, now: datetime) -> list[date]:
        assert now.utcoffset() == timedelta(0)
        return found.get(text.split(":")[0], [])

    score = score_phrases(load_phrases(path=path), detector)
    assert (score["with_deadline"], score["detected"], score["right"]) == (4, 4, 2)
    assert (score["precision_pct"], score["recall_pct"]) == (50.0, 50.0)
    assert [fp["number"] for fp in score["false_positives"]] == [3, 5]
    assert [miss["number"] for miss in score["misses"]] == [3, 4]
    assert score["families"] == {
        "trap_bare_number": {"phrases": 2, "right": 1, "wrong": 1},
        "weekday": {"phrases": 4, "right": 2, "wrong": 2},
    }


def test_the_phrase_file_has_200_labelled_phrases_every_fifth_reserved() -> None:
    dev, reserved = load_phrases("dev"), load_phrases("reserved", final_report=True)
    phrases = sorted(dev + reserved, key=lambda p: p.number)
    assert len(phrases) >= 200
    assert [p.number for p in phrases] == list(range(1, len(phrases) + 1))
    assert all((p.split == "reserved") == (p.number % 5 == 0) for p in phrases)
    assert sum(p.expected is None for p in phrases) >= 60  # traps
    assert all(p.expected is None or p.expected >= date(2002, 1, 1) for p in phrases)
