"""Corrections teaching the content model, measured: the cross-validated before/after on messages no
correction touched, and a model made blind to the messages it is measured on; written here, not the
corpus."""

from __future__ import annotations

from bench.triage.lessons_cv import corrections_cv
from bench.triage.now_lessons import blind_to
from bench.triage.report import corrections_lines
from orchestrator.triage.content import ContentCounts, ContentModel
from orchestrator.triage.content_features import features
from tests.bench.triage.test_content_cv import corpus


def test_corrections_cv_reports_each_correction_against_before_on_the_untouched_half() -> None:
    report = corrections_cv(corpus(20, 40), k=2, seed=14)
    half = report["later_half"]
    assert half["spam"] + half["ham"] == 30 and half["spam"] > 0
    assert set(report["rows"]) == {"before", "never", "not_important"}
    for row in report["rows"].values():
        assert row["ham_spam_category"]["count"] == 0 and row["spam_recall"]["of"] == half["spam"]
    lines = "\n".join(corrections_lines(report))
    assert "| before |" in lines and "| after 'not important' |" in lines


def test_blind_to_takes_back_the_spam_counts_of_the_measured_messages() -> None:
    emails = [email for email, is_spam in corpus(3, 0)]
    seed = ContentCounts()
    for email in emails:
        seed.add(features(email), True)
    seed.add(features(corpus(0, 1)[0][0]), False)
    blind = blind_to(ContentModel(seed, 6.0), emails[:2])
    assert blind.seed.spam_docs == 1 and seed.spam_docs == 3  # the original is left alone
    assert all(blind.seed.tokens[t][0] == 1 for t in features(emails[2]) if t in blind.seed.tokens)
