// Pepper's page: loads a snapshot from /pepper/api/state, then follows /pepper/api/events (SSE).
// Everything from mail or calendars is put in the page as text (textContent), never as HTML;
// only Pepper's own chat replies go through the safe markdown renderer.
"use strict";

const PRIORITY = { urgent: 0, high: 1, normal: 2, low: 3 };
const KIND_LABEL = { email: "Mail", meeting: "Meeting", follow_up: "Follow-up", reminder: "Reminder" };
const state = {
  signals: new Map(), notifications: new Map(), approvals: new Map(), chat: new Map(), activity: new Map(), hidden: new Map(), waiting: new Map(),
  status: null, cursor: 0, skew: 0,
};
const $ = (id) => document.getElementById(id);

// Pepper's clock as the page estimates it: whether a notification is still snoozed, or a card put away,
// is judged by the time Pepper delivered it, and a browser's clock may be off by seconds or minutes.
// The offset is taken once, from the snapshot (so moving the page's own clock moves this one too).
const serverNow = () => Date.now() + state.skew;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(iso, withDay = false) {
  if (!iso) return "";
  const date = new Date(iso);
  const options = withDay ? { weekday: "short", hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit" };
  return date.toLocaleString([], options);
}

function day(iso) {
  return new Date(iso).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json", "X-Pepper-CSRF": "1" }, body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function getJson(path) {
  const response = await fetch(path);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

// ---- rendering -------------------------------------------------------------------------------

function signalCard(key, signal, notification) {
  const priority = signal.priority || "normal";
  const source = KIND_LABEL[signal.kind] || signal.kind || "Notification";
  const reasons = (signal.reasons || []).join(" · ");
  const due = signal.deadlines && signal.deadlines.length ? `due ${when(signal.deadlines[0].due, true)}`
    : signal.kind === "meeting" && signal.starts_at ? `at ${when(signal.starts_at)}` : null;
  const quiet = signal.seen || (notification && (notification.read_at || snoozed(notification)));
  const isMail = signal.kind === "email" && Boolean(signal.source_id);  // its own "Mark read" reaches the mailbox
  return el("li", { class: `card ${priority}${quiet ? " read" : ""}`, "data-key": `signal ${key}` },
    el("div", { class: "meta" }, el("span", { class: `pill ${priority}` }, priority), el("span", {}, source),
      due ? el("span", { class: "due" }, due) : null, accountTag(signal)),
    el("div", { class: "title" }, signal.summary || ""),
    signal.brief ? el("div", { class: "detail brief" }, signal.brief) : null,
    signal.why && signal.why.length ? el("div", { class: "detail why" }, "Why here: " + signal.why.join(" · ")) : null,
    reasons ? el("div", { class: "detail" }, reasons) : null,
    signal.action_items && signal.action_items.length ? el("div", { class: "detail" }, "→ " + signal.action_items[0]) : null,
    el("div", { class: "actions" }, linkFor(signal.link, "now"),
      notification ? notificationActions(notification, !isMail) : null, isMail ? mailActions(signal) : null));
}


function notificationCard(notification) {
  const priority = notification.priority || "normal";
  const quiet = notification.read_at || snoozed(notification);
  return el("li", { class: `card ${priority}${quiet ? " read" : ""}`, "data-key": `notification ${notification.id}` },
    el("div", { class: "meta" }, el("span", { class: `pill ${priority}` }, priority), el("span", {}, "Notification"),
      el("span", {}, when(notification.created_at, true))),
    el("div", { class: "title" }, notification.title),
    notification.body ? el("div", { class: "detail" }, notification.body) : null,
    el("div", { class: "actions" }, (notification.links || []).map((link) => linkFor(link, "now")), notificationActions(notification)));
}

const busy = new Set();
const snoozed = (notification) => Boolean(notification.deliver_at) && new Date(notification.deliver_at).getTime() > serverNow();

function notificationActions(notification, canRead = true) {
  if (notification.read_at && canRead) return el("span", { class: "detail" }, "Read");
  if (snoozed(notification)) return el("span", { class: "detail" }, `Snoozed until ${when(notification.deliver_at)}`);
  // A click in flight is remembered here, not on the button, which a redraw may replace meanwhile.
  const button = (verb, body, text) => {
    const job = `${notification.id}/${verb}`;
    return el("button", { type: "button", disabled: busy.has(job), onclick: async () => {
      busy.add(job);
      renderNow();
      try { await post(`/pepper/api/notifications/${encodeURIComponent(notification.id)}/${verb}`, body); toast(verb === "read" ? "Marked read" : "Snoozed for an hour"); }
      catch (error) { toast(error.message); }
      finally { busy.delete(job); renderNow(); }
    } }, text);
  };
  return [canRead ? button("read", undefined, "Mark read") : null, button("snooze", { until: "1h" }, "Snooze 1 h")];
}

function renderNow() {
  if (heldByPress(renderNow)) return;
  const showLow = $("show-low").checked;
  const entries = [];
  const byLink = new Map();
  for (const notification of state.notifications.values()) {
    for (const link of notification.links || []) byLink.set(link, notification);
  }
  const shown = new Set();
  for (const [key, signal] of state.signals) {
    if (!nowCandidate(signal, state.notifications)) continue;
    const notification = signal.link ? byLink.get(signal.link) : undefined;
    if (notification) shown.add(notification.id);  // its card is the signal's: put away with it
    if (putAway(key)) continue;
    if (!showLow && !inNow(signal)) continue;
    const quiet = Boolean(signal.seen || !inNow(signal) || (notification && (notification.read_at || snoozed(notification))));
    const pinned = signal.kind === "reminder";
    entries.push({ key, quiet, pinned, score: nowScore(signal), at: signal.deadlines?.[0]?.due || "", node: () => signalCard(key, signal, notification) });
  }
  for (const notification of state.notifications.values()) {
    const key = `notifications.inbox/${notification.id}`;
    if (shown.has(notification.id) || putAway(key) || ((notification.read_at || snoozed(notification)) && !showLow)) continue;
    const quiet = Boolean(notification.read_at || snoozed(notification));
    const pinned = notification.kind === "reminder";
    entries.push({ key, quiet, pinned, score: nowScore(notification), at: notification.created_at, node: () => notificationCard(notification) });
  }
  // What still needs the user comes first: unread before read or snoozed, a reminder the user set before
  // the rest (they asked to be told: it must not fall behind the budget), then by the ranker's score, newest first.
  entries.sort((a, b) => a.quiet - b.quiet || b.pinned - a.pinned || b.score - a.score || String(b.at).localeCompare(String(a.at)));
  const waiting = entries.filter((entry) => !entry.quiet).length;
  const budget = renderNow.expanded || showLow ? 150 : NOW_LIMIT;
  const visible = entries.slice(0, Math.min(budget, showLow ? 150 : waiting));
  // Numbered as drawn: the one order of Now, which the chat's "card 3" follows (now.js showCards).
  redraw([$("now-list"), visible.map((entry, index) => numbered(entry.node(), index + 1))]);
  showCards(visible.map((entry) => entry.key));
  const more = $("now-more");
  const hidden = (showLow ? entries.length : waiting) - visible.length;
  more.hidden = hidden <= 0 && !renderNow.expanded;
  more.textContent = hidden > 0 ? `Show ${hidden} more` : "Show fewer";
  $("now-empty").hidden = visible.length > 0;
  $("now-count").textContent = waiting ? String(waiting) : "";
  announceWaiting(waiting);
  wakeForSnoozes();
}

// The list itself is redrawn whole on every change, so a screen reader would read all of it again:
// only a change in how many items wait for the user is announced.
let waitingAnnounced = null;
function announceWaiting(waiting) {
  if (waiting === waitingAnnounced) return;
  waitingAnnounced = waiting;
  $("now-announce").textContent = waiting === 1 ? "1 item needs you" : `${waiting} items need you`;
}

function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  const tomorrow = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === tomorrow.toDateString()) return "Tomorrow";
  return date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
}

