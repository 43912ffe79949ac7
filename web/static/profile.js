// The profile in Settings: what Pepper learned about the user (name, role, projects) and what they
// told it (VIPs, projects, remembered facts), editable here. Loaded after ui.js, whose helpers
// ($, el, post, getJson, toast) it uses. Every edit is a POST to /pepper/api/profile; the answer
// carries the whole profile, which is drawn again.
"use strict";

async function changeProfile(change) {
  try {
    const answer = await post("/pepper/api/profile", change);
    toast(answer.message);
    renderProfile(answer.profile);
    return true;
  } catch (error) { toast(`Not changed: ${error.message}`); return false; }
}

async function loadProfile() {
  try { renderProfile((await getJson("/pepper/api/profile")).profile); }
  catch (error) { $("profile-status").textContent = `Could not load the profile: ${error.message}`; }
}

// The mail feed saves the profile after every sent message it reads: redraw at most every 2 s, and
// never under the user's hands (a field or the rename box being edited).
function refreshSoon() {
  if (refreshSoon.timer) return;
  refreshSoon.timer = setTimeout(() => {
    refreshSoon.timer = null;
    const editing = document.activeElement?.closest?.("#settings form");
    if (editing) refreshSoon(); else loadProfile();
  }, 2000);
}

function removeButton(label, change) {
  return el("button", { type: "button", class: "danger", "aria-label": label, onclick: () => changeProfile(change) }, "Remove");
}

function projectItem(project) {
  const how = project.source === "user" ? "added by you" : `${project.threads} threads you wrote in · ${project.active ? "active" : "quiet"}`;
  const people = project.people.length ? ` · with ${project.people.slice(0, 3).join(", ")}` : "";
  const item = el("li", { class: "profile-row" }, el("span", { class: "profile-name" }, project.name), el("span", { class: "profile-about" }, `${how}${people}`));
  const rename = el("button", { type: "button", "aria-label": `Rename ${project.name}`, onclick: () => {
    const input = el("input", { type: "text", "aria-label": `New name for ${project.name}`, value: project.name, required: true });
    const form = el("form", { class: "searchbar" }, input, el("button", { type: "submit", class: "primary" }, "Save"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const to = input.value.trim();
      if (to && to !== project.name) changeProfile({ action: "rename_project", value: project.name, to });
    });
    item.replaceChildren(form);
    input.focus();
  } }, "Rename");
  item.append(el("span", { class: "actions" }, rename, removeButton(`Remove project ${project.name}`, { action: "remove_project", value: project.name })));
  return item;
}

function renderProfile(profile) {
  $("profile-status").textContent = profile.learned.name || profile.learned.role
    ? `Learned from your mail: ${[profile.learned.name, profile.learned.role].filter(Boolean).join(", ")}. What you set here wins.`
    : "Pepper learns your name, role and projects from the mail you send; what you set here wins.";
  for (const field of ["name", "role"]) {  // a half-typed change (value ≠ what was shown) is kept
    const input = $(`profile-${field}`);
    const edited = input.value !== input.defaultValue;
    input.defaultValue = profile[field] || "";
    if (!edited) input.value = profile[field] || "";
  }
  const vips = profile.vips.map((address) => el("li", { class: "profile-row" }, el("span", { class: "profile-name" }, address),
    el("span", { class: "actions" }, removeButton(`Remove VIP ${address}`, { action: "remove_vip", value: address }))));
  $("profile-vips").replaceChildren(...(vips.length ? vips : [el("li", {}, "none")]));
  const projects = profile.projects.map(projectItem);
  $("profile-projects").replaceChildren(...(projects.length ? projects : [el("li", {}, "none yet")]));
  const notes = profile.notes.map((note) => el("li", { class: "profile-row" }, el("span", { class: "profile-name" }, note),
    el("span", { class: "actions" }, el("button", { type: "button", "aria-label": `Forget ${note}`, onclick: () => changeProfile({ action: "forget", value: note }) }, "Forget"))));
  $("profile-notes").replaceChildren(...(notes.length ? notes : [el("li", {}, "nothing yet")]));
}

function onSubmit(formId, inputId, action) {
  $(formId).addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $(inputId);
    const value = input.value.trim();
    if (value && await changeProfile({ action, value })) input.value = "";
  });
}

async function saveIdentity(event) {
  event.preventDefault();
  for (const field of ["name", "role"]) {
    const value = $(`profile-${field}`).value.trim();
    if (value && value !== $(`profile-${field}`).defaultValue) await changeProfile({ action: `set_${field}`, value });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("profile-identity").addEventListener("submit", saveIdentity);
  onSubmit("profile-vip-form", "profile-vip-input", "add_vip");
  onSubmit("profile-project-form", "profile-project-input", "add_project");
  onSubmit("profile-note-form", "profile-note-input", "remember");
  document.querySelector('.tabs button[data-show="settings"]').addEventListener("click", loadProfile);
  document.addEventListener("pepper:profile", refreshSoon);
  loadProfile();
});
