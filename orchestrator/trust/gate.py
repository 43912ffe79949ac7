"""The gated runner: what a worker calls instead of a tool, in the orchestrator's tool layer.

Each call goes through, in order: the context-store scope of the worker (`trust.scope`; a refusal is
a `ScopeError` the model sees), the capability model (`trust.capabilities`), and the outbound data
rules (`trust.outbound`) over its arguments with the run's taint. A read or local write runs; an
outward call becomes a pending action, with what the run read as its provenance and the model's
words as its reason; a notification that is allowed goes out with its links inert. Drafts run and are
recorded in `actions.drafted` with their origin, so a later `send_draft` card can show what it sends.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.accounts.names import server_kind
from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.actions import DraftRecord
from orchestrator.trust.capabilities import Kind, classify
from orchestrator.trust.desk import ApprovalDesk, ToolCaller
from orchestrator.trust.outbound import outbound_verdict, sanitize_notification
from orchestrator.trust.provenance import Provenance, RunLedger, SourceRef, preview, sources_in
from orchestrator.trust.scope import check_context_call

__all__ = ["GatedToolRunner"]

logger = logging.getLogger(__name__)

NOTIFYING = {"send_notification", "schedule_reminder"}
TIMELY = {"reply", "send_message", "forward", "respond_to_invite", "update_event"}


class GatedToolRunner:
    """Runs one worker's calls through the trust boundary; one instance per worker run."""

    def __init__(
        self,
        call: ToolCaller,
        desk: ApprovalDesk,
        worker: str,
        *,
        task: str = "",
        items: ContextItems | None = None,
        tainted: bool = False,
        extra: Mapping[str, Mapping[str, Kind]] | None = None,
        ui_hosts: Iterable[str] = (),
        origin: Mapping[str, Any] | None = None,
    ) -> None:
        self._call = call
        self._desk = desk
        self.worker = worker
        self._task = task
        self._items = items
        self._extra = extra
        self._ui_hosts = tuple(ui_hosts)
        self.ledger = RunLedger(tainted=tainted or bool((origin or {}).get("signals")))
        self._origin = dict(origin or {})
        self._origin_sources: list[SourceRef] | None = None

    async def __call__(self, tool: RemoteTool, arguments: dict[str, Any], reason: str = "") -> str:
        arguments = dict(arguments)
        if "reason" in arguments and "reason" not in (tool.input_schema.get("properties") or {}):
            reason = f"{reason}\n{arguments.pop('reason')}".strip()
        if tool.server == "context":
            check_context_call(self.worker, tool.name, arguments)
        verdict = classify(tool.server, tool.name, arguments, self._extra)
        rule = outbound_verdict(
            tool.server, tool.name, arguments, tainted=self.ledger.tainted, ui_hosts=self._ui_hosts
        )
        if rule is not None:
            verdict = verdict.at_least(rule)
        if verdict.kind == "outward":
            return await self._queue(tool, arguments, verdict.reason, reason)
        if tool.server == "notify" and tool.name in NOTIFYING:
            arguments = sanitize_notification(arguments, self._ui_hosts)
        output = await self._call(tool, arguments)
        self.ledger.observe(tool.server, tool.name, output)
        if (server_kind(tool.server), tool.name) == ("gmail", "create_draft"):
            await self._record_draft(arguments, output, reason)
        return output

    async def provenance(self, reason: str = "") -> Provenance:
        """Who asked (the user, when the step had a message of theirs), after reading what: the mail
        behind the step's signals that the request names (all of them when no one named any and no
        user asked: they started it), then what this run itself read."""
        if self._origin_sources is None:
            self._origin_sources = await self._resolve_origin()
        messages = self._origin.get("user_messages") or []
        behind = _named(self._origin_sources, [self._task, *messages])
        if not behind and not messages:
            behind = self._origin_sources
        known = {(s.kind, s.id) for s in behind}
        read = [s for s in self.ledger.ranked() if (s.kind, s.id) not in known]
        return Provenance(
            requested_by="user" if messages else f"worker:{self.worker}",
            user_message=messages[-1] if messages else None,
            worker=f"worker:{self.worker}",
            task=self._task or None,
            model_reason=reason[:2000],
            sources=[*behind, *read],
        )

    async def _resolve_origin(self) -> list[SourceRef]:
        """The mail and events behind the signals that led to the task (as Pepper ingested them)."""
        sources: list[SourceRef] = []
        for signal in self._origin.get("signals") or []:
            link = str(signal.get("link") or "")
            scheme, _, item_id = link.partition("://")
            namespace = {"gmail": "raw.email", "calendar": "raw.calendar"}.get(scheme)
            item = (
                await self._items.get(namespace, item_id.split("/", 1)[-1])
                if namespace and self._items
                else None
            )
            found = sources_in(item.data) if item is not None else []
            sources += found or [SourceRef(kind="signal", id=str(signal.get("id") or link),
                                           subject=str(signal.get("summary") or "")[:200])]  # fmt: skip
        return sources

    async def _queue(self, tool: RemoteTool, arguments: dict[str, Any], why: str, reason: str) -> str:
        end = self.ledger.event_end(str(arguments.get("event_id", ""))) or (
            self.ledger.latest_event_end() if tool.name in TIMELY else None
        )
        provenance = await self.provenance(reason)
        details, drafted_after = await self._draft_details(tool, arguments)
        known = {(s.kind, s.id) for s in provenance.sources}
        provenance.sources += [s for s in drafted_after if (s.kind, s.id) not in known]
        action = await self._desk.request(
            tool.server, tool.name, arguments, provenance, reason=why, expires_at=end, details=details
        )
        return (
            f"Queued for the user's approval as action {action.id} ({why}): {action.describe()}. "
            "It has NOT been done; it runs only if the user approves it."
        )

    async def _draft_details(
        self, tool: RemoteTool, arguments: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[SourceRef]]:
        """For sending a draft: what Pepper's record says it holds, who drafted it, and what had been
        read when it was drafted (absent: a draft Pepper did not write, whose content is not known)."""
        if (server_kind(tool.server), tool.name) != ("gmail", "send_draft"):
            return None, []
        record = await self._desk.drafted(str(arguments.get("draft_id", "")))
        if record is None:
            return {"drafted_by": None, "note": "not a draft Pepper wrote: its content is not known here"}, []
        shown = {k: v for k, v in record.preview.items() if k not in ("kind", "action")}
        details = {**shown, "drafted_by": record.drafted_by, "drafted_at": record.created_at.isoformat()}
        return details, record.provenance.sources if record.provenance else []

    async def _record_draft(self, arguments: dict[str, Any], output: str, reason: str) -> None:
        try:
            draft_id = str(json.loads(output)["draft_id"])
        except (ValueError, KeyError, TypeError):
            return
        record = DraftRecord(
            draft_id=draft_id,
            drafted_by=f"worker:{self.worker}",
            preview=preview("gmail", "create_draft", arguments),
            provenance=await self.provenance(reason),
        )
        await self._desk.record_draft(record)


def _named(sources: list[SourceRef], texts: list[str]) -> list[SourceRef]:
    """The sources whose id appears, as a word, in one of `texts` (the task, the user's words)."""
    said = "\n".join(texts)
    return [s for s in sources if s.id and re.search(rf"(?<![\w-]){re.escape(s.id)}(?![\w-])", said)]