// An all-day event carries its date as midnight UTC: read it as that calendar date, here.
function localDate(iso) {
  const date = new Date(iso);
  return new Date(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()).toISOString();
}

function stillOn(meeting, recent) {
  if (!meeting.all_day) return new Date(meeting.starts_at).getTime() >= recent;
  const day = new Date(localDate(meeting.starts_at));
  return day.getTime() + 24 * 3600 * 1000 > Date.now();
}

function renderToday() {
  if (heldByPress(renderToday)) return;
  const recent = Date.now() - 3600 * 1000;  // a meeting that started within the hour is still on
  const meetings = [...state.signals]
    .filter(([, s]) => s.kind === "meeting" && (!s.starts_at || stillOn(s, recent)))
    .sort(([, a], [, b]) => String(a.starts_at).localeCompare(String(b.starts_at)));
  const rows = [];
  let lastDay = null;
  for (const [key, meeting] of meetings) {
    const label = meeting.starts_at ? dayLabel(meeting.all_day ? localDate(meeting.starts_at) : meeting.starts_at) : "Undated";
    if (label !== lastDay) rows.push(el("li", { class: "day" }, label));
    lastDay = label;
    rows.push(el("li", { class: `card ${meeting.priority}`, "data-key": `signal ${key}` },
      el("div", { class: "meta" }, el("strong", { class: "when" }, meeting.all_day ? "All day" : when(meeting.starts_at)), accountTag(meeting)),
      el("div", { class: "title" }, meeting.summary),
      meeting.brief ? el("div", { class: "detail brief" }, meeting.brief) : null,
      el("div", { class: "actions" }, linkFor(meeting.link, "today"))));
  }
  $("meetings-empty").hidden = meetings.length > 0;
  const followUps = [...state.signals].filter(([, s]) => s.kind === "follow_up");
  // Who waits on the user: oldest ask first, with how long (feeds/waiting_feed.py); put away with its mail's card.
  const waiting = [...state.waiting].filter(([, s]) => !putAway(`signals.email/${s.source_id}`))
    .sort(([, a], [, b]) => String(a.since).localeCompare(String(b.since)));
  const card = ([key, signal], detail) => el("li", { class: `card ${signal.priority}`, "data-key": `signal ${key}` },
    el("div", { class: "title" }, signal.summary), el("div", { class: "detail" }, detail, accountTag(signal)),
    el("div", { class: "actions" }, linkFor(signal.link, "today")));
  redraw([$("meetings-list"), rows], [$("followups-list"), followUps.map((entry) => card(entry, (entry[1].reasons || []).join(" · ")))],
    [$("waiting-list"), waiting.map((entry) => card(entry, `waiting ${waited(entry[1].since)}`))]);
  $("followups-empty").hidden = followUps.length > 0;
  $("waiting-empty").hidden = waiting.length > 0;
}

