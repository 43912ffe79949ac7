"""The checks `doctor` runs by talking to things: each server, the accounts behind them, the embedder
and the model endpoint.

A server is started (or its URL opened) just for the check, with the command Pepper itself would run,
and asked for its tools; the mail and calendar servers are then asked to list labels and calendars,
which makes them log in to the account. The embedder is checked by one semantic search through the
context store; the model by the endpoint's model list (or, where it has none, a one-token answer).
"""

from __future__ import annotations

import tempfile
import time
from email.utils import parsedate_to_datetime
from typing import TextIO

import anyio
import httpx
from fastmcp import Client
from fastmcp.exceptions import ToolError

from orchestrator.accounts.names import server_kind
from orchestrator.config import OrchestratorSettings
from orchestrator.health.account import STATUS_TOOL, Severity, judge
from orchestrator.health.checks import Check, Level
from orchestrator.llm import ChatMessage, ChatModel, LLMError
from orchestrator.mcp_clients import ServerSpec

__all__ = ["ACCOUNT_PROBES", "clock_references", "probe_clock", "probe_model", "probe_server"]

ACCOUNT_PROBES = {"gmail": "list_labels", "calendar": "list_calendars"}
"""A read-only call that needs the account itself: the login happens here, not at start-up."""
SERVER_SECONDS = 60.0
MODEL_SECONDS = 30.0
CLOCK_SECONDS = 10.0
CLOCK_WARN_SECONDS = 60.0
CLOCK_FAIL_SECONDS = 300.0  # OAuth providers refuse tokens beyond about five minutes of skew


