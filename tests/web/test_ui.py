"""Pepper's page in a real browser (headless Chromium), against a real Pepper on the demo data.

The tests share one Pepper process (LLM mode, scripted model from `tests/web/brain.py`); the last one
stops and restarts it under the open page. Each checks what a person would see, through the page.
Pepper and the page live on a pinned Monday morning (`tests/web/conftest.py`): the demo is dated from
the clock, and the day decides which of its mail is urgent and which meetings are still to come.
"""

from __future__ import annotations

import json
import re
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orchestrator.demo.agenda import QBR_TITLE
from orchestrator.demo.people import CEO, CLIENT, DEMO_USER_ADDRESS
from tests.web.brain import echo
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    SIGNAL_WAIT_MS,
    PepperProcess,
    new_context,
    screenshot,
    screenshot_path,
)

# Generous: the first test of a module also waits for Pepper to start (up to STARTUP_SECONDS) and
# read the demo (READ_DEMO_SECONDS), on a machine that may be busy with other work.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TABS = ["now", "chat", "today", "approvals", "activity", "search", "settings"]
# A card that stays in Now through every test (the urgent ones are read or snoozed, and leave it).
STILL_IN_NOW = "Atlas pricing before the board"


def drop_mail(pepper: PepperProcess, subject: str, body: str, sender: str | None = None) -> None:
    """Deliver a mail (from the demo's CEO unless `sender` is given) into the demo Maildir, the way a
    mail server does."""
    mail = EmailMessage()
    mail["From"] = sender or f"{CEO.name} <{CEO.email}>"
    mail["To"] = DEMO_USER_ADDRESS
    mail["Subject"] = subject
    mail["Date"] = format_datetime(pepper.now())
    mail["Message-ID"] = make_msgid(domain="pepper.test")
    mail.set_content(body)
    name = f"{time.time_ns()}.test.pepper-test"
    maildir = pepper.data_dir / "mail"
    (maildir / "tmp" / name).write_bytes(bytes(mail))
    (maildir / "tmp" / name).rename(maildir / "new" / name)


def send_chat(page: Page, text: str) -> None:
    page.get_by_label("Message to Pepper").fill(text)
    page.get_by_label("Message to Pepper").press("Enter")


# A mail's own card: a meeting's card may name the same mail among its related mail.
MAIL_CARDS = "#now-list .card[data-key^='signal signals.email/']"


def chat_texts(page: Page) -> list[str]:
    return page.locator("#messages .message .body").all_inner_texts()


def test_page_shows_urgent_mail_and_meetings_with_briefs_and_follow_ups(page: Page) -> None:
    now = page.locator("#now-list")
    expect(now).to_contain_text("URGENT: Atlas numbers for the board deck")
    expect(now).to_contain_text("Q4 budget template due tomorrow 5pm")
    expect(now.locator(".card.urgent").first).to_be_visible()
    meetings = page.locator("#meetings-list")
    expect(meetings).to_contain_text(QBR_TITLE)
    expect(meetings.locator(".card", has_text=QBR_TITLE).first).to_contain_text("Agenda:")
    expect(page.locator("#followups-list")).to_contain_text("brightstack", ignore_case=True)
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#mode")).to_contain_text("LLM mode")
    expect(page.locator("#servers")).to_contain_text("gmail: connected")
    expect(page.locator("#servers .health", has_text="mail: ok")).to_have_attribute(
        "title", re.compile(r"^synced ")
    )
    expect(page.locator("#servers")).to_contain_text("calendar: ok")
    screenshot(page, "desktop-board")


def test_cards_open_the_mail_and_the_event_they_are_about(page: Page) -> None:
    card = page.locator("#now-list .card", has_text="Atlas pricing before the board")
    card.get_by_role("button", name="Show the mail").click()
    expect(card.locator(".source")).to_contain_text("Atlas pricing proposal")
    expect(card.get_by_role("button", name="Show the mail")).to_have_attribute("aria-expanded", "true")
    meeting = page.locator("#meetings-list .card", has_text=QBR_TITLE).first
    meeting.get_by_role("button", name="Show the event").click()
    expect(meeting.locator(".source")).to_contain_text(QBR_TITLE)


