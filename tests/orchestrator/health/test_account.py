"""Judging an account report (`orchestrator.health.account`): what is red, what is amber, and the
report in words. The times are the server's, compared with its `checked_at` only."""

from __future__ import annotations

from typing import Any

from orchestrator.health.account import Severity, describe, judge

NOW = 1_800_000_000.0
DAY = 86400.0
TOPIC = "projects/p/topics/gmail"


def report(**fields: Any) -> dict[str, Any]:
    return {"provider": "gmail", "account": "token.json", "state": "ok", "checked_at": NOW, **fields}


def watch(expires: float | None, error: str | None = None) -> dict[str, Any]:
    return {"topic": TOPIC, "expires_at": expires, "last_renewal_at": NOW - 3600, "renewal_error": error,
            "renewal_failing_since": NOW - 60 if error else None}  # fmt: skip


def test_a_healthy_account_has_no_findings_and_reads_as_words() -> None:
    oauth = {
        "refresh_token_since": NOW - 3 * DAY,
        "access_token_expires_at": NOW + 3000,
        "last_refresh_at": NOW - 600,
    }
    found = report(oauth=oauth, watch=watch(NOW + 5 * DAY))

    assert judge(found) == []
    assert describe(found) == [
        "account token.json (gmail): ok",
        "OAuth: refresh token 3 d old, access token expires in 50 min, refreshed 10 min ago",
        f"push watch on {TOPIC}: expires in 5 d, renewed 1 h ago",
    ]


def test_refused_credentials_and_a_lapsed_watch_are_red_with_what_to_do() -> None:
    [refused] = judge(
        report(state="failing", auth_failing=True, error="invalid_grant", failing_since=NOW - 5)
    )
    [lapsed] = judge(report(watch=watch(NOW - 120, error="403 not authorized")))
    [never] = judge(report(watch=watch(None, error="400 bad topic")))

    assert refused.severity is Severity.RED and refused.since == NOW - 5 and "setup gmail" in refused.fix
    assert lapsed.severity is Severity.RED and lapsed.since == NOW - 120
    assert lapsed.reason == "the Gmail push watch lapsed 2 min ago; renewing it fails: 403 not authorized"
    assert never.severity is Severity.RED and TOPIC in never.fix


def test_a_watch_or_refresh_token_ending_within_a_day_or_a_failing_renewal_is_amber() -> None:
    [soon] = judge(report(watch=watch(NOW + 5 * 3600)))
    [failing] = judge(report(watch=watch(NOW + 3 * DAY, error="503")))
    [token] = judge(report(oauth={"refresh_token_expires_at": NOW + 7200}))
    later = judge(report(oauth={"refresh_token_expires_at": NOW + 2 * DAY}))

    assert (soon.severity, soon.reason) == (Severity.AMBER, "the Gmail push watch lapses in 5 h")
    assert failing.severity is Severity.AMBER and failing.reason.endswith("renewing it fails: 503")
    assert (token.severity, token.reason) == (Severity.AMBER, "the Google refresh token ends in 2 h")
    assert later == []


def test_red_findings_come_first() -> None:
    found = judge(report(auth_failing=True, error="x", watch=watch(NOW + 3600)))
    assert [finding.severity for finding in found] == [Severity.RED, Severity.AMBER]