function renderApprovals() {
  const actions = [...state.approvals.values()].filter((a) => a.status === "pending");
  $("approvals").classList.toggle("has-items", actions.length > 0);
  document.querySelector(".board").classList.toggle("with-approvals", actions.length > 0);
  $("approvals-count").textContent = actions.length ? String(actions.length) : "";
  $("approvals-empty").hidden = actions.length > 0;
  // A card is rebuilt when its action changes (one more identical request, a new source), unless the
  // user is editing it: approving then sends the digest they saw, which the server checks.
  const cards = renderApprovals.cards || (renderApprovals.cards = new Map());
  for (const id of cards.keys()) if (!actions.some((action) => action.id === id)) cards.delete(id);
  for (const action of actions) {
    const shown = cards.get(action.id);
    if (!shown || (shown.action !== action && !shown.node.editing())) cards.set(action.id, { action, node: approvalCard(action) });
  }
  $("approvals-list").replaceChildren(...actions.map((action) => cards.get(action.id).node));
}

const sameMessage = (a, b) => a.role === b.role && a.text === b.text && a.at === b.at;

function renderChat() {
  const messages = [...state.chat.values()].sort((a, b) => a.id.localeCompare(b.id));
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const drawn = renderChat.drawn || (renderChat.drawn = new Map());
  const wanted = messages.map((message) => {
    const known = drawn.get(message.id);
    // The same message delivered again (the stream replays from the page's cursor) keeps its node.
    if (known && (known.message === message || sameMessage(known.message, message))) return known.node;
    const body = el("div", { class: "body" });
    if (message.role === "assistant") body.innerHTML = window.PepperMarkdown.renderMarkdown(message.text);
    else body.textContent = message.text;
    const node = el("li", { class: `message ${message.role}` }, body, el("time", { datetime: message.at }, when(message.at)));
    drawn.set(message.id, { message, node });
    return node;
  });
  // Messages already shown keep their nodes (and so a selection in them): only new or changed ones move in.
  wanted.forEach((node, index) => { if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null); });
  while (list.children.length > wanted.length) list.lastElementChild.remove();
  $("chat-empty").hidden = messages.length > 0;
  const last = messages[messages.length - 1];
  $("thinking").hidden = !(last && last.role === "user");
  if (atBottom || last?.role === "user") list.scrollTop = list.scrollHeight;
}

