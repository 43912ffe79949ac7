"""Benchmarks of the orchestrator (issue 6), printed as a table with the targets:

1. responsiveness: with 20 tool calls in flight that each take 30 s, how long after one LLM round trip
   a user message gets its reply (scripted OpenAI-compatible server with a fixed latency);
2. MCP tool-call overhead from a worker: p50/p99 of calls over a live stdio session;
3. rules-mode ingest of 1,000 emails to signals through the real gmail and context-store servers, the
   mail feed running alongside the ingest bridge as it does in Pepper;
4. prompt tokens per scheduler step after 1,000 events of history (tokens estimated as characters / 4,
   counted on the requests the scripted model receives).

Run: `.venv/bin/python bench/orchestrator.py` (about two minutes here).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

# bench/ holds calendar.py, which would shadow the stdlib's `calendar`: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from email.message import EmailMessage  # noqa: E402  (imports the stdlib calendar module)

from orchestrator.brains.llm_brain import LLMBrain, llm_summarizer  # noqa: E402
from orchestrator.context_items import ContextItems  # noqa: E402
from orchestrator.event_log import EventLog  # noqa: E402
from orchestrator.feeds.ingest import MailIngest  # noqa: E402
from orchestrator.feeds.mail_feed import MailFeed  # noqa: E402
from orchestrator.feeds.runner import run_feed  # noqa: E402
from orchestrator.llm import ChatModel, LLMConfig  # noqa: E402
from orchestrator.mcp_clients import ServerConnection, ServerSpec  # noqa: E402
from orchestrator.scheduler.engine import MemoryJournal, PendingCall, ToolCallEngine  # noqa: E402
from orchestrator.scheduler.events import EventKind, Priority, SchedulerEvent  # noqa: E402
from orchestrator.scheduler.loop import Scheduler  # noqa: E402
from orchestrator.scheduler_tools import scheduler_tools  # noqa: E402
from tests.support.scripted_llm import Step, scripted_llm_server, tool_arguments  # noqa: E402

LLM_LATENCY = 0.2
ROWS: list[tuple[str, str, str]] = []


def report(name: str, value: str, target: str) -> None:
    ROWS.append((name, value, target))
    print(f"{name}: {value} (target {target})", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def responsiveness() -> None:
    reply_step = Step(tool_calls=[("send_to_user", tool_arguments(text="On it."))], delay=LLM_LATENCY)
    calls = [("search_context", tool_arguments(query=f"q{i}")) for i in range(20)]
    with scripted_llm_server(Step(tool_calls=calls, delay=LLM_LATENCY), *[reply_step] * 6) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))
        replied = anyio.Event()

        async def reply(text: str) -> None:
            replied.set()

        async def slow_tool(call: PendingCall) -> str:
            await anyio.sleep(30)
            return "done"

        scheduler: Scheduler

        async def deliver(event: SchedulerEvent) -> None:
            await scheduler.put(event)

        engine = ToolCallEngine(slow_tool, deliver, MemoryJournal(), limit=32, timeout=60)
        scheduler = Scheduler(LLMBrain(model), engine, scheduler_tools(True), reply, llm_summarizer(model))
        async with anyio.create_task_group() as task_group:
            engine.bind(task_group)
            await scheduler.put(SchedulerEvent(kind=EventKind.SIGNAL, content="start 20 searches"))
            await scheduler.step()
            assert len(engine.in_flight) == 20
            overheads = []
            for _ in range(5):
                replied = anyio.Event()
                started = time.perf_counter()
                await scheduler.put(SchedulerEvent(kind=EventKind.USER_MESSAGE, content="are you there?"))
                await scheduler.step()
                await replied.wait()
                overheads.append((time.perf_counter() - started - LLM_LATENCY) * 1000)
            task_group.cancel_scope.cancel()
        await model.close()
    report(
        "reply with 20 calls in flight, beyond one LLM round trip",
        f"p50 {statistics.median(overheads):.1f} ms, max {max(overheads):.1f} ms",
        "<= 50 ms",
    )


async def tool_call_overhead() -> None:
    spec = ServerSpec(
        name="peer",
        command=[sys.executable, "-m", "tests.support.peer_server"],
        env={"PYTHONPATH": str(_HERE.parent)},
    )
    connection = ServerConnection(spec)
    async with anyio.create_task_group() as task_group:
        await task_group.start(connection.run)
        for _ in range(20):
            await connection.call_tool("echo", {"text": "warm"})
        times = []
        for index in range(500):
            started = time.perf_counter()
            await connection.call_tool("echo", {"text": f"x{index}"})
            times.append((time.perf_counter() - started) * 1000)
        task_group.cancel_scope.cancel()
    report(
        "MCP tool call over stdio (500 calls)",
        f"p50 {statistics.median(times):.2f} ms, p99 {percentile(times, 0.99):.2f} ms",
        "p50 <= 5 ms",
    )


def write_mailbox(root: Path, count: int) -> None:
    for folder in ("cur", "new", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        message = EmailMessage()
        message["From"] = f"Person {index % 40} <p{index % 40}@example.org>"
        message["To"] = "me@example.org"
        message["Subject"] = f"Item {index}: {'please review by Friday' if index % 7 == 0 else 'notes'}"
        message["Message-ID"] = f"<bench{index}@example.org>"
        message["Date"] = "Tue, 24 Nov 2026 09:00:00 +0000"
        message.set_content(
            f"Hello,\n\nCould you look at item {index}? Thanks." if index % 3 == 0 else f"FYI item {index}."
        )
        (root / "new" / f"{index:05d}.eml").write_bytes(bytes(message))


async def rules_ingest(count: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        write_mailbox(data / "mail", count)
        env = {"PYTHONPATH": str(_HERE.parent), "PEPPER_CONTEXT_EMBEDDER": "none"}
        python = [sys.executable, "-m"]
        context = ServerConnection(
            ServerSpec(
                name="context",
                command=[*python, "mcp_servers.context_store", "--db", str(data / "c.db")],
                env=env,
            )
        )
        gmail = ServerConnection(
            ServerSpec(
                name="gmail",
                command=[
                    *python,
                    "mcp_servers.gmail",
                    "--maildir",
                    str(data / "mail"),
                    "--state-dir",
                    str(data / "g"),
                ],
                env=env,
            )
        )
        async with anyio.create_task_group() as task_group:
            await task_group.start(context.run)
            await task_group.start(gmail.run)
            items = ContextItems(context)
            started = time.perf_counter()
            feed = MailFeed(items, ["me@example.org"], [])
            task_group.start_soon(run_feed, feed, EventLog(context, idle_poll=0.2))
            await MailIngest(gmail, items).sync()
            ingested = time.perf_counter() - started
            while len(await items.query(["signals.email"], limit=1000)) < count:  # noqa: ASYNC110 - written by another process
                await anyio.sleep(0.2)
            total = time.perf_counter() - started
            task_group.cancel_scope.cancel()
    report(
        f"rules-mode ingest of {count} emails to signals",
        f"{total:.1f} s ({ingested:.1f} s to raw.email, {count / total:.0f} emails/s)",
        "<= 20 s",
    )


async def prompt_size(events: int = 1000) -> None:
    steps = [Step(tool_calls=[("wait", "{}")], delay=0.0, content=None) for _ in range(events)]
    with scripted_llm_server(*steps) as llm:
        model = ChatModel(LLMConfig(base_url=llm.base_url, max_retries=0))

        async def reply(text: str) -> None:
            return None

        async def no_tool(call: PendingCall) -> str:
            return "ok"

        scheduler: Scheduler

        async def deliver(event: SchedulerEvent) -> None:
            await scheduler.put(event)

        engine = ToolCallEngine(no_tool, deliver, MemoryJournal())
        scheduler = Scheduler(
            LLMBrain(model), engine, scheduler_tools(True), reply, llm_summarizer(model), batch_size=8
        )
        async with anyio.create_task_group() as task_group:
            engine.bind(task_group)
            for index in range(events):
                await scheduler.put(
                    SchedulerEvent(
                        kind=EventKind.SIGNAL,
                        priority=Priority.NORMAL,
                        content=f"Mail {index}: Person {index % 40} asks about item {index} and its review by Friday",
                    )
                )
                if index % 8 == 7:
                    await scheduler.step()
            task_group.cancel_scope.cancel()
        await model.close()
    sizes = [len(json.dumps(request)) / 4 for request in llm.requests if "tools" in request]
    report(
        f"prompt tokens per step after {events} events",
        f"last {sizes[-1]:.0f}, max {max(sizes):.0f} (chars/4)",
        "<= 6,000",
    )


async def main() -> None:
    await responsiveness()
    await tool_call_overhead()
    await rules_ingest()
    await prompt_size()
    width = max(len(name) for name, _, _ in ROWS)
    print("\n" + f"{'benchmark':<{width}} | result | target")
    for name, value, target in ROWS:
        print(f"{name:<{width}} | {value} | {target}")


if __name__ == "__main__":
    anyio.run(main)
