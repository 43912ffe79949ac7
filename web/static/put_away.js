// Cards the user put away from Now (snoozed or done in chat: now.hidden, keyed like state.signals,
// see orchestrator/conversation/hidden.py), and how long someone has waited on the user.
// Loaded before ui.js, whose state and render functions these use when called.
"use strict";

// A card snoozed or done in chat (now.hidden, keyed like state.signals) is left out of Now; a snoozed
// one comes back when its time is reached, for which the list is drawn again then.
function putAway(key) {
  const hidden = state.hidden.get(key);
  return Boolean(hidden) && (!hidden.until || new Date(hidden.until) > new Date());
}

function wakeForSnoozes() {
  clearTimeout(wakeForSnoozes.timer);
  const ends = [...state.hidden.values()].map((h) => (h.until ? new Date(h.until).getTime() - Date.now() : -1)).filter((ms) => ms > 0);
  if (ends.length) wakeForSnoozes.timer = setTimeout(() => { renderNow(); renderToday(); }, Math.min(...ends) + 50);
}

function waited(since) {
  const minutes = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 60000));
  const [count, unit] = minutes >= 1440 ? [Math.floor(minutes / 1440), "day"] : minutes >= 60 ? [Math.floor(minutes / 60), "hour"] : [minutes, "minute"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}
