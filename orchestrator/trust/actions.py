"""Pending actions, their digest and their signature, and where they are kept.

A `PendingAction` is exactly one call (`server`, `tool`, `arguments`) with its `digest`: sha256 over
the canonical JSON of those three, so "what the user saw" has one name. The orchestrator signs every
record it writes with an HMAC (SHA-256) keyed by a secret in its data directory (`trust/approval.key`,
mode 0600, created on first use, never in the context store). The context store is shared with other
MCP hosts, so a record that does not carry a valid signature was not written by this orchestrator:
`ContextActionStore` drops it as forged (logged, never listed, never run). Records of the format
before signatures (no digest, no signature) load as `verification="unverified"`: listed with that
mark, but approving one only re-queues it as a new signed action for the user to look at again.

A signature proves who wrote a record, not that it is the latest: another host could write back an
older copy this Pepper signed (pending, from before the user decided). Each save raises `version`,
and the orchestrator's own `ActionLedger` (outside the context store) keeps the latest version: an
older copy is a replay, never listed or run, and the latest record is put back in its place. The
signature covers the record exactly as stored, so records signed before a field was added still
verify. `likeness_of` names what a call does up to case and spacing of its text and the order and
case of its recipients: requests alike in that sense collapse into one card.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, ValidationError

from orchestrator.context_items import ContextItems
from orchestrator.trust.ledger import ActionLedger, LedgerEntry
from orchestrator.trust.provenance import Provenance

__all__ = [
    "DRAFTED",
    "ActionChanged",
    "NAMESPACE",
    "ContextActionStore",
    "DraftRecord",
    "PendingAction",
    "Signer",
    "digest_of",
    "likeness_of",
]

logger = logging.getLogger(__name__)

NAMESPACE = "actions.pending"
DRAFTED = "actions.drafted"
KEY_FILE = Path("trust") / "approval.key"
Status = Literal["pending", "approved", "rejected", "done", "failed", "expired"]
Verification = Literal["signed", "unverified"]


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def digest_of(server: str, tool: str, arguments: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the call: the name of what the user saw."""
    return hashlib.sha256(canonical({"server": server, "tool": tool, "arguments": arguments})).hexdigest()


LOOSE_TEXT = {"subject", "body", "title", "description", "text", "message"}
RECIPIENTS = {"to", "cc", "bcc", "attendees"}


def _loose(key: str, value: Any) -> Any:
    """`value` as it counts for likeness: text up to case and spacing, recipients as a set."""
    if isinstance(value, dict):
        return {inner: _loose(inner, item) for inner, item in value.items()}
    if key in LOOSE_TEXT and isinstance(value, str):
        return " ".join(value.split()).casefold()
    if key in RECIPIENTS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted({v.strip().casefold() for v in value})
    return value


def likeness_of(server: str, tool: str, arguments: dict[str, Any]) -> str:
    """sha256 of the call with its text and recipients loosened: near-identical requests share it."""
    return digest_of(server, tool, _loose("", arguments))


def _like_tag(likeness: str) -> str:
    return f"like:{likeness[:32]}"


def _now() -> datetime:
    return datetime.now(UTC)


class ActionChanged(ValueError):
    """An action was saved by another step since this one read it (approved while being counted)."""