async def probe_server(spec: ServerSpec, seconds: float = SERVER_SECONDS) -> list[Check]:
    """Start `spec`'s server, list its tools, and for mail and calendar reach the account."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:  # the server's log: shown when it fails
        found = await _probe(spec, seconds, errlog)
        if found[0].level is Level.FAIL and (said := _last_lines(errlog)):
            found[0] = Check(
                found[0].name, Level.FAIL, f"{found[0].detail}; its log ends: {said}", found[0].fix
            )
        return found


async def _probe(spec: ServerSpec, seconds: float, errlog: TextIO) -> list[Check]:
    started = time.monotonic()
    transport = spec.transport(errlog)
    try:
        with anyio.fail_after(seconds):
            async with Client(transport) as client:
                tools = await client.list_tools()
                found = [_server_check(spec, len(tools), time.monotonic() - started)]
                if spec.name == "context":
                    found.append(await _embedder_check(client))
                if probe := ACCOUNT_PROBES.get(server_kind(spec.name)):  # gmail.work: a gmail server
                    reports = any(tool.name == STATUS_TOOL for tool in tools)
                    found.append(await _account_check(spec.name, client, probe, reports))
                return found
    except TimeoutError:
        return [Check(f"server {spec.name}", Level.FAIL, f"did not start within {seconds:.0f} s", _fix(spec))]
    except Exception as exc:  # any way a server fails to start is reported the same way
        return [Check(f"server {spec.name}", Level.FAIL, f"does not start: {_reason(exc)}", _fix(spec))]


def _server_check(spec: ServerSpec, tools: int, seconds: float) -> Check:
    where = spec.url or " ".join(spec.command[1:3] if len(spec.command) > 2 else spec.command)
    return Check(f"server {spec.name}", Level.OK, f"starts in {seconds:.1f} s, {tools} tools ({where})")


async def _account_check(name: str, client: Client, tool: str, reports: bool) -> Check:
    """Call `tool`, which needs the account; then, when the server `reports` its account's health
    (`orchestrator.health.account`), let a refused credential, a lapsed watch or a token about to
    end decide the verdict and the fix."""
    try:
        result = await client.call_tool(tool, {})
        data = result.structured_content or {}
        count = len(next((value for value in data.values() if isinstance(value, list)), []))
        found = Check(f"account {name}", Level.OK, f"answers ({tool}: {count})")
    except ToolError as exc:
        found = Check(f"account {name}", Level.FAIL, str(exc), "run `pepper-orchestrator setup` again for it")
    if not reports:
        return found
    report = (await client.call_tool(STATUS_TOOL, {})).structured_content or {}
    findings = judge(report)
    if not findings:
        return found
    level = Level.FAIL if findings[0].severity is Severity.RED else max(found.level, Level.WARN, key=_rank)
    details = "; ".join(finding.reason for finding in findings)
    return Check(f"account {name}", level, details, findings[0].fix)


def _rank(level: Level) -> int:
    return [Level.OK, Level.INFO, Level.WARN, Level.FAIL].index(level)


async def _embedder_check(client: Client) -> Check:
    try:
        await client.call_tool("search", {"text": "pepper doctor", "mode": "semantic", "limit": 1})
    except ToolError as exc:
        text = str(exc)
        if text.startswith("semantic search is off:") and (
            "'none'" in text or "no embedder is configured" in text
        ):
            return Check(
                "embedder", Level.INFO, "off (PEPPER_CONTEXT_EMBEDDER=none): search matches words only"
            )
        return Check("embedder", Level.FAIL, text, "set PEPPER_CONTEXT_EMBEDDER=none to search by words only")
    return Check("embedder", Level.OK, "loads and answers a semantic search")


async def probe_model(settings: OrchestratorSettings, seconds: float = MODEL_SECONDS) -> Check:
    """Whether the endpoint answers and serves the configured model; rules mode when there is none."""
    if not settings.llm_mode:
        return Check("model", Level.INFO, "rules mode: no OPENAI_BASE_URL or OPENAI_API_KEY")
    config = settings.llm().model_copy(update={"max_retries": 0, "timeout_seconds": seconds})
    endpoint = config.base_url or "api.openai.com"
    model = ChatModel(config)
    try:
        with anyio.fail_after(seconds):
            served = await model.served_models()
            if served is None:
                await model.complete([ChatMessage(role="user", content="ping")])
                return Check("model", Level.OK, f"{endpoint} answers as {config.model} (it lists no models)")
    except (LLMError, TimeoutError) as exc:
        return Check(
            "model", Level.FAIL, f"{endpoint} does not answer: {_reason(exc)}", "check OPENAI_BASE_URL"
        )
    finally:
        await model.close()
    if config.model not in served:
        listed = ", ".join(served[:8]) + (" ..." if len(served) > 8 else "")
        return Check(
            "model",
            Level.FAIL,
            f"{endpoint} does not serve {config.model}; it serves {listed}",
            "set PEPPER_MODEL",
        )
    return Check("model", Level.OK, f"{endpoint} serves {config.model}")


def _last_lines(errlog: TextIO, count: int = 2) -> str:
    errlog.seek(0)
    lines = [line.strip() for line in errlog.read().splitlines() if line.strip()]
    return " | ".join(lines[-count:])


def _fix(spec: ServerSpec) -> str:
    if spec.url:
        return f"is the server at {spec.url} running, and its token set?"
    return f"run it by hand to see why: {' '.join(spec.command)}"


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__


async def probe_clock(urls: list[str], seconds: float = CLOCK_SECONDS) -> Check:
    """This machine's clock against the `Date` header of the first of `urls` that answers.

    OAuth tokens, TLS certificates, reminders and "due tomorrow" all go wrong on a clock that is off;
    mail servers speak no time, so the HTTP services Pepper uses (the model endpoint, Google's APIs,
    a CalDAV server) are asked instead."""
    if not urls:
        return Check("clock", Level.INFO, "no HTTP service configured to compare the clock with")
    async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as client:
        for url in urls:
            try:
                sent = time.time()
                response = await client.head(url)
                received = time.time()
            except httpx.HTTPError:
                continue
            if not (stamp := response.headers.get("date")):
                continue
            theirs = parsedate_to_datetime(stamp).timestamp()
            skew = (sent + received) / 2 - theirs  # > 0: this machine is ahead
            host = httpx.URL(url).host
            said = f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} {host}"
            if abs(skew) > CLOCK_FAIL_SECONDS:
                return Check("clock", Level.FAIL, said, "turn on time sync (timedatectl set-ntp true)")
            if abs(skew) > CLOCK_WARN_SECONDS:
                return Check("clock", Level.WARN, said, "turn on time sync (timedatectl set-ntp true)")
            return Check("clock", Level.OK, f"within {max(1.0, abs(skew)):.0f} s of {host}")
    return Check("clock", Level.INFO, "no configured HTTP service answered with its time")


def clock_references(settings: OrchestratorSettings) -> list[str]:
    """The HTTP services in the configuration whose clocks count: model endpoint, servers' URLs."""
    urls = [settings.openai_base_url] if settings.openai_base_url else []
    for name in ("gmail", "calendar", "context", "notify"):
        config = settings.server(name)
        urls += [config.url] if config.url else []
        urls += [value for key, value in config.env.items() if key.endswith(("_URL", "_ENDPOINT", "_URI"))]
    return [url for url in urls if url.startswith(("http://", "https://"))]
