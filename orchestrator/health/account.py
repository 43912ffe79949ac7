"""Judging a mail account's own health, as its server reports it (the gmail server's `get_account_status`).

`judge` turns the report into findings: **red** when the credentials are refused (a revoked or
expired token, a wrong password) or the Gmail push watch has lapsed (or could never be registered);
**amber** when the watch lapses
within a day or renewing it fails, or the refresh token ends within a day. Each finding says what is
wrong and what to do, and when the trouble began by the server's clock (the report's times are
compared with its `checked_at`, never with this machine's clock). `describe` is the report in words,
one line per part, for `status`, the header and `pepper://health`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["STATUS_TOOL", "Finding", "Severity", "describe", "judge", "span"]

STATUS_TOOL = "get_account_status"
WARN_AHEAD_SECONDS = 86400.0  # a watch or a refresh token that ends within a day is amber
PUSH_FIX = (
    "check that the Pub/Sub topic {topic} exists and lets gmail-api-push@system.gserviceaccount.com "
    "publish to it; until then mail arrives by polling, a minute late"
)
CONSENT_FIX = {
    "gmail": "run `pepper-orchestrator setup gmail` again to sign in to Google (a new consent)",
    "imap": "check the password (for Gmail an app password) and run `pepper-orchestrator setup imap` again",
}


class Severity(StrEnum):
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with an account: how bad, in words, what to do, and since when (server clock)."""

    severity: Severity
    reason: str
    fix: str
    since: float


def judge(status: dict[str, Any]) -> list[Finding]:
    """The findings of one account report, red ones first."""
    now = float(status.get("checked_at") or 0.0)
    found = _auth(status, now) + _watch(status.get("watch"), now) + _refresh_token(status, now)
    return sorted(found, key=lambda finding: finding.severity is not Severity.RED)


def _auth(status: dict[str, Any], now: float) -> list[Finding]:
    if not status.get("auth_failing"):
        return []
    fix = CONSENT_FIX.get(status.get("provider", ""), "sign in to the account again")
    reason = f"the account refused the credentials: {status.get('error')}"
    return [Finding(Severity.RED, reason, fix, float(status.get("failing_since") or now))]


def _watch(watch: dict[str, Any] | None, now: float) -> list[Finding]:
    if not watch:
        return []
    fix = PUSH_FIX.format(topic=watch.get("topic"))
    expires, error = watch.get("expires_at"), watch.get("renewal_error")
    failing = f"; renewing it fails: {error}" if error else ""
    since = float(watch.get("renewal_failing_since") or now)
    if expires is None:  # push was asked for and never worked: as good as lapsed
        return [Finding(Severity.RED, f"the Gmail push watch could not be registered: {error}", fix, since)]
    if expires <= now:
        return [
            Finding(
                Severity.RED, f"the Gmail push watch lapsed {span(now - expires)} ago{failing}", fix, expires
            )
        ]
    if error or expires - now < WARN_AHEAD_SECONDS:
        return [
            Finding(
                Severity.AMBER, f"the Gmail push watch lapses in {span(expires - now)}{failing}", fix, since
            )
        ]
    return []


def _refresh_token(status: dict[str, Any], now: float) -> list[Finding]:
    ends = (status.get("oauth") or {}).get("refresh_token_expires_at")
    if ends is None or status.get("auth_failing") or ends - now >= WARN_AHEAD_SECONDS:
        return []
    when = f"ends in {span(ends - now)}" if ends > now else f"ended {span(now - ends)} ago"
    fix = CONSENT_FIX["gmail"] + " before then (an app in 'Testing' status gets 7-day tokens; publish it)"
    return [Finding(Severity.AMBER, f"the Google refresh token {when}", fix, ends - WARN_AHEAD_SECONDS)]


def describe(status: dict[str, Any]) -> list[str]:
    """The report in words: the account, its OAuth tokens, its push watch."""
    now = float(status.get("checked_at") or 0.0)
    lines = [f"account {status.get('account')} ({status.get('provider')}): {status.get('state')}"]
    if oauth := status.get("oauth"):
        parts = []
        if (since := oauth.get("refresh_token_since")) is not None:
            parts.append(f"refresh token {span(now - since)} old")
        if (ends := oauth.get("refresh_token_expires_at")) is not None:
            parts.append(f"ends in {span(ends - now)}" if ends > now else "ended")
        if (expires := oauth.get("access_token_expires_at")) is not None:
            parts.append(_relative("access token expires", expires, now))
        if (refreshed := oauth.get("last_refresh_at")) is not None:
            parts.append(f"refreshed {span(now - refreshed)} ago")
        if oauth.get("refresh_error"):
            parts.append(f"refreshing fails: {oauth['refresh_error']}")
        lines.append("OAuth: " + ", ".join(parts))
    if watch := status.get("watch"):
        parts = (
            [_relative("expires", watch["expires_at"], now)]
            if watch.get("expires_at")
            else ["not registered"]
        )
        if (renewed := watch.get("last_renewal_at")) is not None:
            parts.append(f"renewed {span(now - renewed)} ago")
        if watch.get("renewal_error"):
            parts.append(f"renewing fails: {watch['renewal_error']}")
        lines.append(f"push watch on {watch.get('topic')}: " + ", ".join(parts))
    return lines


def _relative(what: str, moment: float, now: float) -> str:
    return (
        f"{what} in {span(moment - now)}"
        if moment > now
        else f"{what.replace('expires', 'expired')} {span(now - moment)} ago"
    )


def span(seconds: float) -> str:
    """A duration in the largest whole unit: `3 d`, `5 h`, `12 min`, `40 s`."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
