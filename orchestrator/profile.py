"""The user's profile as one stored item (`memory.profile/user`): loaded once, learned into by the mail
feed, edited by the user from the CLI, chat or UI, and saved after every change under one lock so a
learning step and an edit never overwrite each other.

Edits are `ProfileChange`s: set the name or role, add or remove a VIP, add, remove or rename a
project, remember or forget a note. They land in the profile's `edits` section, which learning never
touches, so a removed project or VIP stays removed and a rename sticks while the mail keeps teaching.

Learning reads only mail the provider filed under Sent. A profile stored before that rule (format
version 1) is migrated on load by `migrate_profile`: its learned part is relearned from the Sent mail
in the store, dropping whatever forged mail had taught it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, ValidationError

from orchestrator.context_items import ContextItems, store_item
from orchestrator.feeds.mail import PROFILE_VERSION, Email, ProjectEdit, UserProfile

__all__ = [
    "PROFILE",
    "ProfileBook",
    "ProfileChange",
    "ProfileEditError",
    "apply_change",
    "migrate_profile",
    "profile_view",
    "render_profile",
]

logger = logging.getLogger(__name__)
PROFILE = ("memory.profile", "user")
RELEARN_LIMIT = 1000
ADDRESS = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Action = Literal[
    "set_name",
    "set_role",
    "add_vip",
    "remove_vip",
    "add_project",
    "remove_project",
    "rename_project",
    "remember",
    "forget",
]


class ProfileEditError(ValueError):
    """An edit that cannot apply; the message says why and what to do instead."""


class ProfileChange(BaseModel):
    """One edit of the profile."""

    action: Action
    value: str = Field(min_length=1, max_length=300, description="The name, role, address, project or note")
    to: str | None = Field(None, min_length=1, max_length=100, description="The new name (rename_project)")


def apply_change(profile: UserProfile, change: ProfileChange) -> str:
    """Apply `change` to `profile`; returns one sentence saying what changed."""
    value = " ".join(change.value.split())
    edits = profile.edits
    if change.action in ("set_name", "set_role"):
        field = change.action.removeprefix("set_")
        setattr(edits, field, value[:100])
        return f"Your {field} is now {value[:100]}."
    if change.action in ("add_vip", "remove_vip"):
        return _change_vip(profile, value.lower(), change.action == "add_vip")
    if change.action == "remember":
        edits.notes = [*[n for n in edits.notes if n != value], value][-20:]
        return f"I'll remember that {value}."
    if change.action == "forget":
        kept = [note for note in edits.notes if value.lower() not in note.lower()]
        if len(kept) == len(edits.notes):
            raise ProfileEditError(f"nothing I remember mentions {value!r}; `profile` lists the notes")
        forgotten, edits.notes = len(edits.notes) - len(kept), kept
        return f"Forgot {forgotten} note{'s' if forgotten > 1 else ''} about {value}."
    return _change_project(profile, change.action, value[:100], change.to)


def _change_vip(profile: UserProfile, address: str, add: bool) -> str:
    if not re.match(ADDRESS, address):
        raise ProfileEditError(
            f"{address!r} is not an email address (VIPs are addresses, e.g. ann@example.org)"
        )
    if add:
        profile.vips.add(address)
        profile.edits.vips_removed.discard(address)
        return f"{address} is a VIP now: their mail is always important."
    if address not in profile.vips:
        raise ProfileEditError(
            f"{address} is not a VIP; the VIPs are {', '.join(sorted(profile.vips)) or 'none'}"
        )
    profile.vips.discard(address)
    profile.edits.vips_removed.add(address)
    return f"{address} is no longer a VIP."


def _change_project(profile: UserProfile, action: str, name: str, to: str | None) -> str:
    edits = profile.edits.projects
    found = next((p for p in profile.projects() if p.name.lower() == name.lower()), None)
    key = _key_of(profile, name) if found else name.lower()
    if action == "add_project":
        if found:
            raise ProfileEditError(f"{found.name} is already one of your projects")
        edit = edits.get(key) or ProjectEdit(name=name)
        edits[key] = edit.model_copy(update={"name": name, "hidden": False, "added": True})
        return f"Added the project {name}: mail that names it gets more attention."
    if found is None:
        known = ", ".join(p.name for p in profile.projects()) or "none yet"
        raise ProfileEditError(f"there is no project called {name!r}; your projects: {known}")
    edit = edits.get(key) or ProjectEdit(name=found.name)
    if action == "remove_project":
        edits[key] = edit.model_copy(update={"hidden": True})
        return f"Removed the project {found.name}; it will not come back from mail."
    if not to or not to.strip():
        raise ProfileEditError("say the new name: rename_project needs `to`")
    new_name = " ".join(to.split())
    aliases = list(dict.fromkeys([*edit.aliases, found.name]))  # mail still calls it by the old name
    edits[key] = edit.model_copy(update={"name": new_name, "aliases": aliases})
    return f"Renamed the project {found.name} to {new_name}."


def _key_of(profile: UserProfile, name: str) -> str:
    profile.refresh_projects()
    for project in profile.learned_projects:
        edit = profile.edits.projects.get(project.key)
        if (edit.name if edit else project.name).lower() == name.lower():
            return project.key
    return next(
        (key for key, edit in profile.edits.projects.items() if edit.name.lower() == name.lower()),
        name.lower(),
    )


def profile_view(profile: UserProfile, now: datetime) -> dict[str, Any]:
    """What the UI and the CLI show: the effective profile, with what was learned beside the edits."""
    active = {p.key for p in profile.active_projects(now)}
    frequent = sorted(profile.sent_to, key=lambda a: -(profile.sent_to[a] + profile.replied_to.get(a, 0)))
    return {
        "name": profile.display_name,
        "role": profile.display_role,
        "learned": {"name": profile.name, "role": profile.role},
        "addresses": sorted(profile.addresses),
        "vips": sorted(profile.vips),
        "people": frequent[:10],
        "projects": [{**p.model_dump(mode="json"), "active": p.key in active} for p in profile.projects()],
        "hidden_projects": sorted(e.name for e in profile.edits.projects.values() if e.hidden),
        "notes": profile.edits.notes,
    }


class ProfileBook:
    """The profile item, shared by the mail feed (learning) and the user's edits."""

    def __init__(self, items: ContextItems, user_addresses: list[str], vips: list[str]) -> None:
        self._items = items
        self._addresses = {a.lower() for a in user_addresses}
        self._vips = {v.lower() for v in vips}
        self._lock = anyio.Lock()
        self._loading = anyio.Lock()
        self.profile: UserProfile | None = None
        self._unsaved = False  # learned with save=False and not saved yet

    async def load(self) -> UserProfile:
        async with self._loading:  # one load (and one migration) however many callers ask at once
            if self.profile is None:
                stored = await self._items.get(*PROFILE)
                profile, relearn = migrate_profile(stored.data if stored is not None else None)
                profile.addresses |= self._addresses
                profile.vips |= self._vips - profile.edits.vips_removed
                if relearn:
                    await self._relearn(profile)
                self.profile = profile
        return self.profile

    async def _relearn(self, profile: UserProfile) -> None:
        """Learn again from the mail the store holds with the SENT label (the newest 1,000), and save."""
        sent = []
        for item in await self._items.query(["raw.email"], tags=["SENT"], limit=RELEARN_LIMIT):
            try:
                sent.append(Email.model_validate(item.data))
            except ValidationError as exc:
                logger.warning("profile relearning skipped raw.email/%s: %s", item.id, exc)
        for email in sorted(sent, key=lambda e: e.date):
            _learn(profile, email)
        await self._items.put(*PROFILE, profile.model_dump(mode="json"), text=profile.describe())
        logger.info(
            "profile migrated to version %d: relearned from %d sent messages", PROFILE_VERSION, len(sent)
        )

    async def learn(self, email: Email, save: bool = True) -> UserProfile:
        """Learn from a message the user sent, and save (or, with `save=False`, leave the saving to a
        later `save()`: a feed learning a page of sent mail saves once per page)."""
        if save:
            return await self._change(lambda profile: _learn(profile, email))
        async with self._lock:
            profile = await self.load()
            _learn(profile, email)
            self._unsaved = True
        return profile

    def unsaved_item(self) -> dict[str, Any] | None:
        """What `learn(..., save=False)` learned, as a `store_many` item for the caller to store
        with its own writes (then counted as saved); None when there is nothing to save."""
        if not self._unsaved or self.profile is None:
            return None
        self._unsaved = False
        return store_item(*PROFILE, self.profile.model_dump(mode="json"), self.profile.describe())

    async def apply(self, change: ProfileChange) -> str:
        """Apply the user's edit and save; raises `ProfileEditError` when it cannot apply."""
        outcome: list[str] = []
        await self._change(lambda profile: outcome.append(apply_change(profile, change)))
        return outcome[0]

    async def _change(self, change: Callable[[UserProfile], object]) -> UserProfile:
        async with self._lock:
            profile = await self.load()
            change(profile)
            await self._put(profile)
            self._unsaved = False
        return profile

    async def _put(self, profile: UserProfile) -> None:
        await self._items.put(*PROFILE, profile.model_dump(mode="json"), text=profile.describe())


