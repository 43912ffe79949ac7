// What a redraw of a live list must not take from the user. The Now and Today lists are drawn anew
// whenever the event stream brings a change (new mail keeps arriving while the user reads), so the
// state lives here, not in the DOM: which cards' sources are open (by list and link), the fetched
// source texts (a small cache), and, kept across each `redraw`, the focused control, the card in
// view and the scroll inside an open source. A fetch writes, when it completes, into whichever box
// shows its link then, never into a node a redraw has thrown away.
// Loaded before ui.js, whose helpers (el, getJson) it calls.
"use strict";

const SOURCE_LABEL = { "gmail://message/": "Show the mail", "calendar://event/": "Show the event" };
const SOURCE_CACHE = 50;
const sources = { open: new Set(), text: new Map(), failed: new Map(), loading: new Set() };

const withData = (selector, name, value) => [...document.querySelectorAll(selector)].filter((node) => node.dataset[name] === value);

function paintSource(box) {
  const link = box.dataset.link;
  if (sources.text.has(link)) box.textContent = sources.text.get(link) || "(no text)";
  else if (sources.failed.has(link)) box.textContent = `Could not load it: ${sources.failed.get(link)}`;
  else box.textContent = "Loading…";
}

// One fetch per link at a time; a failed one is tried again only when the user opens it again.
async function loadSource(link, retry) {
  if (sources.text.has(link) || sources.loading.has(link) || (sources.failed.has(link) && !retry)) return;
  sources.failed.delete(link);
  sources.loading.add(link);
  try {
    const answer = await getJson(`/pepper/api/source?link=${encodeURIComponent(link)}`);
    sources.text.set(link, answer.text || "");
    if (sources.text.size > SOURCE_CACHE) sources.text.delete(sources.text.keys().next().value);
  } catch (error) { sources.failed.set(link, error.message); }
  finally { sources.loading.delete(link); }
  for (const box of withData(".source[data-link]", "link", link)) paintSource(box);
}

function setSourceOpen(key, link, open) {
  if (open) sources.open.add(key); else sources.open.delete(key);
  for (const node of withData("[data-source-key]", "sourceKey", key)) {
    if (node.tagName === "BUTTON") node.setAttribute("aria-expanded", String(open));
    else { node.hidden = !open; if (open) paintSource(node); }
  }
  if (open) loadSource(link, true);
}

// A card's link: a button that shows the mail or event inline, or "Open" for Pepper's own pages and
// the provider's (Gmail, Google Calendar); any other link (a notification's, which may come from mail)
// is shown as inert text with its real target. `scope` names the list ("now", "today", "search"), so
// opening a mail in one list does not open it in another.
function linkFor(link, scope) {
  if (!link) return null;
  const { isPepperLink, isProviderLink } = window.PepperMarkdown;
  if (/^https?:\/\//i.test(link)) {
    if (isPepperLink(link) || isProviderLink(link)) return el("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, "Open");
    return el("span", { class: "detail inert-link", title: "Pepper does not open links it did not make" }, `Link (not opened): ${link}`);
  }
  const prefix = Object.keys(SOURCE_LABEL).find((start) => link.startsWith(start));
  if (!prefix) return el("span", { class: "detail", title: "Pepper resource" }, link);
  const key = `${scope} ${link}`;
  const open = sources.open.has(key);
  const box = el("div", { class: "source", hidden: !open, "data-source-key": key, "data-link": link });
  const button = el("button", { type: "button", class: "link", "aria-expanded": String(open), "data-source-key": key,
    onclick: () => setSourceOpen(key, link, !sources.open.has(key)) }, SOURCE_LABEL[prefix]);
  if (open) { paintSource(box); loadSource(link, false); }
  return [button, box];
}

function forgetSources(scope) {
  for (const key of [...sources.open]) if (key.startsWith(`${scope} `)) sources.open.delete(key);
}

const controlsOf = (card) => [...card.querySelectorAll("button, a[href], input, textarea, select")];
const controlName = (node) => node.getAttribute("aria-label") || node.textContent.trim();
const cardsOf = (lists) => lists.flatMap((list) => [...list.children]);
const cardIn = (lists, key) => cardsOf(lists).find((card) => card.dataset.key === key);

function scrollerOf(node) {
  for (let parent = node.parentElement; parent; parent = parent.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(parent).overflowY) && parent.scrollHeight > parent.clientHeight) return parent;
  }
  return document.scrollingElement;
}

