"""The CLI's view of a running Pepper, through its web API on the UI port (`status`, `approve`,
`profile`)."""

from __future__ import annotations

from typing import Any

import httpx

from orchestrator.config import OrchestratorSettings
from orchestrator.profile import render_profile
from orchestrator.trust.actions import PendingAction
from orchestrator.trust.cards import card_text

__all__ = ["decide", "edit_profile", "show_profile", "status"]


def _client(settings: OrchestratorSettings) -> httpx.Client:
    host = "127.0.0.1" if settings.ui_host in ("0.0.0.0", "::") else settings.ui_host
    headers = {"X-Pepper-CSRF": "1"}
    if settings.ui_token:
        headers["Authorization"] = f"Bearer {settings.ui_token.get_secret_value()}"
    return httpx.Client(base_url=f"http://{host}:{settings.ui_port}/pepper/api", headers=headers, timeout=30)


def _unreachable(settings: OrchestratorSettings) -> SystemExit:
    return SystemExit(
        f"Pepper is not running on {settings.ui_host}:{settings.ui_port}; start it with `pepper-orchestrator run`"
    )


def status(settings: OrchestratorSettings) -> str:
    try:
        with _client(settings) as client:
            response = client.get("/state")
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    snapshot = response.json()
    if response.status_code == 503 and "status" in snapshot:  # a server is down: say which
        return "\n".join([*_status_lines(snapshot["status"]), snapshot["error"]])
    response.raise_for_status()
    state = snapshot["status"]
    lines = _status_lines(state)
    lines.append(
        f"scheduler: {state['steps']} steps, {state['queued']} queued, {len(state['in_flight'])} tool calls in flight"
    )
    urgent = [s["data"] for s in snapshot["signals"] if s["data"].get("priority") in ("urgent", "high")]
    lines.append(f"signals: {len(snapshot['signals'])} ({len(urgent)} high or urgent)")
    lines.append(f"pending approvals: {len(snapshot['approvals'])}")
    lines += [card_text(PendingAction.model_validate(a)) for a in snapshot["approvals"]]
    return "\n".join(lines)


def _status_lines(state: dict[str, Any]) -> list[str]:
    lines = [f"mode: {state['mode']}" + (f" ({state['model']})" if state["model"] else "")]
    lines += [
        f"server {s['name']}: {s['state']}" + (f" ({s['error']})" if s["error"] else "")
        for s in state["servers"]
    ]
    return lines


def decide(settings: OrchestratorSettings, action_id: str, reject: bool, digest: str | None = None) -> str:
    body: dict[str, Any] = {"decision": "reject" if reject else "approve"}
    if digest:
        body["digest"] = digest
    try:
        with _client(settings) as client:
            response = client.post(f"/approvals/{action_id}", json=body)
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    answer = response.json()
    if response.status_code != 200:
        raise SystemExit(f"pepper-orchestrator approve: {answer.get('error', response.text)}")
    shown = card_text(PendingAction.model_validate(answer))
    return f"{shown}\naction {answer['id']}: {answer['status']}" + (
        f" — {answer['result']}" if answer.get("result") else ""
    )


def show_profile(settings: OrchestratorSettings) -> str:
    return render_profile(_profile_call(settings, None)["profile"])


def edit_profile(settings: OrchestratorSettings, change: dict[str, Any]) -> str:
    """Apply a profile change (`action`, `value`, `to`); returns what changed."""
    return _profile_call(settings, change)["message"]


def _profile_call(settings: OrchestratorSettings, change: dict[str, Any] | None) -> dict[str, Any]:
    try:
        with _client(settings) as client:
            response = client.post("/profile", json=change) if change else client.get("/profile")
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    answer = response.json()
    if response.status_code != 200:
        raise SystemExit(f"pepper-orchestrator profile: {answer.get('error', response.text)}")
    return answer
