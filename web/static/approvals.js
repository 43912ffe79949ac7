// Pending actions in the Approvals panel: what would be done, in words, with approve, edit, reject.
// Loaded before ui.js, whose helpers (el, when, post, toast, state) it uses when a card is built.
"use strict";

const ARGUMENT_LABEL = { id: "Message", body: "Text", to: "To", cc: "Cc", bcc: "Bcc", subject: "Subject", reply_all: "Reply to all" };

function argumentText(action, name, value) {
  if (action.server === "gmail" && name === "id") {
    const mail = [...state.signals.values()].find((signal) => signal.source_id === value && signal.kind === "email");
    if (mail) return mail.summary.split(" — ")[0];
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function approvalFields(action) {
  return el("dl", { class: "facts approval-fields" }, Object.entries(action.arguments || {}).flatMap(([name, value]) => [
    el("dt", {}, ARGUMENT_LABEL[name] || name),
    el("dd", { class: name === "body" ? "letter" : null }, argumentText(action, name, value))]));
}

// Edit mode: one labelled control per argument (what is acted on, `id`, stays as it is).
function approvalEditor(action) {
  const controls = [];
  const rows = Object.entries(action.arguments || {}).flatMap(([name, value]) => {
    const label = ARGUMENT_LABEL[name] || name;
    if (name === "id") return [el("dt", {}, label), el("dd", {}, argumentText(action, name, value))];
    let control;
    if (typeof value === "boolean") control = el("input", { type: "checkbox", "aria-label": label, checked: value });
    else if (typeof value === "string") {
      control = name === "body" || value.length > 80 || value.includes("\n") ? el("textarea", { "aria-label": label, rows: 6 }) : el("input", { type: "text", "aria-label": label });
      control.value = value;
    } else {
      control = el("input", { type: "text", "aria-label": `${label} (JSON)` });
      control.value = JSON.stringify(value);
    }
    control.dataset.name = name;
    control.dataset.kind = typeof value === "boolean" ? "boolean" : typeof value === "string" ? "string" : "json";
    controls.push(control);
    return [el("dt", {}, label), el("dd", {}, control)];
  });
  const editor = el("dl", { class: "facts approval-fields editing", hidden: true }, rows);
  editor.read = () => {
    const args = { ...action.arguments };
    for (const control of controls) {
      const { name, kind } = control.dataset;
      args[name] = kind === "boolean" ? control.checked : kind === "string" ? control.value : JSON.parse(control.value);
    }
    return args;
  };
  editor.first = () => controls.find((control) => control.dataset.name === "body") || controls[0];
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
      if (decision === "approve" && !editor.hidden) body.arguments = editor.read();
      const done = await post(`/pepper/api/approvals/${encodeURIComponent(action.id)}`, body);
      toast(done.status === "done" ? "Approved and done" : done.status === "rejected" ? "Rejected" : `Failed: ${done.result}`);
    } catch (error) {
      toast(error instanceof SyntaxError ? "A field marked JSON is not valid JSON" : error.message);
      buttons.forEach((button) => { button.disabled = false; });
    }
  };
  const edit = (event) => { fields.hidden = true; editor.hidden = false; editor.first()?.focus(); event.target.disabled = true; };
  return el("li", { class: "card high" },
    el("div", { class: "meta" }, el("span", { class: "pill high" }, "needs approval"),
      el("span", {}, `requested by ${action.requested_by}`), el("span", {}, when(action.created_at, true))),
    el("div", { class: "title" }, `${action.server} · ${action.tool}`),
    action.reason ? el("div", { class: "detail" }, action.reason) : null,
    fields, editor,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: decide("approve") }, "Approve"),
      el("button", { type: "button", onclick: edit }, "Edit"),
      el("button", { type: "button", class: "danger", onclick: decide("reject") }, "Reject")));
}
