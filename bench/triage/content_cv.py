"""The content model's honest figures: stratified k-fold cross-validation on the development split.

The shipped seed model was trained on all of the development split, so its figures in the main table
are figures on its own training data. Here each message is instead scored, and triaged, by a model
built (by `train_seed.build_model`, pruning included) from the other folds only: spam and ham are
shuffled apart with a fixed seed and dealt round-robin into `k` folds. Figures: spam recall and ham
marked spam by the model alone at the operating threshold (and at a few others, to show the margin),
then through the rules triage with the fold's model: spam at normal or above (what reaches Now),
spam at urgent/high, and ham put in the spam category.
"""

from __future__ import annotations

import random

from bench.triage.mail_eval import in_now, new_user_profile
from bench.triage.train_seed import THRESHOLD, build_model
from orchestrator.feeds.mail import Email
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.content_features import features

__all__ = ["THRESHOLDS_SHOWN", "cross_validate", "folds"]

THRESHOLDS_SHOWN = (0.0, 4.0, THRESHOLD, 12.0)


def folds(labels: list[bool], k: int, seed: int) -> list[int]:
    """The fold of each example: each class shuffled with `seed`, then dealt round-robin."""
    fold_of = [0] * len(labels)
    rng = random.Random(seed)
    for cls in (True, False):
        members = [i for i, label in enumerate(labels) if label is cls]
        rng.shuffle(members)
        for position, index in enumerate(members):
            fold_of[index] = position % k
    return fold_of


def cross_validate(emails: list[tuple[Email, bool]], k: int = 5, seed: int = 14, examples: int = 8) -> dict:
    """Cross-validated figures for `emails` (each with whether it is spam)."""
    tokens = [features(email) for email, _ in emails]
    labels = [is_spam for _, is_spam in emails]
    fold_of = folds(labels, k, seed)
    profile = new_user_profile()
    scores: list[float] = [0.0] * len(emails)
    verdicts: list[tuple[str, str]] = [("", "")] * len(emails)
    for fold in range(k):
        training = [(tokens[i], labels[i]) for i in range(len(emails)) if fold_of[i] != fold]
        model = build_model(training)
        for i in (i for i in range(len(emails)) if fold_of[i] == fold):
            email = emails[i][0]
            scores[i] = model.judge(email).score
            verdict = triage_email(email, profile, email.date, content=model)
            verdicts[i] = (verdict.priority, verdict.category)
    return _figures(emails, labels, scores, verdicts, k, seed, examples)


def _figures(emails, labels, scores, verdicts, k, seed, examples) -> dict:
    spam = [i for i, label in enumerate(labels) if label]
    ham = [i for i, label in enumerate(labels) if not label]
    by_threshold = {
        f"{t:g}": {
            "spam_recall": _share(sum(scores[i] >= t for i in spam), len(spam)),
            "ham_marked_spam": _share(sum(scores[i] >= t for i in ham), len(ham)),
        }
        for t in THRESHOLDS_SHOWN
    }
    in_now_spam = [i for i in spam if in_now(*verdicts[i])]
    ham_spam = [i for i in ham if verdicts[i][1] == "spam"]
    return {
        "k": k,
        "seed": seed,
        "messages": {"ham": len(ham), "spam": len(spam)},
        "threshold": THRESHOLD,
        "model_alone": by_threshold,
        "spam_urgent_high": sum(verdicts[i][0] in ("urgent", "high") for i in spam),
        "spam_normal_or_above": _share(sum(verdicts[i][0] != "low" for i in spam), len(spam)),
        "spam_in_now": _share(len(in_now_spam), len(spam)),
        "ham_marked_spam": _share(len(ham_spam), len(ham)),
        "ham_bulk_or_low": _share(sum(verdicts[i][0] == "low" for i in ham), len(ham)),
        "spam_missed_examples": [_example(emails[i][0], scores[i]) for i in in_now_spam[:examples]],
        "ham_marked_spam_examples": [_example(emails[i][0], scores[i]) for i in ham_spam[:examples]],
    }


def _share(count: int, total: int) -> dict:
    return {"count": count, "of": total, "percent": round(100 * count / total, 2) if total else 0.0}


def _example(email: Email, score: float) -> str:
    sender = email.sender.email if email.sender else "?"
    return f"{email.id} score {score:.1f} | {sender} | {email.subject[:70]}"
