// A small, safe markdown renderer for chat: text is escaped first, then a few marks become tags.
// Supported: paragraphs, line breaks, "- " lists, **bold**, *italic*, `code`, [text](http(s) links).
"use strict";

function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function renderInline(escaped) {
  const codes = [];
  let html = escaped.replace(/`([^`]+)`/g, (_, code) => { codes.push(code); return `\u0000${codes.length - 1}\u0000`; });
  html = html
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, (_, label, url) =>
      `<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`);
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

window.PepperMarkdown = { renderMarkdown, escapeHtml };
