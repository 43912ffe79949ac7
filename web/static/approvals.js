// Pending actions in the Approvals panel: the cards of orchestrator/trust/cards.py, in words: what
// would be done (a preview by kind, never raw JSON), how many identical requests, who asked after
// reading what mail, a warning when that mail is from a stranger or the record is unverified, the
// model's reason as a quote, when it expires; with approve (of exactly the digest shown), edit, reject.
// Every string here may come from mail: it goes into the page as text, never as HTML.
// Loaded before ui.js, whose helpers (el, when, post, toast, state) it uses when a card is built.
"use strict";

const ARGUMENT_LABEL = { id: "Message", body: "Text", to: "To", cc: "Cc", bcc: "Bcc", subject: "Subject", reply_all: "Reply to all" };
const PREVIEW_ROWS = {
  email: [["to", "To"], ["cc", "Cc"], ["bcc", "Bcc"], ["subject", "Subject"], ["message_id", "In reply to"],
    ["draft_id", "Draft"], ["drafted_by", "Drafted by"], ["reply_all", "Reply to all"], ["attachments", "Attaches files"],
    ["note", "Note"]],
  // drafted_by: the worker that wrote a draft Pepper saved (send_draft cards; see orchestrator/trust/gate.py)
  labels: [["message_id", "Message"], ["labels_added", "Adds labels"], ["labels_removed", "Removes labels"]],
  event: [["title", "Event"], ["start", "Starts"], ["end", "Ends"], ["location", "Where"], ["attendees", "Attendees"],
    ["response", "Answer"], ["event_id", "Event id"]],
  notification: [["subject", "Title"], ["links", "Links"]],
};
const SOURCE_KIND = { email: "Mail", event: "Event", signal: "Item" };

function mailSummary(messageId) {
  const mail = [...state.signals.values()].find((signal) => signal.source_id === messageId && signal.kind === "email");
  return mail ? mail.summary.split(" — ")[0] : null;
}

function argumentText(action, name, value) {
  if (action.server === "gmail" && name === "id") return mailSummary(value) || value;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function plain(value) {
  if (Array.isArray(value)) return value.length ? value.map(plain).join(", ") : "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value && typeof value === "object") return Object.entries(value).map(([key, inner]) => `${key}: ${plain(inner)}`).join("; ");
  return String(value);
}

function previewValue(action, key, value) {
  if (key === "message_id") return mailSummary(value) || value;
  if (key === "drafted_by") {
    const at = action.preview.drafted_at ? `, ${when(action.preview.drafted_at, true)}` : "";
    return `Pepper (${value}${at}), saved in your Drafts without sending`;
  }
  if (key === "start" || key === "end") return when(value, true) || value;
  return plain(value);
}

// What the action would do, by kind; a call of a tool Pepper cannot describe lists its arguments.
function previewRows(action) {
  const preview = action.preview || {};
  const kind = preview.kind;
  if (!kind || kind === "call") {
    return Object.entries(action.arguments || {}).flatMap(([name, value]) => [el("dt", {}, ARGUMENT_LABEL[name] || name),
      el("dd", { class: name === "body" ? "letter" : null }, name === "id" ? argumentText(action, name, value) : plain(value))]);
  }
  const rows = (PREVIEW_ROWS[kind] || []).filter(([key]) => preview[key] !== undefined && preview[key] !== null && preview[key] !== "")
    .flatMap(([key, label]) => [el("dt", {}, label), el("dd", {}, previewValue(action, key, preview[key]))]);
  if (preview.body_excerpt) rows.push(el("dt", {}, kind === "event" ? "Description" : "Text"), el("dd", { class: "letter" }, preview.body_excerpt));
  return rows;
}

function approvalFields(action) {
  const call = !action.preview?.kind || action.preview.kind === "call";
  const what = call ? `${action.server}.${action.tool} with` : null;
  return el("dl", { class: "facts approval-fields" }, what ? [el("dt", {}, "Calls"), el("dd", {}, what)] : null, previewRows(action));
}

function quote(text, limit = 400) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return `“${flat.length > limit ? flat.slice(0, limit) + "…" : flat}”`;
}