// Where the user is in `lists` (one panel): the focused control (card key, name, which of the same
// name), the first card in view when scrolled away from the top, and the scroll in each open source.
function placeIn(lists) {
  const place = { scroller: scrollerOf(lists[0]), sources: new Map() };
  const active = document.activeElement;
  const card = lists.some((list) => active !== list && list.contains(active)) ? active.closest("[data-key]") : null;
  if (card) {
    const same = controlsOf(card).filter((node) => controlName(node) === controlName(active));
    place.focus = { key: card.dataset.key, name: controlName(active), index: same.indexOf(active) };
  }
  if (place.scroller.scrollTop > 0) {
    const top = place.scroller === document.scrollingElement ? 0 : place.scroller.getBoundingClientRect().top;
    const first = cardsOf(lists).find((node) => node.dataset.key && node.getBoundingClientRect().bottom > top);
    if (first) place.anchor = { key: first.dataset.key, top: first.getBoundingClientRect().top };
  }
  const boxes = lists.flatMap((list) => [...list.querySelectorAll(".source:not([hidden])")]);
  for (const box of boxes) place.sources.set(box.dataset.sourceKey, box.scrollTop);
  return place;
}

function restorePlace(lists, place) {
  for (const box of lists.flatMap((list) => [...list.querySelectorAll(".source:not([hidden])")])) {
    if (place.sources.get(box.dataset.sourceKey)) box.scrollTop = place.sources.get(box.dataset.sourceKey);
  }
  const anchor = place.anchor && cardIn(lists, place.anchor.key);
  if (anchor) place.scroller.scrollTop += anchor.getBoundingClientRect().top - place.anchor.top;
  const card = place.focus && cardIn(lists, place.focus.key);
  if (!card) return;
  const same = controlsOf(card).filter((node) => controlName(node) === place.focus.name);
  const target = same[place.focus.index] || same[0];
  if (target && !target.disabled) target.focus({ preventScroll: true });
}

// A press (mouse, pen or finger) holds the drawing of the live lists until it ends and its click has
// run: the browser sends a click only to the node that both the press and the release were on, so a
// list drawn anew between them would swallow the click (new mail arriving as the user clicks). A held
// drawing is done once, from the state as it is then, after the release, or after PRESS_HOLD_MS if
// no release comes (a press that left the window).
const PRESS_HOLD_MS = 5000;
const press = { down: false, held: new Set(), timer: 0 };

function releasePress() {
  clearTimeout(press.timer);
  press.down = false;
  const held = [...press.held];
  press.held.clear();
  for (const draw of held) draw();
}

document.addEventListener("pointerdown", () => {
  press.down = true;
  clearTimeout(press.timer);
  press.timer = setTimeout(releasePress, PRESS_HOLD_MS);
}, true);
// The click follows the release in the same task; a timeout of 0 runs after it.
for (const name of ["pointerup", "pointercancel"]) document.addEventListener(name, () => setTimeout(releasePress, 0), true);
window.addEventListener("blur", () => { if (press.down) releasePress(); });

// True if `draw` (a function drawing live lists) must wait for a press to end; it is then called after.
function heldByPress(draw) {
  if (press.down) press.held.add(draw);
  return press.down;
}

// Replace the items of live lists that share a panel, each `[list, nodes]`, keeping the user's
// place in them (cards carry `data-key`).
function redraw(...drawings) {
  const lists = drawings.map(([list]) => list);
  const place = placeIn(lists);
  for (const [list, nodes] of drawings) list.replaceChildren(...nodes);
  restorePlace(lists, place);
}