def _learn(profile: UserProfile, email: Email) -> None:
    if not email.in_sent:  # a From header proves nothing: only the Sent folder says the user wrote it
        return
    if email.sender is not None:
        profile.addresses.add(email.sender.email.lower())
    profile.learn_from_sent(email)


LEARNED_FIELDS = (
    "sent_to",
    "replied_to",
    "contact_names",
    "name",
    "role",
    "threads",
    "learned_projects",
    "learned_ids",
)


def migrate_profile(data: dict[str, Any] | None) -> tuple[UserProfile, bool]:
    """The stored profile in today's format, and whether its learned part must be learned again.

    Version 1 (no `version` field) learned from any mail whose From was one of the user's addresses,
    so forged mail could rename the user or add projects, and what it taught cannot be told apart
    afterwards. Its learned part (correspondents, name, role, threads, projects) is dropped and
    learned again from the Sent mail in the store; the user's addresses, VIPs and edits are kept."""
    if data is None:
        return UserProfile(), False
    if not isinstance(data, dict):
        raise ProfileEditError(
            f"the stored profile {'/'.join(PROFILE)} is a {type(data).__name__}, not an object: "
            "delete that item to start a new profile"
        )
    if int(data.get("version", 1)) >= PROFILE_VERSION:
        return UserProfile.model_validate(data), False
    kept = {key: value for key, value in data.items() if key not in LEARNED_FIELDS}
    return UserProfile.model_validate({**kept, "version": PROFILE_VERSION}), True