function renderActivity() {
  const status = state.status;
  if (status) {
    const facts = [
      ["Mode", status.mode === "llm" ? `LLM (${status.model})` : "Rules (no language model)"],
      ["Scheduler steps", status.steps], ["Events queued", status.queued],
      ["Tool calls in flight", status.in_flight.length], ["Workers running", status.workers.length],
      ["Tokens used", status.tokens ? `${status.tokens.prompt} prompt · ${status.tokens.completion} completion` : "none (rules mode)"],
    ];
    $("activity-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
    $("inflight-list").replaceChildren(...(status.in_flight.length ? status.in_flight.map((call) => el("li", {}, `${call.name} ${JSON.stringify(call.arguments)}`)) : [el("li", {}, "none")]));
  }
  const entries = [...state.activity.values()].sort((a, b) => b.id.localeCompare(a.id)).slice(0, 100);
  $("activity-list").replaceChildren(...entries.map((entry) => el("li", {}, el("time", {}, when(entry.data.at)), el("span", {}, entry.data.text))));
}

function renderStatus() {
  const status = state.status;
  if (!status) return;
  const mode = $("mode");
  mode.className = `mode ${status.mode}`;
  mode.textContent = status.mode === "llm" ? `LLM mode · ${status.model}` : "Rules mode · no language model";
  const servers = () => status.servers.map((server) => el("li", { title: server.error || server.state },
    el("span", { class: `dot ${server.state}`, "aria-hidden": "true" }), `${server.name}: ${server.state}`,
    server.error ? el("span", { class: "error" }, ` (${server.error})`) : null));
  const sync = $("mail-sync"); // a first sync's progress, e.g. "indexed 12,400 of 100,000"; hidden when done
  sync.hidden = !status.mail_sync || status.mail_sync.phase === "done";
  sync.textContent = status.mail_sync ? status.mail_sync.text : "";
  // Sources say whether mail and calendar really arrive: a server can be up while nothing syncs.
  const sourceDot = { ok: "connected", starting: "connecting", late: "late", failing: "down" };
  const sources = () => (status.sources || []).map((source) => el("li", { class: "health", title: [source.reason, source.fix, ...(source.details || [])].filter(Boolean).join("\n") },
    el("span", { class: `dot ${sourceDot[source.state]}`, "aria-hidden": "true" }), `${source.name}: ${source.state}`,
    source.state === "ok" || source.state === "starting" ? null : el("span", { class: "error" }, ` (${source.reason})`)));
  $("servers").replaceChildren(...servers(), ...sources());
  $("activity-servers").replaceChildren(...servers(), ...sources());
  const settings = [["Mode", status.mode === "llm" ? "LLM" : "Rules"], ["Model", status.model || "—"], ["LLM endpoint", status.settings.llm_endpoint || "none"],
    ["Data directory", status.settings.data_dir], ...Object.entries(status.settings.servers).map(([name, how]) => [`${name} server`, how])];
  $("settings-facts").replaceChildren(...settings.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
  renderActivity();
}

function renderAll() { renderNow(); renderToday(); renderApprovals(); renderChat(); renderActivity(); renderStatus(); }

// ---- data ------------------------------------------------------------------------------------

function apply(namespace, id, item) {
  const data = item ? item.data : null;
  if (namespace === "chat.messages") { if (data) state.chat.set(id, data); renderChat(); return; }
  if (namespace.startsWith("signals.")) { key(state.signals, `${namespace}/${id}`, data); renderNow(); renderToday(); return; }
  if (namespace === "notifications.inbox") { key(state.notifications, id, data); renderNow(); return; }
  if (namespace === "actions.pending") { key(state.approvals, id, data); renderApprovals(); return; }
  if (namespace === "activity.log") { if (item) state.activity.set(id, item); renderActivity(); return; }
  if (namespace === "now.hidden") { key(state.hidden, id, data); renderNow(); renderToday(); return; }
  if (namespace === "today.waiting") { key(state.waiting, id, data); renderToday(); return; }
  if (namespace === "memory.profile") document.dispatchEvent(new CustomEvent("pepper:profile"));
}

function key(map, id, data) { if (data) map.set(id, data); else map.delete(id); }

async function load() {
  const response = await fetch("/pepper/api/state");
  if (response.status === 503) { // the context store is restarting: show the servers, try again
    const answer = await response.json();
    if (answer.status) { state.status = answer.status; renderStatus(); }
    $("mode").textContent = answer.error || "waiting for Pepper's servers…";
    setTimeout(() => load().catch((error) => { $("mode").textContent = error.message; }), 1000);
    return;
  }
  if (!response.ok) throw new Error(`could not load Pepper's state (HTTP ${response.status})`);
  const snapshot = await response.json();
  if (snapshot.now) state.skew = new Date(snapshot.now).getTime() - Date.now();
  for (const item of snapshot.signals) state.signals.set(`${item.namespace}/${item.id}`, item.data);
  for (const item of snapshot.notifications) state.notifications.set(item.id, item.data);
  for (const item of snapshot.activity) state.activity.set(item.id, item);
  for (const item of snapshot.hidden || []) state.hidden.set(item.id, item.data);
  for (const item of snapshot.waiting || []) state.waiting.set(item.id, item.data);
  for (const message of snapshot.chat) state.chat.set(message.id, message);
  for (const action of snapshot.approvals) state.approvals.set(action.id, action);
  state.status = snapshot.status;
  renderAll();
  follow(snapshot.cursor);
}

// The browser reconnects by itself with Last-Event-ID; when it gives up (an HTTP error while Pepper
// restarts), a new stream starts from the last event seen, so nothing is lost or applied twice.
function follow(cursor) {
  state.cursor = cursor;
  const source = new EventSource(`/pepper/api/events?after=${cursor}`);
  const live = $("live");
  source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  source.onerror = () => {
    live.textContent = "reconnecting…"; live.className = "live off";
    if (source.readyState === EventSource.CLOSED) setTimeout(() => follow(state.cursor), 2000);
  };
  source.addEventListener("item", (event) => {
    const change = JSON.parse(event.data);
    if (change.seq <= state.cursor) return;
    state.cursor = change.seq;
    apply(change.namespace, change.id, change.op === "store" ? change.item : null);
  });
  source.addEventListener("status", (event) => { state.status = JSON.parse(event.data); renderStatus(); });
}

// ---- interaction -----------------------------------------------------------------------------

function showSection(name) {
  document.querySelector(".board").dataset.active = name;
  for (const button of document.querySelectorAll(".tabs button")) button.setAttribute("aria-pressed", String(button.dataset.show === name));
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  input.disabled = true;
  try { await post("/pepper/api/chat", { text, cards: shownCards.keys }); input.value = ""; }
  catch (error) { toast(`Not sent: ${error.message}`); }
  finally { input.disabled = false; input.focus(); }
}

function namespaceLabel(namespace) {
  if (namespace === "raw.email") return "Mail";
  if (namespace === "raw.calendar") return "Event";
  if (namespace.startsWith("signals.")) return `Signal · ${KIND_LABEL[namespace.slice(8)] || namespace.slice(8)}`;
  if (namespace.startsWith("memory.")) return "Note";
  return namespace;
}

function searchCard(item) {
  const data = item.data || {};
  const sender = data.from?.name || data.from?.email || (typeof data.from === "string" ? data.from : null);
  const link = item.namespace === "raw.email" ? `gmail://message/${item.id}` : item.namespace === "raw.calendar" ? `calendar://event/${item.id}` : data.link;
  return el("li", { class: "card", "data-key": `search ${item.namespace}/${item.id}` },
    el("div", { class: "meta" }, el("span", {}, namespaceLabel(item.namespace)), sender ? el("span", {}, sender) : null,
      data.date || data.start ? el("span", {}, data.all_day ? day(data.start) : when(data.date || data.start, true)) : null,
      item.namespace.startsWith("memory.") ? null : accountTag(data)),  // a note belongs to no account
    el("div", { class: "title" }, data.subject || data.title || data.summary || item.id),
    el("div", { class: "detail clamp" }, (item.text || "").slice(0, 400)),
    el("div", { class: "actions" }, linkFor(link, "search")));
}

async function search(event) {
  event.preventDefault();
  const query = $("search-input").value.trim();
  if (!query) return;
  try {
    const response = await fetch(`/pepper/api/search?q=${encodeURIComponent(query)}`);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error);
    forgetSources("search");
    $("search-list").replaceChildren(...answer.items.map(searchCard));
    $("search-empty").hidden = answer.items.length > 0;
  } catch (error) { toast(`Search failed: ${error.message}`); }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll(".tabs button")) button.addEventListener("click", () => showSection(button.dataset.show));
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("search-form").addEventListener("submit", search);
  $("show-low").addEventListener("change", renderNow);
  $("now-more").addEventListener("click", () => { renderNow.expanded = !renderNow.expanded; renderNow(); });
  load().catch((error) => { $("mode").textContent = error.message; });
});
