// The Now list's own parts (loaded before ui.js, whose helpers they call): the attention budget, the
// buttons that teach the ranker, the cards' numbers. Text from mail goes in as text, never as HTML.
"use strict";

// Now is an attention budget (orchestrator/triage/now.py): what the ranker put above its threshold,
// unread, best first, NOW_LIMIT cards and "show N more" for the rest; low priority and bulk behind the filter.
// Beside mail: the meetings of the rest of today (with their briefs) and the follow-ups whose wait is over.
const NOW_LIMIT = 15;
const LEGACY_SCORES = { urgent: 4, high: 2, normal: 0.5, low: -1 };
const MEETING_GRACE_MS = 3600 * 1000;  // a meeting that started within the hour is still on
const nowScore = (item) => (typeof item.score === "number" ? item.score : LEGACY_SCORES[item.priority] ?? 0);
function inNow(signal) {
  if (signal.kind === "meeting") return meetingToday(signal);
  if (signal.kind === "follow_up") return signal.state === "overdue";
  if (signal.attention !== undefined && signal.attention !== null) return signal.attention;
  return signal.priority !== "low" && signal.category !== "bulk" && signal.category !== "spam";
}
function meetingToday(signal) {
  if (signal.all_day || !signal.starts_at) return false;
  const starts = new Date(signal.starts_at);
  const endOfDay = new Date();
  endOfDay.setHours(24, 0, 0, 0);
  return starts.getTime() >= Date.now() - MEETING_GRACE_MS && starts < endOfDay;
}

// A reminder that fires is both a notification (with its own Mark read and Snooze) and a signal for the
// scheduler (orchestrator/notifications.py): Now shows it once, as the notification while there is one.
const REMINDER_LINK = "notify://notification/";
function nowCandidate(signal, notifications) {
  if (signal.kind === "meeting" || signal.kind === "follow_up") return inNow(signal);  // the others are in Today
  const link = typeof signal.link === "string" ? signal.link : "";
  return !(signal.kind === "reminder" && link.startsWith(REMINDER_LINK) && notifications.has(link.slice(REMINDER_LINK.length)));
}

// With several accounts (docs/decisions.md, D1) each card names the one its mail or event came to.
function accountTag(item) {
  const accounts = (state.status && state.status.accounts) || [];
  return accounts.length > 1 ? el("span", { class: "account" }, item.account || "default") : null;
}

// The user's corrections teach the ranker at once (POST /pepper/api/corrections), and "Mark read"
// sets \Seen in the mailbox when the account is writable (in Pepper only otherwise): either way the
// signal is stored again and the card moves or leaves Now through the stream.
const CORRECTIONS = [["important", "Important"], ["not_important", "Not important"], ["never", "Never from this sender"]];
function mailActions(signal) {
  const id = signal.source_id;
  const button = (job, text, path, body, done) => el("button", { type: "button", disabled: busy.has(job), onclick: async () => {
    busy.add(job);
    renderNow();
    try { const answer = await post(path, body); toast(done(answer)); }
    catch (error) { toast(error.message); }
    finally { busy.delete(job); renderNow(); }
  } }, text);
  const read = signal.seen ? el("span", { class: "detail" }, "Read")
    : button(`${id}/read`, "Mark read", `/pepper/api/mail/${encodeURIComponent(id)}/read`, undefined,
      (answer) => answer.marked === "mailbox" ? "Marked read in the mailbox" : "Marked read in Pepper (the mailbox is read-only)");
  return [read, ...CORRECTIONS.map(([kind, text]) => button(`${id}/${kind}`, text, "/pepper/api/corrections", { kind, message_id: id }, (answer) => answer.message))];
}

// Each card shows its number, 1 first in the order renderNow drew them (the one place Now is
// ordered); the page tells Pepper which card has which number, with each chat message and whenever
// the list changes, so "snooze card 3" or "2 is not important" in chat (or `ask`) acts on the card
// seen with that number (orchestrator/conversation/cards.py).
function numbered(node, number) {
  node.querySelector(".meta").prepend(el("span", { class: "number", title: `card ${number}`, "aria-label": `card ${number}` }, String(number)));
  return node;
}

const shownCards = { keys: [], sent: null };
function showCards(keys) {
  shownCards.keys = keys;
  const said = JSON.stringify(keys);
  if (said === shownCards.sent) return;
  shownCards.sent = said;
  clearTimeout(showCards.timer);  // a burst of changes (new mail arriving) is told once
  showCards.timer = setTimeout(() => post("/pepper/api/now", { cards: shownCards.keys }).catch(() => { shownCards.sent = null; }), 200);
}
