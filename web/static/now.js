// The Now list's own parts (loaded before ui.js, whose helpers they call): the attention budget and
// the buttons that teach the ranker. Text from mail goes in as text, never as HTML (see ui.js).
"use strict";

// Now is an attention budget (orchestrator/triage/now.py): what the ranker put above its threshold,
// unread, best first, NOW_LIMIT cards and "show N more" for the rest; low priority and bulk behind the filter.
const NOW_LIMIT = 15;
const LEGACY_SCORES = { urgent: 4, high: 2, normal: 0.5, low: -1 };
const nowScore = (item) => (typeof item.score === "number" ? item.score : LEGACY_SCORES[item.priority] ?? 0);
function inNow(signal) {
  if (signal.attention !== undefined && signal.attention !== null) return signal.attention;
  return signal.priority !== "low" && signal.category !== "bulk" && signal.category !== "spam";
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
