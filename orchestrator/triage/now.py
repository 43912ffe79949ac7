"""The Now list as an attention budget: what needs the user now, best first, at most `NOW_LIMIT`.

A mail signal is in Now when the ranker (`orchestrator.triage.ranker`) put it above its threshold
and it is neither read nor muted (`attention`, stored on the signal); a signal stored before the
ranker existed has no `attention` and is judged by the old rule (not low, not bulk or spam) with a
score from its priority. Reminders count like mail. Meetings and follow-ups have their own list
(Today). Everything else stays reachable: the rest of Now behind "show more", low priority and
bulk mail behind the page's filter, all of it in search and the digest. The page (`web/static/ui.js`
`renderNow`), the chat and the CLI share this rule, so they list the same cards in the same order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NOW_LIMIT", "in_now", "now_list", "now_score"]

NOW_LIMIT = 15
LEGACY_SCORES = {"urgent": 4.0, "high": 2.0, "normal": 0.5, "low": -1.0}
OWN_LIST = ("meeting", "follow_up")


def in_now(signal: dict[str, Any]) -> bool:
    """Whether a signal's data asks for a place in Now."""
    if signal.get("kind") in OWN_LIST:
        return False
    if signal.get("attention") is not None:
        return bool(signal["attention"])
    return signal.get("priority") != "low" and signal.get("category") not in ("bulk", "spam")


def now_score(signal: dict[str, Any]) -> float:
    score = signal.get("score")
    return float(score) if score is not None else LEGACY_SCORES.get(signal.get("priority", ""), 0.0)


def now_list(signals: list[dict[str, Any]], limit: int = NOW_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The signals Now shows first, best first, and how many more wait behind "show more"."""
    wanted = sorted(
        (s for s in signals if in_now(s)),
        key=lambda s: (-now_score(s), str(s.get("source_id", ""))),
    )
    return wanted[:limit], max(len(wanted) - limit, 0)
