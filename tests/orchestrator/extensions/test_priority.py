"""The user's `[[priority]]` rules: every mistake in a table is a named error at start; a matching
rule sets or boosts the priority of mail in both modes (the rules triage, and the LLM triage against
the scripted OpenAI-compatible server) and says so in the reasons; trust stays above the rules (a
forged From or spam is never raised, a stranger's mail at most to high unless the rule names the
address; lowering always applies); the first matching rule decides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.config import ConfigError, load_settings
from orchestrator.event_log import ContextEvent
from orchestrator.extensions.priority import PriorityRule, Subject, apply_rules
from orchestrator.extensions.priority_triage import PrioritizedTriage
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.triage_llm import LLMTriage, RulesTriage
from orchestrator.inbox_bridge import to_scheduler_event
from orchestrator.llm import ChatModel, LLMConfig
from orchestrator.scheduler.events import Priority
from orchestrator.scheduler.loop import entry_for
from tests.support.scripted_llm import Step, scripted_llm_server, tool_arguments

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOSS = PriorityRule(name="boss", sender=["boss@corp.example"], priority="urgent")
CORP = PriorityRule(name="corp", sender=["@corp.example"], boost=2)
NEWS = PriorityRule(name="news", keyword=["unsubscribe", "weekly digest"], priority="low")
BOSS_REASON = "priority rule 'boss': from boss@corp.example"
INVOICES = PriorityRule(name="invoices", source="email", keyword=["invoice"], boost=1)


def write(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(body)
    return config


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "boss"\nsender = ["boss@corp.example"]', "priority rule 'boss': give either `priority`"),
        ('name = "b"\nkeyword = ["x"]\npriority = "high"\nboost = 1', "give either `priority`"),
        ('name = "b"\nkeyword = ["x"]\nboost = 0', "boost = 0 changes nothing"),
        ('name = "b"\nkeyword = ["x"]\nboost = 5', "less than or equal to 3"),
        ('name = "b"\npriority = "high"', "it would match every signal"),
        ('name = "b"\nsender = ["boss"]\npriority = "high"', "sender 'boss' is neither an address"),
        ('name = "b"\nkeyword = [" "]\npriority = "high"', "an empty keyword would match everything"),
        ('name = "b"\nkeyword = ["x"]\npriority = "asap"', "Input should be 'low', 'normal'"),
        ('name = "b"\nsource = "sms"\npriority = "high"', "Input should be 'email' or 'feed'"),
        ('name = "b"\nfeed = ["launch"]\npriority = "high"', "priority rule 'b': no feed named 'launch'"),
        ('name = "b"\nsource = "email"\nfeed = ["l*"]\npriority = "high"', "`feed` matches custom feeds"),
        ('name = "Boss!"\nkeyword = ["x"]\npriority = "high"', "name it with 1-32 lowercase letters"),
        ('name = "b"\nkeywords = ["x"]\npriority = "high"', "priority.0: unknown key 'keywords'"),
        ('keyword = ["x"]\npriority = "high"', "priority.0: missing key 'name'"),
    ],
)
def test_priority_table_mistakes_are_named_errors(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(write(tmp_path, f"[[priority]]\n{table}\n"), data_dir=tmp_path)


def test_two_rules_with_one_name_are_an_error(tmp_path: Path) -> None:
    rule = '[[priority]]\nname = "b"\nkeyword = ["x"]\npriority = "high"\n'
    with pytest.raises(ConfigError, match="priority rule 'b': two rules have this name"):
        load_settings(write(tmp_path, rule * 2), data_dir=tmp_path)


def test_priority_tables_load_in_order(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[[priority]]\nname = "boss"\nsender = ["boss@corp.example"]\npriority = "urgent"\n'
        '[[priority]]\nname = "news"\nkeyword = ["unsubscribe"]\nboost = -2\n',
    )
    rules = load_settings(config, data_dir=tmp_path).priority
    assert [(r.name, r.priority, r.boost) for r in rules] == [("boss", "urgent", None), ("news", None, -2)]


def subject(**fields) -> Subject:
    return Subject(**{"source": "email", "priority": "normal", **fields})


def test_a_sender_rule_matches_the_address_and_a_domain_rule_its_subdomains() -> None:
    assert apply_rules([BOSS], subject(sender="boss@corp.example")) == (
        "urgent",
        "priority rule 'boss': from boss@corp.example",
    )
    assert apply_rules([CORP], subject(sender="ann@eu.corp.example"))[0] == "urgent"
    assert apply_rules([CORP], subject(sender="ann@notcorp.example")) == ("normal", None)


def test_keywords_match_whole_words_and_phrases_and_boosts_stay_in_range() -> None:
    assert apply_rules([NEWS], subject(text="The Weekly  Digest is out", priority="high")) == (
        "low",
        "priority rule 'news': mentions 'weekly digest'",
    )
    assert apply_rules([NEWS], subject(text="resubscribe now")) == ("normal", None)
    assert apply_rules([INVOICES], subject(text="Invoice #4", priority="urgent"))[0] == "urgent"
    assert apply_rules([INVOICES], subject(source="feed", feed="x", text="invoice"))[1] is None


def test_the_first_matching_rule_decides() -> None:
    both = subject(sender="boss@corp.example", text="weekly digest")
    assert apply_rules([NEWS, BOSS], both)[0] == "low"
    assert apply_rules([BOSS, NEWS], both)[0] == "urgent"


def test_trust_stays_above_the_rules() -> None:
    forged = subject(sender="boss@corp.example", may_raise=False)
    priority, reason = apply_rules([BOSS], forged)
    assert priority == "normal"
    assert reason and reason.endswith("not raised: the sender may be forged, or it looks like spam")
    stranger = subject(sender="ann@corp.example", known=False)
    priority, reason = apply_rules([CORP], stranger)
    assert priority == "high" and "at most high: you have never written to this sender" in (reason or "")
    assert apply_rules([BOSS], subject(sender="boss@corp.example", known=False))[0] == "urgent"
    assert apply_rules([NEWS], subject(text="unsubscribe", may_raise=False, priority="high"))[0] == "low"


def email(sender: str, subject_line: str, text: str, authentication: dict | None = None) -> Email:
    return Email.model_validate(
        {
            "id": "m1",
            "from": {"name": "", "email": sender},
            "to": [{"name": "Dana", "email": "dana@home.example"}],
            "date": NOW.isoformat(),
            "subject": subject_line,
            "text": text,
            "labels": ["INBOX", "UNREAD"],
            **({"authentication": authentication} if authentication else {}),
        }
    )


PROFILE = UserProfile(addresses=["dana@home.example"])


@pytest.mark.anyio
async def test_rules_mode_triage_passes_through_the_rules() -> None:
    engine = PrioritizedTriage(RulesTriage(), [BOSS])
    verdict = await engine.triage(email("boss@corp.example", "Numbers", "See you."), PROFILE, NOW)
    assert (engine.name, verdict.priority) == ("rules", "urgent")
    assert verdict.reasons[-1] == "priority rule 'boss': from boss@corp.example"
    forged = email("boss@corp.example", "Numbers", "See you.", {"spf": "fail", "dmarc": "fail"})
    verdict = await engine.triage(forged, PROFILE, NOW)
    assert verdict.priority != "urgent" and "not raised" in verdict.reasons[-1]


@pytest.mark.anyio
async def test_llm_mode_triage_passes_through_the_rules(tmp_path: Path) -> None:
    said = tool_arguments(priority="high", category="fyi", summary="Weekly digest", reasons=["news"])
    with scripted_llm_server(Step(tool_calls=[("record_triage", said)])) as llm:
        model = ChatModel(
            LLMConfig(base_url=llm.base_url, model="scripted", timeout_seconds=10, max_retries=0)
        )
        engine = PrioritizedTriage(LLMTriage(model, _NoContext()), [NEWS])
        verdict = await engine.triage(email("ann@corp.example", "Weekly digest", "News."), PROFILE, NOW)
        await model.close()
    assert (engine.name, verdict.priority, verdict.summary) == ("llm", "low", "Weekly digest")
    assert verdict.reasons[-1] == "priority rule 'news': mentions 'weekly digest'"


class _NoContext:
    """The LLM triage's related-context search, with nothing related."""

    async def search(self, *arguments, **options) -> list:
        return []


def test_the_llm_brain_sees_the_ruled_priority_and_the_rule() -> None:
    stored = {"kind": "email", "priority": "urgent", "summary": "Board numbers", "reasons": [BOSS_REASON]}
    event = to_scheduler_event(
        ContextEvent(seq=7, namespace="signals.email", id="m1", op="store", at=NOW), stored
    )
    assert event is not None and event.priority is Priority.URGENT
    rendered = entry_for(event).render()
    assert (
        'priority="urgent"' in rendered
        and "priority rule &#x27;boss&#x27;: from boss@corp.example" in rendered
    )
