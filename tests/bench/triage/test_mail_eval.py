"""The harness triages each message as it arrives and computes the figures a user feels: spam in
Now, ham hidden as bulk, parse failures and text lost by the parser."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

import pytest

from bench.triage.mail_eval import Outcome, evaluate, figures, has_visible_text, judge, new_user_profile
from bench.triage.report import render
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_llm import RulesTriage
from orchestrator.feeds.triage_rules import Deadline, Triage

pytestmark = pytest.mark.anyio
ME = "yyyy@spamassassin.taint.org"


def mail(subject: str, body: str = "Hello there.", html: str | None = None, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("sender", "Stranger <someone@example.net>")
    message["To"] = ME
    message["Subject"] = subject
    message["Date"] = headers.pop("date", "Thu, 22 Aug 2002 12:36:23 +0100")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


class ScriptedEngine:
    """Answers by subject: the priority and category are the subject's first two words."""

    name = "rules"

    def __init__(self) -> None:
        self.seen: list[tuple[Email, UserProfile, datetime]] = []

    async def triage(self, email: Email, profile: UserProfile, now: datetime) -> Triage:
        self.seen.append((email, profile, now))
        priority, category = email.subject.split()[:2]
        deadlines = [Deadline(phrase="by Friday", due=now)] if "deadline" in email.subject else []
        return Triage(priority=priority, category=category, summary=email.subject, deadlines=deadlines)


async def test_judge_triages_a_message_as_just_arrived_for_a_new_user() -> None:
    engine = ScriptedEngine()
    raw = mail("normal fyi", date="Fri, 23 Aug 2002 09:00:00 -0400")
    outcome = await judge("spam-1/1", "spam", raw, engine, new_user_profile())
    email, profile, now = engine.seen[0]
    assert now == email.date == datetime.fromisoformat("2002-08-23T09:00:00-04:00")
    assert email.labels == ["INBOX", "UNREAD"] and email.text.strip() == "Hello there."
    assert profile.is_user(email.to[0]) and profile.sent_to == {} and profile.vips == set()
    assert (outcome.priority, outcome.category, outcome.in_now) == ("normal", "fyi", True)


async def test_figures_count_spam_in_now_ham_hidden_and_parse_failures() -> None:
    messages = [
        ("spam-1/1", "spam", mail("urgent action deadline")),
        ("spam-1/2", "spam", mail("high fyi")),
        ("spam-1/3", "spam", mail("normal bulk")),  # hidden from Now: bulk
        ("spam-1/4", "spam", mail("low fyi")),
        ("spam-1/5", "spam", b"   "),  # the parser refuses an empty message
        ("easy-ham-1/1", "ham", mail("normal personal deadline")),
        ("easy-ham-1/2", "ham", mail("low bulk")),
        ("easy-ham-1/3", "ham", mail("low fyi")),
        ("easy-ham-1/4", "ham", mail("high action")),
    ]
    result = figures(await evaluate(messages, ScriptedEngine(), new_user_profile()))
    spam, ham = result["spam"], result["ham"]
    assert spam["priority"] == {"urgent": 1, "high": 1, "normal": 1, "low": 1}
    assert (spam["urgent_or_high"], spam["normal_or_above"], spam["normal_or_above_pct"]) == (2, 3, 60.0)
    assert (spam["in_now"], spam["in_now_pct"], spam["with_deadline"]) == (2, 40.0, 1)
    assert (spam["parse_failures"], ham["parse_failures"]) == (1, 0)
    assert (ham["bulk"], ham["bulk_or_low"], ham["bulk_or_low_pct"], ham["in_now"]) == (1, 2, 50.0, 2)
    assert result["now"] == {"cards": 4, "spam_cards": 2, "spam_share_pct": 50.0}
    table = render(report_of(result))
    assert "| **spam in Now** | 2 (40.0% of spam) |" in table
    assert "| spam share of Now cards | 50.0% (2 of 4) |" in table


async def test_concurrent_evaluation_keeps_the_corpus_order() -> None:
    messages = [(f"easy-ham-1/{n}", "ham", mail(f"{p} fyi")) for n, p in enumerate(["low", "high", "normal"])]
    outcomes = await evaluate(messages, ScriptedEngine(), new_user_profile(), concurrency=3)
    assert [(o.id, o.priority) for o in outcomes] == [
        ("easy-ham-1/0", "low"),
        ("easy-ham-1/1", "high"),
        ("easy-ham-1/2", "normal"),
    ]


async def test_text_lost_is_counted_when_the_parser_keeps_nothing_of_a_real_text_part() -> None:
    # nothing but a signature: the parser files all of it as the signature and the new text is empty
    signature_only = mail("normal fyi", "-- \nAda Lovelace\nAnalytical Engines Ltd\n")
    outcome = await judge("easy-ham-1/7", "ham", signature_only, ScriptedEngine(), new_user_profile())
    assert outcome.text_lost == "signature"
    kept = await judge("easy-ham-1/8", "ham", mail("normal fyi"), ScriptedEngine(), new_user_profile())
    assert kept.text_lost is None
    others = [
        Outcome(id="b", label="ham", priority="low", category="bulk", text_lost="nowhere"),
        Outcome(id="c", label="ham", priority="low", category="bulk"),
    ]
    ham = figures([outcome, kept, *others])["ham"]
    assert (ham["text_lost"], ham["text_lost_where"]) == (2, {"signature": 1, "nowhere": 1})


def test_has_visible_text_reads_html_and_skips_attachments_and_markup() -> None:
    html_only = EmailMessage()
    html_only.set_content(
        "<html><head><title>t</title></head><body><p>Caf&eacute; at 5</p></body></html>", subtype="html"
    )
    assert has_visible_text(html_only.as_bytes())
    empty_html = EmailMessage()
    empty_html.set_content(
        "<html><style>p{}</style><body><img src=x><!-- c --></body></html>", subtype="html"
    )
    assert not has_visible_text(empty_html.as_bytes())
    attached = EmailMessage()
    attached.set_content(" \n")
    attached.add_attachment("notes in a file", filename="notes.txt")
    assert not has_visible_text(attached.as_bytes())
    blank_plain_real_html = mail("x", " \n", html="<p>The real text</p>")
    assert has_visible_text(blank_plain_real_html)


async def test_the_rules_engine_keeps_mailing_list_mail_out_of_now() -> None:
    raw = mail("Weekly digest", "Can you read this?", List_Id="<news.example.net>", sender="news@example.net")
    outcome = await judge("easy-ham-1/9", "ham", raw, RulesTriage(), new_user_profile())
    assert (outcome.priority, outcome.category, outcome.in_now) == ("low", "bulk", False)


def report_of(result: dict) -> dict:
    machine = {"date": "d", "commit": "c", "uncommitted": [], "platform": "p", "python": "3", "cpus": 2}
    machine |= {"load_before": 1.0, "load_after": 1.0, "versions": {}, "corpus": "x", "seed": 14}
    result |= {"examples": {}}
    result["speed"] |= {"seconds": 0.1, "messages_per_second": 90.0}
    phrases = {"phrases": 0, "with_deadline": 0, "detected": 0, "right": 0, "precision_pct": 0.0}
    phrases |= {"recall_pct": 0.0, "families": {}, "false_positives": [], "misses": []}
    return {
        "machine": machine,
        "user_addresses": [ME],
        "rules": {"dev": result},
        "deadline_phrases": {"dev": phrases},
        "llm": {"dev": {"skipped": "no endpoint"}},
    }