def render_profile(view: dict[str, Any]) -> str:
    """The profile in a few lines of markdown, for chat and the CLI."""
    learned = view["learned"]
    name = view["name"] or "not known yet"
    if view["name"] and view["name"] == learned["name"]:
        name += " (learned from your mail)"
    lines = [f"**Name:** {name}", f"**Role:** {view['role'] or 'not known yet'}"]
    lines.append(f"**Addresses:** {', '.join(view['addresses']) or 'none yet'}")
    lines.append(f"**VIPs:** {', '.join(view['vips']) or 'none'}")
    projects = [
        f"- {p['name']}"
        + (" (yours)" if p["source"] == "user" else f" ({p['threads']} threads")
        + ("" if p["source"] == "user" else (", active)" if p["active"] else ", quiet)"))
        + (f" with {', '.join(p['people'][:3])}" if p["people"] else "")
        for p in view["projects"]
    ]
    lines.append("**Projects:**" + ("\n" + "\n".join(projects) if projects else " none yet"))
    if view["hidden_projects"]:
        lines.append(f"**Removed projects:** {', '.join(view['hidden_projects'])}")
    if view["notes"]:
        lines.append("**Remembered:**\n" + "\n".join(f"- {note}" for note in view["notes"]))
    return "\n".join(lines)