def test_urgent_mail_marked_read_or_snoozed_leaves_now_at_once(page: Page) -> None:
    budget = page.locator(MAIL_CARDS, has_text="Q4 budget template due tomorrow 5pm")
    budget.get_by_role("button", name="Mark read").click()
    expect(page.locator("#toast")).to_have_text("Marked read in the mailbox")
    expect(budget).to_have_count(0)
    numbers = page.locator(MAIL_CARDS, has_text="URGENT: Atlas numbers for the board deck")
    numbers.get_by_role("button", name="Snooze 1 h").click()
    expect(page.locator("#toast")).to_have_text("Snoozed for an hour")
    expect(numbers).to_have_count(0)
    page.reload()
    expect(page.locator("#now-list")).to_contain_text("Atlas pricing before the board")
    expect(budget).to_have_count(0)
    expect(numbers).to_have_count(0)
    page.get_by_label("low priority and bulk").check()  # still there, shown as read and snoozed
    expect(budget.locator(".actions")).to_contain_text("Read")
    expect(budget).to_have_class(re.compile(r"\bread\b"))
    expect(numbers.locator(".actions")).to_contain_text("Snoozed until")


def test_card_corrections_take_a_sender_out_of_now_and_back_within_the_budget(page: Page) -> None:
    now = page.locator("#now-list > .card")
    agenda = page.locator(MAIL_CARDS, has_text=f"Agenda for tomorrow's {QBR_TITLE}")
    expect(agenda).to_have_count(1)
    assert now.count() <= 15
    agenda.get_by_role("button", name="Not important").click()
    expect(page.locator("#toast")).to_contain_text(f"from {CLIENT.email} is not important")
    expect(agenda).to_have_count(0)
    page.get_by_label("low priority and bulk").check()
    agenda.get_by_role("button", name="Important", exact=True).click()
    expect(page.locator("#toast")).to_contain_text(f"from {CLIENT.email} is important")
    page.get_by_label("low priority and bulk").uncheck()
    expect(agenda).to_have_count(1)
    expect(agenda.get_by_role("button", name="Never from this sender")).to_be_enabled()


def test_search_finds_mail_by_words(page: Page) -> None:
    page.get_by_label("Search mail, calendar and notes").fill("BrightStack renewal")
    page.get_by_label("Search mail, calendar and notes").press("Enter")
    expect(page.locator("#search-list .card").first).to_be_visible()
    expect(page.locator("#search-list")).to_contain_text("BrightStack")
    page.locator("#search").screenshot(path=str(screenshot_path("desktop-search-panel")))


