"""Summaries cut at real sentence ends, checked on a hand-labelled list of tricky bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.feeds.mail import Email
from orchestrator.feeds.summary import first_sentence, sentences, shorten, summarize

CASES = Path(__file__).parent / "data" / "first_sentences.tsv"


def labelled_cases() -> list[tuple[str, str, str]]:
    rows = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            family, body, expected = line.split("\t")
            rows.append((family, body.replace("\\n", "\n"), expected))
    return rows


def email(text: str, subject: str = "Quarterly numbers", name: str = "Dana Lee") -> Email:
    return Email.model_validate(
        {
            "id": "m1",
            "from": {"name": name, "email": "dana@example.org"},
            "date": datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
            "subject": subject,
            "text": text,
        }
    )


def test_the_labelled_list_covers_every_family_of_tricky_sentence() -> None:
    families = {family for family, _, _ in labelled_cases()}
    assert {"abbreviation", "initial", "number", "url", "address", "stub", "greeting", "wrapped"} <= families
    assert len(labelled_cases()) >= 40


@pytest.mark.parametrize(("family", "body", "expected"), labelled_cases())
def test_first_sentence_matches_the_labelled_list(family: str, body: str, expected: str) -> None:
    assert first_sentence(body) == expected, family


def test_sentences_split_a_paragraph_at_each_real_end() -> None:
    body = "Dr. Ng sent v2.1 to ada@x.org today. Is it final? Not quite there yet... We wait for Craig R. Hughes. Well... maybe."
    assert sentences(body) == [
        "Dr. Ng sent v2.1 to ada@x.org today.",
        "Is it final?",
        "Not quite there yet...",
        "We wait for Craig R. Hughes.",
        "Well... maybe.",
    ]


def test_summarize_gives_sender_subject_and_first_sentence() -> None:
    summary = summarize(email("Hi Ada,\n\nCraig R. Hughes signed for Acme Inc. today. More soon."))
    assert summary == "Dana Lee: Quarterly numbers — Craig R. Hughes signed for Acme Inc. today."


def test_summarize_leaves_out_a_first_sentence_that_repeats_the_subject() -> None:
    assert summarize(email("Quarterly numbers.\n\nSee attached.")) == "Dana Lee: Quarterly numbers"


def test_summarize_shows_no_html_stub() -> None:
    assert summarize(email("HTML Message !", subject="Offer")) == "Dana Lee: Offer"


def test_summarize_cuts_a_long_line_between_words_never_inside_a_url() -> None:
    url = "http://www.example.org/" + "a" * 60
    summary = summarize(email(f"The long report for the whole department is ready to read at {url} today."))
    assert len(summary) <= 160
    assert summary.endswith("read at…")
    assert "http://www." not in summary


def test_shorten_keeps_short_lines_and_marks_a_cut() -> None:
    assert shorten("short line") == "short line"
    assert shorten("one two three four", limit=12) == "one two…"
