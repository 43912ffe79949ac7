"""Corrections teaching the content model, cross-validated on the development split: before and after.

Each fold's model is built from the other folds (as in `content_cv`); the fold's own messages, in a
seeded order, are then what the user meets: in the first half, the mistakes the user sees are
corrected one after the other, as `orchestrator.triage.lessons` teaches them (`lesson_of`, its
weights): spam that reached Now gets "Never" (or, in the other variant, "Not important"), ham the
triage put in the spam category gets "Important". The second half, which no correction touched, is
scored before and after.
Figures on that second half: spam recall and ham marked spam of the model alone, and through the rules
triage (a new user: every sender a stranger) spam at normal or above and ham put in the spam category;
plus the mean log-odds of its spam. Learning from corrections must not make any of them worse.
"""

from __future__ import annotations

import random
from statistics import mean

from bench.triage.content_cv import folds
from bench.triage.mail_eval import new_user_profile
from bench.triage.train_seed import THRESHOLD, build_model
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import SenderTrust
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.content import ContentModel
from orchestrator.triage.content_features import features
from orchestrator.triage.lessons import lesson_of
from orchestrator.triage.ranker import CorrectionKind

__all__ = ["corrections_cv"]

VARIANTS: tuple[CorrectionKind, ...] = ("never", "not_important")  # what the spam let through gets


def corrections_cv(emails: list[tuple[Email, bool]], k: int = 5, seed: int = 14) -> dict:
    """Cross-validated figures of the content model before and after the user's corrections."""
    labels = [is_spam for _, is_spam in emails]
    fold_of = folds(labels, k, seed)
    tokens = [features(email) for email, _ in emails]
    profile = new_user_profile()
    rng = random.Random(seed)
    later: list[int] = []
    rows: dict[str, list[tuple[float, str]]] = {"before": [], **{name: [] for name in VARIANTS}}
    given = {name: {"spam": 0, "ham": 0} for name in VARIANTS}
    for fold in range(k):
        training = [(tokens[i], labels[i]) for i in range(len(emails)) if fold_of[i] != fold]
        members = [i for i in range(len(emails)) if fold_of[i] == fold]
        rng.shuffle(members)
        first, second = members[: len(members) // 2], members[len(members) // 2 :]
        later += second
        rows["before"] += _judged(build_model(training), emails, second, profile)
        for kind in VARIANTS:
            model = build_model(training)
            for i in first:
                _correct(model, emails[i][0], labels[i], kind, profile, given[kind])
            rows[kind] += _judged(model, emails, second, profile)
    spam = [n for n, i in enumerate(later) if labels[i]]
    ham = [n for n, i in enumerate(later) if not labels[i]]
    return {
        "k": k,
        "seed": seed,
        "later_half": {"spam": len(spam), "ham": len(ham)},
        "corrections_given": given,
        "rows": {name: _figures(judged, spam, ham) for name, judged in rows.items()},
    }


def _correct(
    model: ContentModel, email: Email, is_spam: bool, kind: CorrectionKind, profile: UserProfile, given: dict
) -> None:
    """The user corrects the mistakes they see: spam that reached Now (at normal or above), ham the
    triage put in the spam category (shown under the page's filter and in the digest)."""
    stranger = SenderTrust(address=email.sender.email.lower() if email.sender else "")
    verdict = triage_email(email, profile, email.date, content=model)
    if is_spam and verdict.priority != "low":
        lesson = lesson_of(kind, stranger)
        given["spam"] += 1
    elif not is_spam and verdict.category == "spam":
        lesson = lesson_of("important", stranger)
        given["ham"] += 1
    else:
        return
    if lesson is not None:
        model.learn(email, *lesson)


def _judged(model: ContentModel, emails: list, members: list[int], profile: UserProfile) -> list:
    found = []
    for i in members:
        email = emails[i][0]
        verdict = triage_email(email, profile, email.date, content=model)
        found.append((model.judge(email).score, verdict.priority, verdict.category))
    return found


def _figures(judged: list[tuple[float, str, str]], spam: list[int], ham: list[int]) -> dict:
    return {
        "spam_recall": _share(sum(judged[n][0] >= THRESHOLD for n in spam), len(spam)),
        "ham_marked_spam": _share(sum(judged[n][0] >= THRESHOLD for n in ham), len(ham)),
        "spam_normal_or_above": _share(sum(judged[n][1] != "low" for n in spam), len(spam)),
        "ham_spam_category": _share(sum(judged[n][2] == "spam" for n in ham), len(ham)),
        "spam_mean_log_odds": round(mean(judged[n][0] for n in spam), 2) if spam else None,
    }


def _share(count: int, total: int) -> dict:
    return {"count": count, "of": total, "percent": round(100 * count / total, 2) if total else 0.0}
