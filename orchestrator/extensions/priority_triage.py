"""The mail's triage engine (rules or LLM) followed by the user's `[[priority]]` rules
(orchestrator.extensions.priority): the verdict's priority may change, and the rule that changed it
is added to its reasons. The sender's trust is judged as the triage does (`sender_trust`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from orchestrator.extensions.priority import LEVELS, PriorityRule, Subject, apply_rules
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import sender_trust
from orchestrator.feeds.triage_llm import TriageEngine
from orchestrator.feeds.triage_rules import Triage

__all__ = ["PrioritizedTriage"]


class PrioritizedTriage:
    """A mail triage engine whose verdicts then pass through the user's priority rules."""

    def __init__(self, inner: TriageEngine, rules: Sequence[PriorityRule]) -> None:
        self.inner = inner
        self.name = inner.name
        self.rules = list(rules)

    async def triage(self, email: Email, profile: UserProfile, now: datetime) -> Triage:
        verdict = await self.inner.triage(email, profile, now)
        trust = sender_trust(email, profile)
        subject = Subject(
            source="email",
            sender=trust.address or None,
            text=f"{email.subject}\n{email.text}",
            priority=verdict.priority if verdict.priority in LEVELS else "normal",
            may_raise=not trust.suspicious and verdict.category != "spam",
            known=trust.known,
        )
        priority, reason = apply_rules(self.rules, subject)
        if reason is None:
            return verdict
        return verdict.model_copy(update={"priority": priority, "reasons": [*verdict.reasons, reason]})
