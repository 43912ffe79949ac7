"""Follow-ups: mail the user sent that expects an answer, until the answer comes or it is overdue.

A sent message expects a reply when it asks its recipients something (a question, or a request such as
"could you", "please send", "let me know"). It is answered by a later message from one of its
recipients that replies to it (In-Reply-To or References name it) or continues its thread, unless
its sender authentication failed (see `sender_trust`). It is
overdue once `wait` has passed with no answer, counting only working days (Saturday and Sunday are not
days anyone is expected to answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_rules import requests_in

__all__ = ["FollowUp", "answered_follow_up", "expects_reply", "follow_up_for", "working_days_after"]


class FollowUp(BaseModel):
    """A sent message awaiting a reply."""

    message_id: str = Field(description="Message-ID of the sent message")
    email_id: str = Field(description="Provider id of the sent message")
    thread_id: str = ""
    subject: str = ""
    recipients: list[str] = Field(default_factory=list, description="Lower-case addresses it went to")
    asked: list[str] = Field(default_factory=list, description="The sentences that expect an answer")
    sent_at: datetime
    due_at: datetime
    answered_by: str | None = Field(None, description="Provider id of the reply, once it came")
    account: str | None = Field(None, description="The account it was sent from (orchestrator.accounts)")


def expects_reply(email: Email) -> list[str]:
    """The sentences of a sent message that ask something of its recipients (empty: none)."""
    return requests_in(email.text)


def follow_up_for(email: Email, profile: UserProfile, wait_working_days: int = 3) -> FollowUp | None:
    """The follow-up a message the user sent starts, if it asks something of someone else."""
    recipients = [m.email.lower() for m in [*email.to, *email.cc] if not profile.is_user(m)]
    asked = expects_reply(email)
    if not recipients or not asked or not email.message_id:
        return None
    return FollowUp(
        message_id=email.message_id,
        email_id=email.id,
        account=email.account,
        thread_id=email.thread_id,
        subject=email.subject,
        recipients=recipients,
        asked=asked,
        sent_at=email.date,
        due_at=working_days_after(email.date, wait_working_days),
    )


def answered_follow_up(email: Email, awaiting: Iterable[FollowUp]) -> FollowUp | None:
    """The follow-up this incoming message answers, if any; never one whose sender authentication
    failed (a forged reply must not make the user stop waiting)."""
    if email.authentication.failures():
        return None
    sender = email.sender.email.lower() if email.sender else ""
    cited = {email.in_reply_to, *email.references} - {None}
    for follow_up in awaiting:
        if sender not in follow_up.recipients or email.date < follow_up.sent_at:
            continue
        if follow_up.message_id in cited or (follow_up.thread_id and follow_up.thread_id == email.thread_id):
            return follow_up
    return None


def working_days_after(start: datetime, days: int) -> datetime:
    """`start` moved forward by `days` working days (Monday to Friday)."""
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment
