"""Draft and label management over a `MailStore`: blocking, run by `IndexedProvider` under its lock.

Drafts: an update files the new version and removes the old one (so a draft's id changes, as a
Gmail draft's message id does); a delete removes it for good. Labels: names are checked here for
every backend (not a system label, not taken, at most `MAX_LABEL_CHARS`, no control characters);
the store does what its backend needs (`LabelStore`: a Maildir folder renamed, an IMAP RENAME, a
Gmail `labels.patch`), and labels kept per message (Maildir index labels, IMAP keywords) are moved
message by message through `relabel`, so every change is journalled and a change-feed reader hears
of each message whose labels changed. Deleting a label leaves its messages in place (an IMAP or
Maildir folder's messages go to the archive), as Gmail does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..journal import IndexRow
from ..models import DraftRef, Label, LabelChanges
from ..provider import MailProviderError, NotFoundError

if TYPE_CHECKING:
    from ..indexed import MailStore

__all__ = ["MAX_LABEL_CHARS", "LabelStore", "create_label", "delete_draft", "delete_label",
           "draft_row", "relabel_many", "rename_label", "replace_draft"]  # fmt: skip

MAX_LABEL_CHARS = 225  # Gmail's limit on a label name
RESERVED = {"INBOX", "UNREAD", "STARRED", "TRASH", "SPAM", "SENT", "DRAFT", "IMPORTANT", "CHAT", "ARCHIVE"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@runtime_checkable
class LabelStore(Protocol):
    """What a store does for label management beyond `relabel`."""

    strips_on_drop: bool  # True when `drop_label` also takes the label off its messages (Gmail)

    def make_label(self, name: str) -> None: ...
    def rename_label(self, name: str, new_name: str) -> None: ...
    def drop_label(self, name: str) -> None: ...


def draft_row(store: MailStore, draft_id: str) -> IndexRow:
    row = store.journal.row(draft_id)
    if row is None or "DRAFT" not in store.labels(row):
        raise NotFoundError(f"no draft with id {draft_id!r}: take draft ids from list_drafts")
    return row


def replace_draft(store: MailStore, draft_id: str, raw: bytes, message_id: str) -> DraftRef:
    old = draft_row(store, draft_id)
    new_id = store.deliver("DRAFT", raw)
    store.remove(old)
    store.scan()
    return DraftRef(draft_id=new_id, message_id=message_id)


def delete_draft(store: MailStore, draft_id: str) -> None:
    store.remove(draft_row(store, draft_id))
    store.scan()


def relabel_many(store: MailStore, ids: list[str], add: set[str], remove: set[str]) -> LabelChanges:
    """One label change on many messages after one sync; a store with `relabel_many` (Gmail's
    `messages.batchModify`) does them in one request."""
    store.scan()
    changes, rows = LabelChanges(), []
    for id in ids:
        row = store.journal.row(id)
        if row is None:
            changes.missing[id] = f"no message with id {id!r}: take ids from search_messages or list_changes"
        else:
            rows.append(row)
    many = getattr(store, "relabel_many", None)
    if many is not None:
        changes.labels.update(many(rows, add, remove))
    else:
        changes.labels.update((row.id, store.relabel(row, add, remove)) for row in rows)
    return changes


def _label_store(store: MailStore) -> LabelStore:
    if not isinstance(store, LabelStore):
        raise MailProviderError(f"this provider ({type(store).__name__}) cannot manage labels")
    return store


def _names(store: MailStore) -> dict[str, str]:
    """Every label in use or defined, by its case-folded name."""
    names = {name.casefold(): name for name in store.folder_labels()}
    for row in store.journal.rows().values():
        names.update((label.casefold(), label) for label in store.labels(row))
    return names


def _existing(store: MailStore, name: str) -> str:
    found = _names(store).get(name.strip().casefold())
    if found is None:
        raise NotFoundError(f"there is no label {name!r}: take names from list_labels")
    if found.upper() in RESERVED or found.upper().startswith("CATEGORY_"):
        raise MailProviderError(f"{found} is a system label: only user labels can be renamed or deleted")
    return found


def _new_name(store: MailStore, name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_LABEL_CHARS or _CONTROL.search(name):
        raise MailProviderError(
            f"a label name needs 1 to {MAX_LABEL_CHARS} characters without control characters, got {name!r}"
        )
    if name.upper() in RESERVED or name.upper().startswith("CATEGORY_"):
        raise MailProviderError(f"{name} is a system label name: choose another")
    if name.casefold() in _names(store):
        raise MailProviderError(
            f"label {_names(store)[name.casefold()]!r} already exists: choose another name"
        )
    return name


def create_label(store: MailStore, name: str) -> Label:
    name = _new_name(store, name)
    _label_store(store).make_label(name)
    store.scan()
    return Label(id=name, name=name, type="user")


def rename_label(store: MailStore, name: str, new_name: str) -> Label:
    labels = _label_store(store)
    old, new = _existing(store, name), _new_name(store, new_name)
    labels.rename_label(old, new)
    store.scan()
    carried = [row for row in store.journal.rows().values() if old in row.extra_labels]
    for row in carried:
        store.relabel(row, {new}, {old})
    total = sum(new in store.labels(row) for row in store.journal.rows().values())
    return Label(id=new, name=new, type="user", total=total)


def delete_label(store: MailStore, name: str) -> int:
    labels = _label_store(store)
    old = _existing(store, name)
    store.scan()
    carried = [row for row in store.journal.rows().values() if old in store.labels(row)]
    if not labels.strips_on_drop:
        for row in carried:
            store.relabel(row, set(), {old})
    labels.drop_label(old)
    store.scan()
    return len(carried)