class PendingAction(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    server: str
    tool: str
    arguments: dict[str, Any]
    digest: str = Field("", description="sha256 of server, tool and arguments; empty in old records")
    requested_by: str = Field(description="'user', 'scheduler' or 'worker:<name>'")
    reason: str = Field("", description="Why the capability model gated it")
    provenance: Provenance | None = None
    preview: dict[str, Any] = Field(default_factory=dict, description="What it would do, readably")
    origin_known_sender: bool | None = Field(
        None, description="False when it came from mail of someone the user never wrote to"
    )
    count: int = Field(1, description="How many identical requests this card stands for")
    status: Status = "pending"
    result: str | None = None
    note: str | None = Field(None, description="Why it expired, or what replaced it")
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime | None = None
    decided_at: datetime | None = None
    expires_at: datetime | None = Field(None, description="When its moment passes (an event's end)")
    announced_at: datetime | None = Field(None, description="When the long wait was announced")
    edited: bool = Field(False, description="The user changed the arguments")
    version: int = Field(0, description="Raised by every save; only the latest signed version is believed")
    signature: str = ""
    verification: Verification = Field("signed", exclude=True)

    def describe(self) -> str:
        return f"{self.server}.{self.tool}({json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)})"

    def recompute_digest(self) -> str:
        return digest_of(self.server, self.tool, self.arguments)

    def likeness(self) -> str:
        return likeness_of(self.server, self.tool, self.arguments)


class DraftRecord(BaseModel):
    """A draft Pepper saved in the user's mailbox: what it says and why it was written."""

    draft_id: str
    drafted_by: str = Field(description="'worker:<name>'")
    preview: dict[str, Any] = Field(default_factory=dict)
    provenance: Provenance | None = None
    created_at: datetime = Field(default_factory=_now)
    signature: str = ""


class Signer:
    """HMAC-SHA256 over an action's record, with a key only this orchestrator can read."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the approval key must be at least 32 bytes")
        self._key = key

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> Signer:
        """The key in `data_dir/trust/approval.key`, created (0600) on first use."""
        path = data_dir / KEY_FILE
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if path.stat().st_mode & 0o077:
                logger.warning("%s was readable by others; making it private", path)
                path.chmod(0o600)
            return cls(bytes.fromhex(path.read_text().strip()))
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        return cls(bytes.fromhex(path.read_text().strip()))

    def sign(self, record: PendingAction | DraftRecord) -> str:
        return self._mac(record.model_dump(mode="json", exclude={"signature", "verification"}))

    def verify(self, data: Any) -> bool:
        """Whether `data`, a record as stored, carries this key's signature over all else it holds."""
        if not isinstance(data, dict) or not isinstance(data.get("signature"), str):
            return False
        signed = {key: value for key, value in data.items() if key != "signature"}
        return bool(data["signature"]) and hmac.compare_digest(data["signature"], self._mac(signed))

    def _mac(self, signed: dict[str, Any]) -> str:
        return hmac.new(self._key, canonical(signed), hashlib.sha256).hexdigest()


class ContextActionStore:
    """Pending actions in the context store (`actions.pending`, tagged with their status), signed,
    each the latest version the ledger knows."""

    def __init__(self, items: ContextItems, signer: Signer, ledger: ActionLedger | None = None) -> None:
        self._items = items
        self._signer = signer
        self._ledger = ledger if ledger is not None else ActionLedger()
        self._saving = anyio.Lock()
        self.forged_ids: set[str] = set()
        self.replayed_ids: set[str] = set()

    async def save(self, action: PendingAction) -> None:
        """Sign and store `action` as the next version of what was read (a new one: version 1).
        Raises `ActionChanged` when it was saved by someone else since it was read."""
        async with self._saving:
            known = self._ledger.latest(action.id)
            if known is not None and known.version != action.version:
                if action.version:
                    raise ActionChanged(
                        f"action {action.id} changed since it was read (version {action.version}, now "
                        f"{known.version}); nothing was saved: look at it again"
                    )
                action.id = uuid.uuid4().hex[:12]  # a new action on the id of a deleted one
                known = None
            action.version += 1
            action.updated_at = _now()
            action.signature = self._signer.sign(action)
            record = action.model_dump(mode="json")
            await self._put(record)  # the store first: a crash before the ledger leaves a newer copy
            self._ledger.record(action.id, action.version, action.signature, record)

    async def _put(self, record: dict[str, Any]) -> None:
        text = f"{record['server']}.{record['tool']}: {record['preview'].get('subject') or record['reason']}"
        like = _like_tag(likeness_of(record["server"], record["tool"], record["arguments"]))
        await self._items.put(
            NAMESPACE, record["id"], record, text, [record["status"], record["server"], like]
        )

    async def load(self, action_id: str) -> PendingAction | None:
        item = await self._items.get(NAMESPACE, action_id)
        return None if item is None else await self._believed(item.id, item.data)

    async def pending(self) -> list[PendingAction]:
        items = await self._items.query([NAMESPACE], tags=["pending"], limit=1000)
        believed = [await self._believed(item.id, item.data) for item in items]
        return [action for action in believed if action is not None and action.status == "pending"]

    async def alike(self, likeness: str) -> list[PendingAction]:
        """Pending actions with this `likeness_of` (found by their tag, not by reading them all)."""
        items = await self._items.query([NAMESPACE], tags=["pending", _like_tag(likeness)], limit=20)
        believed = [await self._believed(item.id, item.data) for item in items]
        return [a for a in believed if a is not None and a.status == "pending" and a.likeness() == likeness]

    async def save_draft(self, record: DraftRecord) -> None:
        record.signature = self._signer.sign(record)
        text = f"Drafted by Pepper: {record.preview.get('subject', '')}"
        await self._items.put(DRAFTED, record.draft_id, record.model_dump(mode="json"), text, ["drafted"])

    async def draft(self, draft_id: str) -> DraftRecord | None:
        """The record of a draft Pepper wrote, or None (none, or not signed by this Pepper)."""
        item = await self._items.get(DRAFTED, draft_id)
        if item is None or not self._signer.verify(item.data):
            return None
        try:
            return DraftRecord.model_validate(item.data)
        except ValidationError:
            return None

    async def _believed(self, item_id: str, data: Any) -> PendingAction | None:
        """The stored action if it is this orchestrator's latest version of it; else the latest
        version the ledger holds, put back in the store (a replayed or rewritten copy); None when the
        record is not Pepper's and the ledger knows no action of that id."""
        action = self._checked(item_id, data)
        known = self._ledger.latest(item_id)
        if action is not None and self._latest(action, data, known):
            return action
        if known is None:
            return action
        if item_id not in self.replayed_ids:
            stored = f"version {action.version}" if action is not None else "a record Pepper did not sign"
            logger.warning(
                "pending action %r: the store holds %s, not the latest (version %s); putting it back",
                item_id, stored, known.version,
            )  # fmt: skip
        self.replayed_ids.add(item_id)
        await self._put(known.record)
        return self._checked(item_id, known.record)

    def _latest(self, action: PendingAction, data: Any, known: LedgerEntry | None) -> bool:
        """Whether `action` is the latest version (recording it when the ledger lags behind: an
        action saved before the ledger existed, or a crash between the store and the ledger)."""
        if action.verification != "signed":
            return known is None
        if known is None or action.version > known.version:
            self._ledger.record(action.id, action.version, action.signature, dict(data))
            return True
        return (action.version, action.signature) == (known.version, known.signature)

    def _checked(self, item_id: str, data: Any) -> PendingAction | None:
        """The action if this orchestrator wrote it (or an unsigned old record, marked); else None."""
        try:
            action = PendingAction.model_validate(data)
        except ValidationError:
            self._forged(item_id, "not an action record")
            return None
        if action.id != item_id:
            self._forged(item_id, f"it claims the id {action.id!r}")
            return None
        if not action.signature and not action.digest and isinstance(data, dict) and "digest" not in data:
            action.verification = "unverified"
            return action
        if not self._signer.verify(data) or action.digest != action.recompute_digest():
            self._forged(item_id, "its signature does not match")
            return None
        return action

    def _forged(self, item_id: str, why: str) -> None:
        if item_id not in self.forged_ids:
            logger.warning("ignoring pending action %r written by someone else: %s", item_id, why)
        self.forged_ids.add(item_id)