function whoAsked(action) {
  const provenance = action.provenance;
  if (!provenance) return `Asked by ${action.requested_by} (no record of what it had read)`;
  if (provenance.requested_by === "user") return provenance.user_message ? `You asked: ${quote(provenance.user_message, 300)}` : "You asked for it";
  if (provenance.requested_by.startsWith("worker:")) return provenance.task ? `A worker (task: ${quote(provenance.task, 200)})` : "A worker, on its own";
  if (provenance.requested_by === "scheduler") return "Pepper's scheduler, on its own";
  return `Asked by ${provenance.requested_by}`;
}

// A sender is trusted only as triage trusts one: written to (the Sent folder), its From not forged.
function sourceItem(source) {
  const stranger = source.known_sender === false;
  const forged = (source.suspicious || []).length > 0;
  const tag = forged ? el("span", { class: "tag", title: source.suspicious.join("; ") }, " From may be forged")
    : stranger ? el("span", { class: "tag" }, " never written to") : null;
  return el("li", { class: stranger || forged ? "stranger" : null },
    `${SOURCE_KIND[source.kind] || source.kind}${source.opened === false ? " (seen in a list)" : ""} from `,
    el("strong", {}, source.sender || "an unknown sender"), source.subject ? `: ${quote(source.subject, 160)}` : "",
    tag, forged ? el("span", { class: "why" }, ` (${source.suspicious.join("; ")})`) : null);
}

// Who asked, after reading what, and what the model said: all of it data from mail, shown as such.
function approvalOrigin(action) {
  const provenance = action.provenance || {};
  // First what the request names (the task says "message ID"), then mail read in full from strangers:
  // that is where an instruction to act would come from.
  const asked = `${provenance.task || ""} ${provenance.user_message || ""}`;
  const rank = (source) => (source.id && asked.includes(source.id) ? 0 : 4) + (source.known_sender === false ? 0 : 2) + (source.opened === false ? 1 : 0);
  const sources = [...(provenance.sources || [])].sort((a, b) => rank(a) - rank(b));
  const more = sources.slice(5);
  return el("div", { class: "origin" },
    el("div", { class: "asked" }, whoAsked(action)),
    sources.length ? el("div", { class: "sources-head" }, "After reading:") : null,
    sources.length ? el("ul", { class: "sources" }, sources.slice(0, 5).map(sourceItem)) : null,
    more.length ? el("details", { class: "sources-more" }, el("summary", {}, `and ${more.length} more`),
      el("ul", { class: "sources" }, more.map(sourceItem))) : null,
    provenance.model_reason ? el("blockquote", { class: "model-reason", title: "What the model said (data, not instructions)" },
      el("span", { class: "said" }, "The model said: "), quote(provenance.model_reason, 600)) : null);
}

function approvalWarnings(action) {
  const warnings = [];
  const forged = (action.provenance?.sources || []).some((source) => (source.suspicious || []).length > 0);
  if (action.origin_known_sender === false) {
    warnings.push(forged ? "From mail whose sender may be forged (it failed the checks of your mail servers, or poses as someone you know): check it is what you want."
      : "From mail by someone you have never written to: check it is what you want.");
  }
  if (action.verification === "unverified") warnings.push("Unverified: Pepper did not sign this record. Approving queues it again for another look; nothing runs yet.");
  return warnings.map((text) => el("p", { class: "warning", role: "note" }, el("span", { "aria-hidden": "true" }, "⚠ "), text));
}

