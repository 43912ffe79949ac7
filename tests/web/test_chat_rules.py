"""Chat in rules mode (no language model), end to end in Chromium against a real Pepper on the demo:
a reminder set in chat fires and is shown once (at once, even by a browser whose clock is behind
Pepper's), Now holds today's meetings and the overdue follow-up as the chat lists them, a reply
drafted in chat is approved on its card and lands in the Maildir's
Sent folder, a card snoozed by reference leaves Now and Today's "waiting on you" (after a reload of
the page too) and comes back when the snooze ends on the page's pinned clock, and the Now cards show
their numbers, which the chat follows: "snooze card 3" hides exactly the third.

Pepper runs as in `conftest.py` (demo data, clock pinned by libfaketime), but with no model: every
chat message is answered by `orchestrator.conversation`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from orchestrator.demo.agenda import QBR_TITLE, RENEWAL_TITLE
from orchestrator.demo.people import CEO
from tests.support.clock import PinnedClock
from tests.web.conftest import SIGNAL_WAIT_MS, PepperProcess, pepper_env
from tests.web.test_ui import _sent_containing, drop_mail, send_chat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def pepper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PepperProcess]:
    """Pepper on the demo in rules mode, its clock pinned, once it has read the demo's mail."""
    process = PepperProcess(
        tmp_path_factory.mktemp("rules") / "data", pepper_env(), ["--demo"], PinnedClock()
    )
    try:
        process.start()
        process.wait_until_demo_read()
        yield process
    finally:
        process.stop()


def assistant_says(page: Page, text: str) -> None:
    expect(page.locator("#messages .message.assistant", has_text=text).last).to_be_visible()


def test_a_reminder_set_in_chat_fires_and_is_shown_at_once_by_a_browser_whose_clock_is_behind(
    page_behind: Page,
) -> None:
    """The notify server delivers on Pepper's clock; a page that judged "snoozed" by its own clock held a
    fresh reminder back until some other change drew Now again (seen with half a second of skew)."""
    page = page_behind
    expect(page.locator("#mode")).to_contain_text("Rules mode")
    task = f"call the printer shop {time.time_ns() % 100_000}"
    send_chat(page, f"remind me to {task} in 3 seconds")
    assistant_says(page, "I'll remind you today at")
    reminder = page.locator("#now-list .card[data-key^=notification]", has_text=task[:1].upper() + task[1:])
    expect(reminder).to_be_visible()
    expect(reminder).to_contain_text("Reminder due")
    # It is also a signal for the scheduler (signals.reminder): once that reached the page, still one card.
    page.wait_for_function(
        "task => [...state.signals.values()].some((s) => s.kind === 'reminder' && s.summary.toLowerCase().includes(task))",
        arg=task,
        timeout=SIGNAL_WAIT_MS,
    )
    expect(page.locator("#now-list .card", has_text=task[:1].upper() + task[1:])).to_have_count(1)


def test_now_holds_todays_meetings_with_briefs_and_the_overdue_follow_up_as_the_chat_does(page: Page) -> None:
    now = page.locator("#now-list")
    meetings = now.locator(".card[data-key^='signal signals.meeting/']")
    expect(meetings.filter(has_text=RENEWAL_TITLE)).to_contain_text("Agenda:")  # today, with its brief
    expect(meetings.filter(has_text=QBR_TITLE)).to_have_count(0)  # tomorrow's: in Today only
    expect(now.locator(".card", has_text="overdue: ben.carter@brightstack.example")).to_have_count(1)
    assert now.locator("> .card").count() <= 15
    send_chat(page, "what is urgent?")
    assistant_says(page, RENEWAL_TITLE)


def test_a_reply_drafted_in_chat_is_approved_on_its_card_and_sent(page: Page, pepper: PepperProcess) -> None:
    token = f"ref {time.time_ns() % 1_000_000}"
    send_chat(page, f"tell Dana I will send the board numbers tonight, {token}")
    assistant_says(page, "It waits for your approval")
    card = page.locator("#approvals-list .card", has_text=token)
    expect(card).to_be_visible()
    assert _sent_containing(pepper, token) == []
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast")).to_have_text("Approved and done")
    expect(card).to_have_count(0)
    [sent] = _sent_containing(pepper, token)
    assert CEO.email in sent and "Hi Dana," in sent and "I will send the board numbers tonight" in sent


def test_a_card_snoozed_by_reference_leaves_now_and_comes_back_when_the_snooze_ends(
    page: Page, pepper: PepperProcess
) -> None:
    subject = f"Can you look at the offsite budget today? ({time.time_ns() % 1_000_000})"
    drop_mail(pepper, subject, "Could you look at the offsite budget today? I need an answer by 5pm.")
    card = page.locator("#now-list .card", has_text=subject)
    expect(card).to_be_visible(timeout=120_000)  # the mail is read, triaged and notified meanwhile
    expect(card.get_by_role("button", name="Mark read")).to_be_visible()  # its notification came too
    waiting = page.locator("#waiting-list .card", has_text=subject)  # Today: waiting on your reply
    expect(waiting).to_contain_text(re.compile(r"waiting \d+ minutes?"))
    send_chat(page, "what did Dana send me?")
    assistant_says(page, subject)  # the newest of hers comes first
    send_chat(page, "snooze the first one until tomorrow")
    assistant_says(page, "Snoozed until tomorrow at 09:00")
    expect(card).to_have_count(0)
    expect(waiting).to_have_count(0)
    page.reload()
    expect(page.locator("#live")).to_have_text("live")
    expect(card).to_have_count(0)
    page.clock.fast_forward("24:00:00")  # past tomorrow 09:00 on the page's clock
    expect(card).to_be_visible()


def test_now_cards_show_their_numbers_and_snooze_card_3_hides_exactly_the_third(page: Page) -> None:
    cards = page.locator("#now-list > .card")
    expect(cards.nth(3)).to_be_visible()  # the demo's Now has more than three cards
    numbers = cards.locator(".meta .number")
    expect(numbers.first).to_have_text("1")
    assert numbers.all_inner_texts() == [str(n) for n in range(1, cards.count() + 1)]
    keys = [cards.nth(index).get_attribute("data-key") for index in range(4)]
    third = cards.nth(2).locator(".title").inner_text()
    send_chat(page, "snooze card 3")
    assistant_says(page, f"Snoozed until tomorrow at 09:00: {third}")
    expect(page.locator(f'#now-list .card[data-key="{keys[2]}"]')).to_have_count(0)
    for index, key in ((0, keys[0]), (1, keys[1]), (2, keys[3])):  # the others keep their order
        expect(cards.nth(index)).to_have_attribute("data-key", key)
        expect(cards.nth(index).locator(".number")).to_have_text(str(index + 1))


def test_the_page_may_hand_over_only_card_keys(pepper: PepperProcess) -> None:
    headers = {"X-Pepper-CSRF": "1"}
    wrong = httpx.post(f"{pepper.url}/pepper/api/now", json={"cards": ["raw.email/m1"]}, headers=headers)
    assert wrong.status_code == 400
    assert (
        wrong.json()["error"]
        == "'raw.email/m1' is not a card's key: use signals.<kind>/<id> or notifications.inbox/<id>"
    )
    chat = {"text": "snooze card 1", "cards": ["signals.email/m1"] * 201}
    too_many = httpx.post(f"{pepper.url}/pepper/api/chat", json=chat, headers=headers)
    assert too_many.status_code == 400 and "cards" in too_many.json()["error"]