AUDIT = """() => {
  const parse = (css) => css.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const rgba = parse(getComputedStyle(node).backgroundColor);
      if (rgba.length < 4 || rgba[3] > 0.5) return rgba;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const node of document.querySelectorAll("body *")) {
    const text = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!text || !node.checkVisibility() || node.closest("button:disabled")) continue;
    const [a, b] = [luminance(parse(getComputedStyle(node).color)), luminance(background(node))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${node.tagName}.${node.className} ${ratio.toFixed(2)}: ${node.textContent.trim().slice(0, 40)}`);
  }
  const unnamed = [...document.querySelectorAll("button, input, textarea, select")].filter((control) =>
    !(control.labels?.length || control.getAttribute("aria-label") || control.textContent.trim())).map((c) => c.outerHTML);
  return { low: [...new Set(low)], unnamed };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_has_enough_contrast_and_every_control_a_name(browser, pepper: PepperProcess, scheme) -> None:
    context = new_context(browser, pepper, viewport=DESKTOP, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(pepper.page_url)
        expect(page.locator("#now-list")).to_contain_text(STILL_IN_NOW)
        expect(page.locator("#live")).to_have_text("live")
        audit = page.evaluate(AUDIT)
    finally:
        context.close()
    assert audit["low"] == [], "text below WCAG AA contrast (4.5:1)"
    assert audit["unnamed"] == [], "controls without an accessible name"


def test_dark_scheme_is_dark_and_readable(browser, pepper: PepperProcess) -> None:
    context = new_context(browser, pepper, viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(pepper.page_url)
        expect(page.locator("#now-list")).to_contain_text(STILL_IN_NOW)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        ink = page.evaluate("getComputedStyle(document.querySelector('#now-list .title')).color")
        assert _luminance(background) < 0.05 and _luminance(ink) > 0.7, (background, ink)
        screenshot(page, "desktop-board-dark", full_page=False)
    finally:
        context.close()


def test_page_on_a_phone_shows_one_section_per_tab(browser, pepper: PepperProcess) -> None:
    context = new_context(browser, pepper, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(pepper.page_url)
        expect(page.locator("#now-list")).to_contain_text(STILL_IN_NOW)
        for tab in TABS:
            page.locator(f'.tabs button[data-show="{tab}"]').click()
            expect(page.locator(f"#{tab}")).to_be_visible()
            hidden = [other for other in TABS if other != tab]
            for other in hidden:
                expect(page.locator(f"#{other}")).to_be_hidden()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the {tab} tab scrolls sideways ({width}px)"
            screenshot(page, f"phone-{tab}", full_page=False)
    finally:
        context.close()


LONG_TEXT = """(long) => {
  const status = structuredClone(state.status);
  status.servers[0].error = long;
  status.in_flight = [{ name: "notify", arguments: { title: long } }];
  status.settings.data_dir = long;
  state.status = status;
  state.activity.set("~long", { id: "~long", data: { at: new Date().toISOString(), text: long } });
  state.chat.set("~long", { id: "~long", role: "assistant", text: long, at: new Date().toISOString() });
  renderAll();
}"""


def test_long_unbroken_text_never_widens_the_phone_page(browser, pepper: PepperProcess) -> None:
    context = new_context(browser, pepper, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(pepper.page_url)
        expect(page.locator("#live")).to_have_text("live")
        page.evaluate(LONG_TEXT, "x" * 500)
        for tab in TABS:
            page.locator(f'.tabs button[data-show="{tab}"]').click()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the {tab} tab scrolls sideways ({width}px)"
    finally:
        context.close()


def test_chat_round_trip_and_history_after_reload(page: Page) -> None:
    send_chat(page, "hello from the browser test")
    reply = page.locator("#messages .message.assistant", has_text="You said: hello from the browser test")
    expect(reply).to_be_visible()
    expect(reply.locator("strong")).to_have_text("hello from the browser test")
    expect(page.locator("#thinking")).to_be_hidden()
    page.reload()
    expect(page.locator("#messages .message.user", has_text="hello from the browser test")).to_have_count(1)
    expect(
        page.locator("#messages .message.assistant", has_text="You said: hello from the browser test")
    ).to_have_count(1)


def test_new_mail_appears_in_now_without_reload(page: Page, pepper: PepperProcess) -> None:
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__sameDocument = true")
    subject = f"Board slides: can you review them today? ({time.time_ns()})"
    drop_mail(pepper, subject, "Could you review the board slides today? I need them by 6pm.")
    expect(page.locator("#now-list")).to_contain_text(subject)
    assert page.evaluate("window.__sameDocument") is True


def test_markup_in_mail_and_chat_is_shown_as_text_and_never_runs(page: Page, pepper: PepperProcess) -> None:
    expect(page.locator("#live")).to_have_text("live")
    script = "<script>window.__pwned = 'script'</script>"
    image = "<img src=x onerror=\"window.__pwned = 'img'\">"
    subject = f"Can you check this {script}{image} today?"
    drop_mail(pepper, subject, "Can you check the subject of this mail today?")
    card = page.locator("#now-list .card", has_text="window.__pwned = 'script'")
    expect(card).to_contain_text(script)
    expect(card).to_contain_text(image)
    send_chat(page, f"what about {image}?")
    expect(page.locator("#messages .message.assistant", has_text="onerror")).to_contain_text(
        echo(f"what about {image}?").replace("**", "")
    )
    assert page.locator("#now-list img, #messages img, #now-list script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_approving_a_drafted_reply_sends_it(page: Page, browser, pepper: PepperProcess) -> None:
    original = _signal(page, "Atlas pricing before the board")
    body = f"Yes, ten minutes on Wednesday at 3pm works. ({time.time_ns()})"
    send_chat(page, f"Please reply to message {original['source_id']}: {body}")
    expect(page.locator("#messages")).to_contain_text("On it: drafting")
    card = page.locator("#approvals-list .card", has_text=body)
    expect(card).to_be_visible()
    expect(card).to_contain_text("gmail · reply")
    expect(page.locator("#approvals-count")).not_to_be_empty()
    screenshot(page, "desktop-approval")
    _phone_screenshot(browser, pepper, "approvals", "phone-approval-pending")
    assert _sent_containing(pepper, body) == []
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast")).to_have_text("Approved and done")
    expect(card).to_have_count(0)
    sent = _sent_containing(pepper, body)
    assert len(sent) == 1, "the approved reply is not in the Sent folder"
    assert f"To: {CEO.name} <{CEO.email}>" in sent[0] or CEO.email in sent[0]
    assert "Re: Atlas pricing before the board" in sent[0]


def test_an_edited_reply_is_sent_as_edited_and_a_rejected_one_never(
    page: Page, pepper: PepperProcess
) -> None:
    original = _signal(page, "Q4 budget template due tomorrow")
    drafted, edited, rejected = (f"{word} ({time.time_ns()})" for word in ("Drafted", "Edited", "Rejected"))
    send_chat(page, f"Please reply to message {original['source_id']}: {drafted}")
    card = page.locator("#approvals-list .card", has_text=drafted)
    card.get_by_role("button", name="Edit").click()
    box = card.get_by_label("Text")
    expect(box).to_be_focused()
    expect(box).to_have_value(drafted)
    box.fill(edited)
    expect(card.locator(".approval-fields:not(.editing)")).to_be_hidden()
    card.screenshot(path=str(screenshot_path("desktop-approval-editing")))
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast")).to_have_text("Approved and done")
    assert len(_sent_containing(pepper, edited)) == 1 and _sent_containing(pepper, drafted) == []
    send_chat(page, f"Please reply to message {original['source_id']}: {rejected}")
    card = page.locator("#approvals-list .card", has_text=rejected)
    card.get_by_role("button", name="Reject").click()
    expect(page.locator("#toast")).to_have_text("Rejected")
    expect(card).to_have_count(0)
    assert _sent_containing(pepper, rejected) == []


def test_posts_without_the_csrf_header_or_from_another_origin_are_refused(page: Page) -> None:
    answer = page.evaluate(
        """async () => {
            const response = await fetch("/pepper/api/chat", {method: "POST",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify({text: "forged"})});
            return {status: response.status, body: await response.json()};
        }"""
    )
    assert answer["status"] == 403
    assert "X-Pepper-CSRF" in answer["body"]["error"]
    foreign = page.request.post(
        "/pepper/api/chat",
        data=json.dumps({"text": "forged"}),
        headers={"Content-Type": "application/json", "X-Pepper-CSRF": "1", "Origin": "http://evil.test"},
    )
    assert foreign.status == 403
    stream = page.request.get("/pepper/api/events", headers={"Origin": "http://evil.test"})
    assert stream.status == 403
    expect(page.locator("#messages")).not_to_contain_text("forged")


def test_settings_show_the_learned_profile_and_edit_role_projects_vips_and_notes(page: Page) -> None:
    projects = page.locator("#profile-projects")
    expect(projects).to_contain_text("Northwind")  # learned from the demo user's sent mail
    expect(page.get_by_label("Name", exact=True)).to_have_value("Alex Morgan")
    expect(page.locator("#profile-status")).to_contain_text("Alex Morgan, Head of Product")
    page.get_by_label("Role", exact=True).fill("Chief Product Officer")
    page.locator("#profile-identity").get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_have_text("Your role is now Chief Product Officer.")
    page.get_by_label("New project name").fill("Moonshot")
    page.get_by_role("button", name="Add project").click()
    expect(projects.locator("li", has_text="Moonshot")).to_contain_text("added by you")
    page.get_by_role("button", name="Rename Moonshot").click()
    page.get_by_label("New name for Moonshot").fill("Moonshot Two")
    projects.get_by_role("button", name="Save").click()
    expect(projects).to_contain_text("Moonshot Two")
    page.get_by_role("button", name="Remove project Moonshot Two").click()
    expect(page.locator("#toast")).to_contain_text("Removed the project Moonshot Two")
    expect(projects).not_to_contain_text("Moonshot")
    page.get_by_label("VIP email address").fill("ada@example.org")
    page.get_by_role("button", name="Add VIP").click()
    expect(page.locator("#profile-vips")).to_contain_text("ada@example.org")
    page.get_by_role("button", name="Remove VIP ada@example.org").click()
    expect(page.locator("#profile-vips")).not_to_contain_text("ada@example.org")
    page.get_by_label("Something Pepper should remember").fill("Jordan is my manager")
    page.get_by_role("button", name="Remember").click()
    expect(page.locator("#profile-notes")).to_contain_text("Jordan is my manager")
    screenshot(page, "desktop-settings-profile")
    profile = page.request.get("/pepper/api/profile").json()["profile"]
    assert profile["role"] == "Chief Product Officer" and profile["learned"]["role"] == "Head of Product"
    assert profile["notes"] == ["Jordan is my manager"] and "Moonshot Two" in profile["hidden_projects"]
    forged = page.request.post(
        "/pepper/api/profile",
        data=json.dumps({"action": "set_name", "value": "Mallory"}),
        headers={"Content-Type": "application/json"},
    )
    assert forged.status == 403
    bad = page.request.post(
        "/pepper/api/profile",
        data=json.dumps({"action": "add_vip", "value": "not an address"}),
        headers={"Content-Type": "application/json", "X-Pepper-CSRF": "1"},
    )
    assert bad.status == 400 and "is not an email address" in bad.json()["error"]


def test_stream_survives_a_restart_without_losing_or_repeating(page: Page, pepper: PepperProcess) -> None:
    expect(page.locator("#live")).to_have_text("live")
    send_chat(page, "before the restart")
    expect(page.locator("#messages")).to_contain_text(echo("before the restart").replace("**", ""))
    said_before = chat_texts(page)
    assert said_before[-2:] == ["before the restart", "You said: before the restart"]
    pepper.stop()
    expect(page.locator("#live")).to_have_text("reconnecting…")
    subject = f"While Pepper was down: can you sign the NDA today? ({time.time_ns()})"
    drop_mail(pepper, subject, "Can you sign the NDA today? It is in your inbox.")
    pepper.start()
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#now-list")).to_contain_text(subject)
    send_chat(page, "after the restart")
    expect(page.locator("#messages")).to_contain_text(echo("after the restart").replace("**", ""))
    said_after = chat_texts(page)
    assert said_after == [*said_before, "after the restart", "You said: after the restart"]
    fresh = page.context.new_page()
    fresh.goto(pepper.page_url)
    expect(fresh.locator("#now-list")).to_contain_text(subject)
    _eventually(
        lambda: _card_titles(page) == _card_titles(fresh),
        "the page that lived through the restart differs from a freshly loaded one",
    )
    assert len([title for title in _card_titles(page) if subject in title]) == 1
    screenshot(page, "desktop-board-after-a-day", full_page=False)


def _card_titles(page: Page) -> list[str]:
    return sorted(page.locator("#now-list .card .title").all_inner_texts())


def _eventually(condition, message: str) -> None:
    """Wait (up to SIGNAL_WAIT_MS) until `condition()` holds: live pages settle as events arrive."""
    deadline = time.monotonic() + SIGNAL_WAIT_MS / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.2)


def _phone_screenshot(browser, pepper: PepperProcess, tab: str, name: str) -> None:
    context = new_context(browser, pepper, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(pepper.page_url)
        page.locator(f'.tabs button[data-show="{tab}"]').click()
        expect(page.locator(f"#{tab} .card").first).to_be_visible()
        screenshot(page, name, full_page=False)
    finally:
        context.close()


def _luminance(css_color: str) -> float:
    """Relative luminance (WCAG) of an `rgb(r, g, b)` colour."""
    channels = [int(part) / 255 for part in css_color.strip("rgba()").split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _signal(page: Page, summary_part: str) -> dict:
    """The signal whose summary contains `summary_part`, read from the page's own API."""
    deadline = time.monotonic() + SIGNAL_WAIT_MS / 1000
    while time.monotonic() < deadline:
        state = page.request.get("/pepper/api/state", timeout=SIGNAL_WAIT_MS).json()
        for item in state["signals"]:
            if summary_part in item["data"].get("summary", ""):
                return item["data"]
        page.wait_for_timeout(250)
    raise AssertionError(f"no signal about {summary_part!r}")


def _sent_containing(pepper: PepperProcess, text: str) -> list[str]:
    sent = pepper.data_dir / "mail" / ".Sent"
    files: list[Path] = [*sent.glob("cur/*"), *sent.glob("new/*")]
    return [content for path in files if text in (content := path.read_text(errors="replace"))]
