"""The approval desk: the only code that creates, changes or runs a pending action.

`request` files an outward call with its provenance, preview and expiry; an identical pending call,
or one alike up to the case and spacing of its text and the order of its recipients (the same
`likeness_of`), is not filed twice: the waiting card's `count` goes up, and what it runs stays what
it shows. `approve(id, digest=...)` runs exactly
the stored, signed arguments, after checking that the digest the user saw is the stored one; the
user's edit (`edited_arguments`) is the only way to change them, and produces a new digest, returned
on the action. Deciding is one at a time: an action approved twice at once runs once, and a decided
one (or an older copy of it written back, see `ContextActionStore`) can never be approved again. The
sender of each mail behind a card is judged as triage judges it (`sender_trust`: the Sent folder and
the receiving servers' authentication results, not the From alone). `sweep` expires actions whose moment has passed (an answer about a meeting that is
over) and announces, once, actions that have waited longer than `remind_after`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from orchestrator.feeds.mail import UserProfile
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.actions import (
    ActionChanged,
    ContextActionStore,
    DraftRecord,
    PendingAction,
    digest_of,
    likeness_of,
)
from orchestrator.trust.provenance import Provenance, judge_sender, preview

__all__ = ["ApprovalDesk", "StaleDigest", "UnverifiedAction"]

ToolCaller = Callable[[RemoteTool, dict[str, Any]], Awaitable[str]]
Announce = Callable[[str, str, str], Awaitable[None]]
"""(title, body, dedupe key): tells the user on their own channels."""


class StaleDigest(ValueError):
    """The user approved a version of the action that is not the stored one."""


class UnverifiedAction(ValueError):
    """An unsigned record (older Pepper, or someone else): it was re-queued for a fresh look."""


class ApprovalDesk:
    def __init__(
        self,
        store: ContextActionStore,
        call: ToolCaller,
        tools: dict[tuple[str, str], RemoteTool],
        *,
        profile: Callable[[], UserProfile | None] = lambda: None,
        announce: Announce | None = None,
        remind_after: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._call = call
        self._tools = tools
        self._profile = profile
        self._announce = announce
        self.remind_after = remind_after
        self._clock = clock
        self._deciding = anyio.Lock()  # filing, counting, approving and rejecting: one at a time

    async def request(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        provenance: Provenance,
        *,
        reason: str = "",
        expires_at: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> PendingAction:
        """File the call for the user's decision (or count it again on its identical card)."""
        action = PendingAction(
            server=server, tool=tool, arguments=arguments, digest=digest_of(server, tool, arguments),
            requested_by=provenance.requested_by, reason=reason, provenance=provenance,
            preview={**preview(server, tool, arguments), **(details or {})}, expires_at=expires_at,
            created_at=self._clock(),
        )  # fmt: skip
        async with self._deciding:  # two identical requests at once make one card counted twice
            return await self._file(action, provenance)

    async def _file(self, action: PendingAction, provenance: Provenance) -> PendingAction:
        waiting = await self._alike(action)
        if waiting is not None:
            return await self._count_again(waiting, provenance)
        if await self._store.load(action.digest[:12]) is None:  # the id follows from what it does, if free
            action.id = action.digest[:12]
        action.origin_known_sender = self._known(action)
        await self._store.save(action)
        return action

    async def _alike(self, action: PendingAction) -> PendingAction | None:
        """The pending card for the same call, or one alike up to case, spacing and recipient order."""
        same = await self._store.load(action.digest[:12])
        if same is not None and same.status == "pending" and same.digest == action.digest:
            return same
        alike = await self._store.alike(likeness_of(action.server, action.tool, action.arguments))
        return next((waiting for waiting in alike if waiting.verification == "signed"), None)

    async def _count_again(self, waiting: PendingAction, provenance: Provenance) -> PendingAction:
        """An identical request: the same card, one more in its count, any new sources added."""
        waiting.count += 1
        if waiting.provenance is not None:
            known = {(s.kind, s.id) for s in waiting.provenance.sources}
            waiting.provenance.sources += [s for s in provenance.sources if (s.kind, s.id) not in known]
        await self._store.save(waiting)
        return waiting

    def _known(self, action: PendingAction) -> bool | None:
        """Whether every mail behind the card is from a trusted sender (each source says why not)."""
        emails = [s for s in (action.provenance.sources if action.provenance else []) if s.kind == "email"]
        senders = [s for s in emails if s.opened] or emails
        profile = self._profile()
        if not senders or profile is None:
            return None
        for source in senders:
            judge_sender(source, profile, action.created_at)
        return all(source.known_sender for source in senders)

    async def approve(
        self, action_id: str, edited_arguments: dict[str, Any] | None = None, *, digest: str | None = None
    ) -> PendingAction:
        """Run the action as the user saw it (`digest`), or as they edited it, and record the outcome."""
        async with self._deciding:  # two approvals at once: the second finds it already approved
            action = await self._pending(action_id)
            if digest is not None and digest != action.digest:
                raise StaleDigest(
                    f"action {action_id} is not what you were shown (digest {digest[:12]}…, stored "
                    f"{action.digest[:12]}…): look at it again before approving"
                )
            tool = self._tools.get((action.server, action.tool))
            if tool is None:
                raise LookupError(
                    f"action {action_id} needs {action.server}.{action.tool}, which is not connected"
                )
            if edited_arguments is not None and edited_arguments != action.arguments:
                action.arguments, action.edited = edited_arguments, True
                action.digest = action.recompute_digest()
                action.preview = preview(action.server, action.tool, edited_arguments)
            action.status, action.decided_at = "approved", self._clock()
            await self._store.save(action)
        if action.recompute_digest() != action.digest:  # nothing but the lines above may change them
            raise StaleDigest(f"action {action_id} changed on its way to execution; nothing was done")
        try:
            action.result = await self._call(tool, action.arguments)
            action.status = "done"
        except Exception as exc:  # the outcome, good or bad, is recorded for the user to see
            action.result, action.status = f"{type(exc).__name__}: {exc}", "failed"
        await self._store.save(action)
        return action

    async def reject(self, action_id: str) -> PendingAction:
        async with self._deciding:
            action = await self._pending(action_id, allow_unverified=True)
            action.status, action.decided_at = "rejected", self._clock()
            await self._store.save(action)
        return action

    async def pending(self) -> list[PendingAction]:
        """Actions waiting for the user, oldest first (expired ones are closed on the way)."""
        waiting = []
        for action in await self._store.pending():
            if action.verification == "signed" and await self._expire(action):
                continue
            waiting.append(action)
        return sorted(waiting, key=lambda action: action.created_at)

    async def record_draft(self, record: DraftRecord) -> None:
        """Keep (signed) what a draft Pepper wrote says and why, for the card that would send it."""
        await self._store.save_draft(record)

    async def drafted(self, draft_id: str) -> DraftRecord | None:
        return await self._store.draft(draft_id)

    async def shown(self, action_id: str) -> PendingAction | None:
        """The action as the UI may show it; None when it is missing or was not written by Pepper."""
        return await self._store.load(action_id)

    async def sweep(self) -> list[PendingAction]:
        """Expire what is past its moment; announce, once, what has waited too long."""
        announced = []
        for action in await self.pending():
            if action.announced_at is not None or action.verification != "signed":
                continue
            if self._clock() - action.created_at < self.remind_after or self._announce is None:
                continue
            hours = (self._clock() - action.created_at).total_seconds() / 3600
            title = (
                f"Waiting for your approval for {hours:.0f} h: {action.preview.get('action', action.tool)}"
            )
            body = f"{_summary(action)}\nSay `pending` in the chat or open Approvals to decide."
            await self._announce(title, body, f"approval-wait-{action.id}")
            action.announced_at = self._clock()
            try:
                await self._store.save(action)
            except ActionChanged:  # decided or counted meanwhile: the next sweep sees it as it is now
                continue
            announced.append(action)
        return announced

    async def _expire(self, action: PendingAction) -> bool:
        if action.expires_at is None or self._clock() < action.expires_at:
            return False
        action.status, action.decided_at = "expired", self._clock()
        action.note = (
            f"expired: its moment passed at {action.expires_at:%Y-%m-%d %H:%M} UTC; nothing was done"
        )
        try:
            await self._store.save(action)
        except ActionChanged:  # changed meanwhile: not listed as it was read
            pass
        return True

    async def _pending(self, action_id: str, allow_unverified: bool = False) -> PendingAction:
        action = await self._store.load(action_id)
        if action is None:
            if self._store.forged_ids and action_id in self._store.forged_ids:
                raise LookupError(f"action {action_id!r} was not written by this Pepper: it is ignored")
            raise LookupError(f"there is no action {action_id!r}")
        if action.status != "pending":
            raise ValueError(f"action {action_id} is already {action.status}")
        if action.verification == "unverified" and not allow_unverified:
            fresh = await self._requeue(action)
            raise UnverifiedAction(
                f"action {action_id} was stored without Pepper's signature (by an older Pepper, or by "
                f"something else); it is queued again as action {fresh.id}: look at it, then approve that"
            )
        if action.verification == "signed" and await self._expire(action):
            raise ValueError(f"action {action_id} {action.note}")
        return action

    async def _requeue(self, old: PendingAction) -> PendingAction:
        provenance = Provenance(requested_by=f"unverified record {old.id} (claimed: {old.requested_by})")
        fresh = PendingAction(
            server=old.server, tool=old.tool, arguments=old.arguments, requested_by=provenance.requested_by,
            digest=digest_of(old.server, old.tool, old.arguments), reason=old.reason, provenance=provenance,
            preview=preview(old.server, old.tool, old.arguments), created_at=self._clock(),
        )  # fmt: skip
        fresh = await self._file(fresh, provenance)
        old.status, old.decided_at, old.note = "rejected", self._clock(), f"replaced by {fresh.id}"
        await self._store.save(old)
        return fresh


def _summary(action: PendingAction) -> str:
    card = action.preview
    parts = [str(card.get(key)) for key in ("to", "subject", "title") if card.get(key)]
    return " — ".join(parts) or action.describe()[:200]
