// A small, safe markdown renderer for chat: text is escaped first, then a few marks become tags.
// Supported: paragraphs, line breaks, "- " lists, **bold**, *italic*, `code`, and [text](url) links,
// which are live only when they point at Pepper's own pages: any other becomes "text (url)" as plain
// text, so a link that came from mail is never clickable and always shows where it really goes
// (the rule of orchestrator/trust/outbound.py `inert_links`, which the server applies first).
"use strict";

// Pepper's own UI (this origin's /pepper/ pages) and an item's provider links (gmail://, calendar://,
// Gmail's and Google Calendar's web pages): the only links Pepper makes live.
const PROVIDER_PREFIXES = ["gmail://", "calendar://", "https://mail.google.com/", "https://calendar.google.com/"];

function isPepperLink(url) {
  const text = String(url).trim();
  if (text.startsWith("/pepper/") && !text.startsWith("//")) return true;
  try {
    const parsed = new URL(text);
    return parsed.origin === window.location.origin && parsed.pathname.startsWith("/pepper/");
  } catch { return false; }
}

function isProviderLink(url) {
  const text = String(url).trim().toLowerCase();
  return PROVIDER_PREFIXES.some((prefix) => text.startsWith(prefix));
}

function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function unescapeHtml(text) {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function renderInline(escaped) {
  const codes = [];
  let html = escaped.replace(/`([^`]+)`/g, (_, code) => { codes.push(code); return `\u0000${codes.length - 1}\u0000`; });
  html = html
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\(([^\s)]+)\)/g, (_, label, url) => {
      const target = unescapeHtml(url);
      return isPepperLink(target) ? `<a href="${url}">${label}</a>` : `${label} (<span class="inert-link">${url}</span>)`;
    });
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
}

function renderMarkdown(text) {
  const blocks = escapeHtml(text).split(/\n{2,}/);
  return blocks.map((block) => {
    const lines = block.split("\n");
    if (lines.every((line) => /^\s*[-*] /.test(line))) {
      return "<ul>" + lines.map((line) => `<li>${renderInline(line.replace(/^\s*[-*] /, ""))}</li>`).join("") + "</ul>";
    }
    const items = [];
    let paragraph = [];
    for (const line of lines) {
      if (/^\s*[-*] /.test(line)) {
        if (paragraph.length) { items.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`); paragraph = []; }
        items.push(`<ul><li>${renderInline(line.replace(/^\s*[-*] /, ""))}</li></ul>`);
      } else {
        paragraph.push(line);
      }
    }
    if (paragraph.length) items.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`);
    return items.join("").replace(/<\/ul><ul>/g, "");
  }).join("");
}

window.PepperMarkdown = { renderMarkdown, escapeHtml, isPepperLink, isProviderLink };
