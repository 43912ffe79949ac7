// Cards the user put away from Now (snoozed or done in chat: now.hidden, keyed like state.signals,
// see orchestrator/conversation/hidden.py), and how long someone has waited on the user.
// Loaded before ui.js, whose state and render functions these use when called.
"use strict";

// A card snoozed or done in chat (now.hidden, keyed like state.signals) is left out of Now; a snoozed
// one comes back when its time is reached (on Pepper's clock: ui.js serverNow), for which the list is
// drawn again then. So is a notification the page holds as snoozed, or as not yet delivered: one that
// arrives a moment before the page's clock reaches its delivery time is shown at that time.
function putAway(key) {
  const hidden = state.hidden.get(key);
  return Boolean(hidden) && (!hidden.until || new Date(hidden.until).getTime() > serverNow());
}

const DAY_MS = 24 * 3600 * 1000;

function wakeForSnoozes() {
  clearTimeout(wakeForSnoozes.timer);
  const times = [...[...state.hidden.values()].map((h) => h.until), ...[...state.notifications.values()].map((n) => n.deliver_at)];
  const ends = times.map((iso) => (iso ? new Date(iso).getTime() - serverNow() : -1)).filter((ms) => ms > 0);
  // At most a day at a time: a browser runs a longer timeout at once.
  if (ends.length) wakeForSnoozes.timer = setTimeout(() => { renderNow(); renderToday(); }, Math.min(...ends, DAY_MS) + 50);
}

function waited(since) {
  const minutes = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 60000));
  const [count, unit] = minutes >= 1440 ? [Math.floor(minutes / 1440), "day"] : minutes >= 60 ? [Math.floor(minutes / 60), "hour"] : [minutes, "minute"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}
