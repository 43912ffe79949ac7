"""Reply latency on the demo: the conversation engine answering (reading and acting over MCP) in a
Pepper started in process on freshly generated demo data, in a temporary folder, once its start-up
sync is over. The answers act for real (reminders, drafts, snoozes), which is why the data is
thrown away afterwards. Besides the time, it counts the MCP calls each reply makes (the
conversation's own, through its connections, its background mail-index upkeep included; the
approval desk's are not counted): under load every call costs tens of milliseconds, so the count is
what a change to the engine can lower."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from bench.conversation_eval.corpus import Utterance

__all__ = ["measure_replies"]

MAIL_WAIT_SECONDS = 120


async def measure_replies(utterances: list[Utterance], sample: int, seed: int) -> dict:
    from orchestrator import runtime
    from orchestrator.app import Pepper
    from orchestrator.config import OrchestratorSettings

    chosen = random.Random(seed).sample(utterances, min(sample, len(utterances)))
    os.environ["PEPPER_CONTEXT_EMBEDDER"] = "none"  # the servers inherit it: no model to load
    with tempfile.TemporaryDirectory(prefix="pepper-bench-") as folder:
        settings = OrchestratorSettings(
            data_dir=Path(folder) / "demo", openai_api_key=None, openai_base_url=None
        )
        settings = runtime.prepare_data(settings, demo=True)
        pepper = Pepper(settings)
        try:
            async with anyio.create_task_group() as task_group:
                await task_group.start(pepper.run)
                await _wait_for_mail(pepper)
                counted = _count_calls(pepper.conversation.services)
                timings, failures, intents, calls = await _answer_all(pepper, chosen, counted)
                task_group.cancel_scope.cancel()
        finally:
            await pepper.aclose()
    ordered = sorted(timings)
    return {
        "replies": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
        "errors": failures,
        "calls_mean": round(statistics.mean(calls), 2),
        "calls_p95": sorted(calls)[int(0.95 * (len(calls) - 1))],
        "slowest": [
            f"{intent} {ms:.0f} ms"
            for ms, intent in sorted(zip(timings, intents, strict=False), reverse=True)[:8]
        ],
    }


async def _wait_for_mail(pepper) -> None:
    """Until the start-up sync is over: the triaged mail stops growing for three looks in a row."""
    counts: list[int] = []
    with anyio.fail_after(MAIL_WAIT_SECONDS):
        while len(counts) < 3 or counts[-1] == 0 or len(set(counts[-3:])) > 1:
            counts.append(len(await pepper.items.query(["signals.email"], limit=1000)))
            await anyio.sleep(1.0)


class _Counted:
    """A connection that counts the tool calls made through it."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.calls = 0

    async def call_tool(self, name: str, arguments: dict):
        self.calls += 1
        return await self.connection.call_tool(name, arguments)

    def __getattr__(self, name: str):
        return getattr(self.connection, name)


def _count_calls(services) -> dict[str, _Counted]:
    from orchestrator.context_items import ContextItems

    counted = {name: _Counted(connection) for name, connection in services.connections.items()}
    services.connections = counted
    services.items = ContextItems(counted["context"])
    return counted


async def _answer_all(
    pepper, chosen: list[Utterance], counted: dict[str, _Counted]
) -> tuple[list[float], list[str], list[str], list[int]]:
    timings: list[float] = []
    intents: list[str] = []
    failures: list[str] = []
    calls: list[int] = []
    for utterance in chosen:
        before = sum(c.calls for c in counted.values())
        started = time.perf_counter()
        try:
            intents.append((await pepper.conversation.answer(utterance.text)).intent)
        except Exception as exc:  # a bench records every failure and goes on
            failures.append(f"{utterance.source}: {type(exc).__name__}: {exc}")
        timings.append((time.perf_counter() - started) * 1000)
        calls.append(sum(c.calls for c in counted.values()) - before)
    return timings, failures, intents, calls
