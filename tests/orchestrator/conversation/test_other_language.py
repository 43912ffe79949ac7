"""Another language needs only its tables: with the small Spanish table of `spanish.py` (a fixture,
written as the README's "Adding a language" says) and no change to the engine, Spanish requests are
read into the same intents and slots as English ones, their dates resolved in the user's timezone
(across Europe's clock change too), and a Spanish "snooze card 1" puts the card away in a real
context store through the same actions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestrator.config import ConfigError, load_settings
from orchestrator.context_items import ContextItems
from orchestrator.conversation.actions import Conversation
from orchestrator.conversation.hidden import NAMESPACE
from orchestrator.conversation.intents import read
from orchestrator.conversation.services import Services
from tests.orchestrator.conversation.spanish import SPANISH

BERLIN = ZoneInfo("Europe/Berlin")
SATURDAY = datetime(2026, 3, 28, 16, 30, tzinfo=BERLIN)  # Europe's clocks go forward the next night


@pytest.mark.parametrize(
    ("text", "intent", "slots", "message"),
    [
        ("¿Qué reuniones tengo mañana?", "agenda_day", {"date": "2026-03-29"}, None),
        ("¿qué tengo esta semana?", "agenda_range", {"date": "2026-03-28..2026-03-29"}, None),
        (
            "Recuérdame llamar a Dana mañana a las 3",
            "remind_me",
            {"date": "2026-03-29", "time": "15:00"},
            "llamar a Dana",
        ),
        (
            "recuérdame en 10 horas tomar las pastillas",
            "remind_me",
            {"date": "2026-03-29", "time": "03:30"},
            "tomar las pastillas",
        ),
        (
            "recuérdame el 14 de abril a las 9:30 renovar el pasaporte",
            "remind_me",
            {"date": "2026-04-14", "time": "09:30"},
            "renovar el pasaporte",
        ),
        (
            "avísame pasado mañana por la tarde de la reunión",
            "remind_me",
            {"date": "2026-03-30", "time": "tarde"},
            "la reunión",
        ),
        (
            "recuérdame a medianoche apagar el horno",
            "remind_me",
            {"date": "2026-03-29", "time": "00:00"},
            "apagar el horno",
        ),
        (
            "pospón la tarjeta 3 hasta el lunes por la mañana",
            "snooze_item",
            {"item": "card:3", "date": "2026-03-30", "time": "mañana"},
            None,
        ),
        (
            "pospón la primera hasta el próximo jueves",
            "snooze_item",
            {"item": "1", "date": "2026-04-02"},
            None,
        ),
        ("la tarjeta 2 está hecha", "mark_done_item", {"item": "card:2"}, None),
        ("marca la segunda como leída", "mark_read_item", {"item": "2"}, None),
        ("¿hay algo urgente?", "urgent_mail", {}, None),
        ("¿qué me ha mandado Priya?", "mail_from_person", {"person": "priya"}, None),
    ],
)
def test_spanish_requests_are_read_by_the_unchanged_engine(
    text: str, intent: str, slots: dict[str, str], message: str | None
) -> None:
    reading = read(text, SATURDAY, SPANISH)
    assert (reading.intent, reading.slots) == (intent, slots)
    assert reading.message == message and reading.question is None


def test_spanish_questions_come_from_its_table() -> None:
    assert read("recuérdame llamar a Dana", SATURDAY, SPANISH).question == SPANISH.questions["remind_when"]
    assert read("cuéntame un chiste", SATURDAY, SPANISH).intent == "unknown"


@pytest.mark.anyio
@pytest.mark.servers("context")
async def test_a_spanish_snooze_of_card_1_puts_that_card_away(connections) -> None:
    items = ContextItems(connections["context"])
    signal = {"kind": "email", "source_id": "m1", "summary": "Presupuesto Q3", "priority": "high"}
    await items.put("signals.email", "m1", signal, "Presupuesto Q3")
    talk = Conversation(Services(connections, items), lambda: SATURDAY, SPANISH)
    talk.cards.show(["signals.email/m1"])
    answer = await talk.answer("pospón la tarjeta 1 hasta el lunes")
    assert answer.intent == "snooze_item" and "Presupuesto Q3" in answer.text
    [stored] = await items.query([NAMESPACE])
    assert (stored.id, stored.data["until"]) == ("signals.email/m1", "2026-03-30T09:00:00+02:00")


def test_the_configured_language_must_have_a_table(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('language = "xx"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="language: .*no table for language 'xx': use one of en"):
        load_settings(config, data_dir=tmp_path / "data")
    config.write_text('language = "en"\n', encoding="utf-8")
    assert load_settings(config, data_dir=tmp_path / "data").language == "en"
