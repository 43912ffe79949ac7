"""The CLI's view of a running Pepper, through its web API on the UI port (`status`, `approve`,
`profile`, `ask`). A running Pepper writes where its UI listens to `ui.json` in its data dir, so the
CLI finds it from `--data-dir` (or the config) even on another port; `--port` says it outright.
Answers are printed as plain text: the markdown the chat shows is taken out."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from typing import Any

import httpx

from orchestrator.config import OrchestratorSettings
from orchestrator.profile import render_profile
from orchestrator.trust.actions import PendingAction
from orchestrator.trust.cards import card_text

__all__ = [
    "announce",
    "ask",
    "correct",
    "decide",
    "edit_profile",
    "locate",
    "plain",
    "show_profile",
    "status",
    "withdraw",
]

RUNNING = "ui.json"
ASK_MAX_CHARS = 20_000  # what the UI's API accepts for one message (web.api.ChatIn)


def announce(settings: OrchestratorSettings) -> None:
    """Record, in the data dir, where this Pepper's UI listens (for the CLI)."""
    place = {"host": settings.ui_host, "port": settings.ui_port, "pid": os.getpid()}
    (settings.data_dir / RUNNING).write_text(json.dumps(place), encoding="utf-8")


def withdraw(settings: OrchestratorSettings) -> None:
    path = settings.data_dir / RUNNING
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def locate(settings: OrchestratorSettings) -> OrchestratorSettings:
    """`settings` with the UI host and port of the Pepper running on its data dir, when one is."""
    try:
        place = json.loads((settings.data_dir / RUNNING).read_text(encoding="utf-8"))
        os.kill(int(place["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return settings
    return settings.model_copy(update={"ui_host": place["host"], "ui_port": int(place["port"])})


def plain(text: str) -> str:
    """Chat markdown as terminal text: no bold, italics or code marks."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


def api_address(settings: OrchestratorSettings) -> tuple[str, dict[str, str]]:
    """The running Pepper's API base URL and the headers it requires (CSRF, and its token if set)."""
    host = "127.0.0.1" if settings.ui_host in ("0.0.0.0", "::") else settings.ui_host
    headers = {"X-Pepper-CSRF": "1"}
    if settings.ui_token:
        headers["Authorization"] = f"Bearer {settings.ui_token.get_secret_value()}"
    return f"http://{host}:{settings.ui_port}/pepper/api", headers


def _client(settings: OrchestratorSettings) -> httpx.Client:
    base, headers = api_address(settings)
    return httpx.Client(base_url=base, headers=headers, timeout=30)


def _unreachable(settings: OrchestratorSettings) -> SystemExit:
    return SystemExit(
        f"Pepper is not running on {settings.ui_host}:{settings.ui_port}; start it with `pepper-orchestrator run`"
    )


def status(settings: OrchestratorSettings) -> str:
    try:
        with _client(settings) as client:  # the servers first, from memory: a dead one shows at once
            state = client.get("/status").raise_for_status().json()
            response = client.get("/state")
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    snapshot = response.json()
    if response.status_code == 503 and "status" in snapshot:  # the context store is down: say so
        return "\n".join([*_status_lines(state), snapshot["error"]])
    response.raise_for_status()
    lines = _status_lines(state)
    lines.append(
        f"scheduler: {state['steps']} steps, {state['queued']} queued, {len(state['in_flight'])} tool calls in flight"
    )
    if state.get("mail_sync"):
        lines.append(state["mail_sync"]["text"])
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
    for source in state.get("sources", []):
        lines.append(f"source {source['name']}: {source['state']} ({source['reason']})" + _caught_up(source))
        lines += [f"  → {source['fix']}"] if source.get("fix") else []
        lines += [f"  {detail}" for detail in source.get("details") or []]
    lines += [
        f"worker {w['name']}: " + ("available" if w["available"] else f"unavailable ({w['why']})")
        for w in state.get("custom_workers") or []
    ]
    return lines


def _caught_up(source: dict[str, Any]) -> str:
    """After a stop: how far behind the source was and when it caught up."""
    behind, at = source.get("behind_seconds"), source.get("caught_up_at")
    if behind is None or at is None or behind < 3600:
        return ""
    when = datetime.fromtimestamp(at).astimezone().strftime("%a %H:%M")
    return f", {behind / 3600:.0f} h behind after the last stop, caught up {when}"


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
    return plain(render_profile(_profile_call(settings, None)["profile"]))


def ask(settings: OrchestratorSettings, text: str) -> str:
    """The running Pepper's conversation engine on `text`: its reply, as plain text."""
    if not text.strip():
        raise SystemExit(
            'pepper-orchestrator ask: nothing to ask: write a request, e.g. ask "what\'s on tomorrow?"'
        )
    if len(text) > ASK_MAX_CHARS:
        raise SystemExit(
            f"pepper-orchestrator ask: the request is {len(text)} characters long; ask in at most {ASK_MAX_CHARS}"
        )
    try:
        with _client(settings) as client:
            response = client.post("/ask", json={"text": text})
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    answer = response.json()
    if response.status_code != 200:
        raise SystemExit(f"pepper-orchestrator ask: {answer.get('error', response.text)}")
    return plain(answer["reply"])


def correct(settings: OrchestratorSettings, kind: str, target: str) -> str:
    """A correction of the Now list: `target` is a sender when it is an address, else a mail id."""
    body = {"kind": kind, ("sender" if "@" in target and " " not in target else "message_id"): target}
    try:
        with _client(settings) as client:
            response = client.post("/corrections", json=body)
    except httpx.ConnectError as exc:
        raise _unreachable(settings) from exc
    answer = response.json()
    if response.status_code != 200:
        raise SystemExit(f"pepper-orchestrator correct: {answer.get('error', response.text)}")
    moved = answer["moved"]
    return f"{answer['message']} ({moved} open mail{'s' if moved != 1 else ''} ranked anew)"


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
