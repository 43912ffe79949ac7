"""The content model's cross-validation: folds that keep the classes' shares, a model that never sees
the message it scores, and figures in the report; on messages written here, not the corpus."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.triage.content_cv import cross_validate, folds
from bench.triage.report import cv_lines
from orchestrator.feeds.mail import Email

WHEN = datetime(2002, 8, 22, 12, tzinfo=UTC)
SPAM = "Cheap meds!!! Buy now at 80% off, free shipping, click here: http://192.168.1.9/buy ${n}"
HAM = "Hi, the build on the ci box fails again after the merge; I'll look at the log tomorrow. ({n})"


def corpus(spam: int, ham: int) -> list[tuple[Email, bool]]:
    def one(n: int, body: str, is_spam: bool) -> tuple[Email, bool]:
        data = {"id": f"m{n}", "from": {"email": f"s{n}@example.net"}, "date": WHEN.isoformat()}
        return Email.model_validate(
            data | {"subject": body[:20], "text": body.replace("{n}", str(n))}
        ), is_spam

    return [one(n, SPAM, True) for n in range(spam)] + [one(spam + n, HAM, False) for n in range(ham)]


def test_folds_keep_each_class_spread_evenly_and_are_seeded() -> None:
    labels = [True] * 10 + [False] * 40
    fold_of = folds(labels, 5, seed=14)
    for fold in range(5):
        members = [labels[i] for i in range(50) if fold_of[i] == fold]
        assert members.count(True) == 2 and members.count(False) == 8
    assert folds(labels, 5, seed=14) == fold_of
    assert folds(labels, 5, seed=15) != fold_of


def test_cross_validation_scores_every_message_and_reports_the_figures() -> None:
    report = cross_validate(corpus(10, 40), k=5, seed=14)
    assert report["messages"] == {"ham": 40, "spam": 10}
    assert report["spam_urgent_high"] == 0
    assert report["spam_normal_or_above"]["count"] == 0
    assert report["ham_marked_spam"]["count"] == 0
    lines = "\n".join(cv_lines(report))
    assert "5-fold cross-validation" in lines and "spam at normal or above | 0 of 10 (0.0%)" in lines
