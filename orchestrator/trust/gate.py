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
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.context_items import ContextItems
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.capabilities import Kind, classify
from orchestrator.trust.desk import ApprovalDesk
from orchestrator.trust.outbound import outbound_verdict, sanitize_notification
from orchestrator.trust.provenance import Provenance, RunLedger, preview
from orchestrator.trust.scope import check_context_call

__all__ = ["DRAFTED", "GatedToolRunner"]

logger = logging.getLogger(__name__)

DRAFTED = "actions.drafted"
NOTIFYING = {"send_notification", "schedule_reminder"}
TIMELY = {"reply", "send_message", "forward", "respond_to_invite", "update_event"}


class GatedToolRunner:
    """Runs one worker's calls through the trust boundary; one instance per worker run."""

    def __init__(
        self,
        call: Any,
        desk: ApprovalDesk,
        worker: str,
        *,
        task: str = "",
        items: ContextItems | None = None,
        tainted: bool = False,
        extra: Mapping[str, Mapping[str, Kind]] | None = None,
        ui_hosts: Iterable[str] = (),
    ) -> None:
        self._call = call
        self._desk = desk
        self.worker = worker
        self._task = task
        self._items = items
        self._extra = extra
        self._ui_hosts = tuple(ui_hosts)
        self.ledger = RunLedger(tainted=tainted)

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
        if (tool.server, tool.name) == ("gmail", "create_draft"):
            await self._record_draft(arguments, output, reason)
        return output

    def provenance(self, reason: str = "") -> Provenance:
        return Provenance(
            requested_by=f"worker:{self.worker}",
            task=self._task or None,
            model_reason=reason[:2000],
            sources=list(self.ledger.sources.values()),
        )

    async def _queue(self, tool: RemoteTool, arguments: dict[str, Any], why: str, reason: str) -> str:
        end = self.ledger.event_end(str(arguments.get("event_id", ""))) or (
            self.ledger.latest_event_end() if tool.name in TIMELY else None
        )
        action = await self._desk.request(
            tool.server, tool.name, arguments, self.provenance(reason), reason=why, expires_at=end
        )
        return (
            f"Queued for the user's approval as action {action.id} ({why}): {action.describe()}. "
            "It has NOT been done; it runs only if the user approves it."
        )

    async def _record_draft(self, arguments: dict[str, Any], output: str, reason: str) -> None:
        if self._items is None:
            return
        try:
            draft_id = str(json.loads(output).get("draft_id"))
        except (ValueError, AttributeError):
            return
        record = {
            "draft_id": draft_id,
            "drafted_by": f"worker:{self.worker}",
            "preview": preview("gmail", "create_draft", arguments),
            "provenance": self.provenance(reason).model_dump(mode="json"),
        }
        text = f"Drafted by Pepper: {record['preview'].get('subject', '')}"
        await self._items.put(DRAFTED, draft_id, record, text)