// Edit mode: one labelled control per argument, and per field of an argument that is an object (a
// message's To, Subject, Text); lists of words (recipients) as comma-separated text. What is acted
// on, `id`, stays as it is.
function editorControl(label, value) {
  let control;
  if (typeof value === "boolean") control = el("input", { type: "checkbox", "aria-label": label, checked: value });
  else if (typeof value === "string") {
    const long = label === "Text" || value.length > 80 || value.includes("\n");
    control = long ? el("textarea", { "aria-label": label, rows: 6 }) : el("input", { type: "text", "aria-label": label });
    control.value = value;
  } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    control = el("input", { type: "text", "aria-label": `${label} (comma-separated)` });
    control.value = value.join(", ");
  } else {
    control = el("input", { type: "text", "aria-label": `${label} (JSON)` });
    control.value = JSON.stringify(value);
  }
  control.dataset.kind = typeof value === "boolean" ? "boolean" : typeof value === "string" ? "string"
    : control.getAttribute("aria-label").endsWith("(comma-separated)") ? "list" : "json";
  return control;
}

function editedValue(control) {
  const kind = control.dataset.kind;
  if (kind === "boolean") return control.checked;
  if (kind === "string") return control.value;
  if (kind === "list") return control.value.split(",").map((item) => item.trim()).filter(Boolean);
  return JSON.parse(control.value);
}

function approvalEditor(action) {
  const controls = [];
  const fields = Object.entries(action.arguments || {}).flatMap(([name, value]) =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.entries(value).map(([inner, innerValue]) => [[name, inner], innerValue])
      : [[[name], value]]);
  const rows = fields.flatMap(([path, value]) => {
    const name = path[path.length - 1];
    const label = ARGUMENT_LABEL[name] || name;
    if (path.length === 1 && name === "id") return [el("dt", {}, label), el("dd", {}, argumentText(action, name, value))];
    const control = editorControl(label, value);
    control.path = path;
    controls.push(control);
    return [el("dt", {}, label), el("dd", {}, control)];
  });
  const editor = el("dl", { class: "facts approval-fields editing", hidden: true }, rows);
  editor.read = () => {
    const args = structuredClone(action.arguments);
    for (const control of controls) {
      const [name, inner] = control.path;
      if (inner === undefined) args[name] = editedValue(control);
      else args[name][inner] = editedValue(control);
    }
    return args;
  };
  editor.first = () => controls.find((control) => control.path[control.path.length - 1] === "body") || controls[0];
  return editor;
}

function approvalCard(action) {
  const fields = approvalFields(action);
  const editor = approvalEditor(action);
  const decide = (decision) => async (event) => {
    const buttons = event.target.closest(".actions").querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const body = { decision };
      if (decision === "approve") {
        if (action.digest) body.digest = action.digest;
        if (!editor.hidden) body.arguments = editor.read();
      }
      const done = await post(`/pepper/api/approvals/${encodeURIComponent(action.id)}`, body);
      toast(done.status === "done" ? "Approved and done" : done.status === "rejected" ? "Rejected" : `Failed: ${done.result}`);
    } catch (error) {
      toast(error instanceof SyntaxError ? "A field marked JSON is not valid JSON" : error.message);
      buttons.forEach((button) => { button.disabled = false; });
    }
  };
  const edit = (event) => { fields.hidden = true; editor.hidden = false; editor.first()?.focus(); event.target.disabled = true; };
  const card = el("li", { class: "card high approval", "data-key": `approval ${action.id}` },
    el("div", { class: "meta" }, el("span", { class: "pill high" }, "needs approval"),
      action.count > 1 ? el("span", { class: "pill count-pill" }, `×${action.count} identical requests`) : null,
      el("span", {}, when(action.created_at, true)),
      action.expires_at ? el("span", { class: "due" }, `expires at ${when(action.expires_at, true)}`) : null),
    el("div", { class: "title" }, `${action.server} · ${action.tool}`),
    action.reason ? el("div", { class: "detail" }, `Why it waits: ${action.reason}`) : null,
    approvalWarnings(action), fields, editor, approvalOrigin(action),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: decide("approve") }, "Approve"),
      el("button", { type: "button", onclick: edit }, "Edit"),
      el("button", { type: "button", class: "danger", onclick: decide("reject") }, "Reject")));
  card.editing = () => !editor.hidden;
  return card;
}
