"""The independent summary check: where a shown first sentence stops in its message's text."""

from __future__ import annotations

import pytest

from bench.triage.summary_checks import summary_flaw

TEXT = (
    "Craig R. Hughes will send the draft, e.g. the budget part. Read it at http://www.example.org/draft "
    "or ask ada@example.org. Dr. Patel agrees, and so does the board of Acme Inc. today."
)


@pytest.mark.parametrize(
    ("shown", "flaw"),
    [
        ("Craig R.", "initial"),
        ("Craig R. Hughes will send the draft, e.g.", "abbreviation"),
        ("Read it at http://www.", "url"),
        ("ask ada@example.", "address"),
        ("Dr.", "abbreviation"),
        ("Read it at http://www.exam…", "url"),
        ("Craig R. Hughes will send the dra...", "word"),
        ("HTML Message !", "stub"),
    ],
)
def test_summary_flaw_names_each_wrong_cut(shown: str, flaw: str) -> None:
    assert summary_flaw(f"Dana: Draft — {shown}", TEXT) == flaw


@pytest.mark.parametrize(
    "shown",
    [
        "Craig R. Hughes will send the draft, e.g. the budget part.",
        "Read it at http://www.example.org/draft or ask ada@example.org.",
        "Dr. Patel agrees, and so does the board of Acme Inc. today.",
        "Craig R. Hughes will send the draft…",
        "Not in the text at all.",
    ],
)
def test_summary_flaw_passes_real_sentence_ends_and_cuts_between_words(shown: str) -> None:
    assert summary_flaw(f"Dana: Draft — {shown}", TEXT) is None


def test_summary_flaw_passes_a_summary_without_a_sentence() -> None:
    assert summary_flaw("Dana: Draft", TEXT) is None
