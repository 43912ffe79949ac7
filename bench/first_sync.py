"""A first sync of a big mailbox through `pepper-orchestrator run` (issue 16), in rules mode.

    .venv/bin/python bench/first_sync.py [--size 100000] [--seed 16] [--json]

It builds (once, into a cache dir) a generated Maildir of `--size` messages (bench/first_sync_mail.py:
realistic sizes, ~10% HTML-only, 5% attachments, threads, five languages, three years), then runs
Pepper on it with a HOME, state and data dir of its own, and measures, polling the UI's `/state` every
2 s and reading the servers' SQLite files read-only: time to the UI serving; time until Now is
complete for the last 14 days (every message received within 14 days or unread has its triage
signal); time until every message is searchable by words (the gmail server's full-text index, the
one index of mail words, holds every message) and until all are stored in `raw.email`; messages/s
through each stage (gmail index, raw.email, triage, embeddings); MCP calls, by tool and per message
stored (once the UI serves, progress is read from `/pepper/api/status`, which costs no
MCP call; the chat questions are measured idle and subtracted, or left out with `--no-chat`); peak
RSS and USS per process; CPU seconds per process until Now is complete and at the end (with the
context store's low-priority threads apart: its embedder); database size per 1,000 messages; chat (`/ask`, rules mode) latency
p50/p95 during the sync, one question a second; new mail -> Now latency during and after the sync
(a probe message delivered every 5 s); at the end, how much of the store's Now the page's snapshot and
"what is urgent?" show. The figures are printed beside the issue's 20,000-message figures, with the ratio.
"""

# ruff: noqa: E402 - sys.path must be repaired before the standard library's email is imported
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from typing import Any

from bench.first_sync_mail import Mailbox, build_mailbox
from bench.first_sync_watch import PROBE_TIMEOUT, Watch, percentile, read_db
from orchestrator.triage.now import now_list

REPO = Path(__file__).resolve().parents[1]
# Issue 16's figures for 20,000 messages (before this work): what the ratios are taken against.
ISSUE = {
    "first message in the context store (s)": 30.0,
    "raw.email complete (s)": 430.0,
    "signals complete (s)": 745.0,
    "raw.email msgs/s": 46.0,
    "triage msgs/s": 27.0,
    "embeddings drained (s)": 35 * 60.0,
    "context store peak RSS (MB)": 900.0,
    "all processes peak RSS (MB)": 1400.0,
    "DB MB per 1,000 messages": 143.0 / 20,
    "chat p50 (s)": 6.8,
    "chat p95 (s)": 19.3,
}


EDGE = 3600.0  # seconds: see run()


def cached_mailbox(cache: Path, size: int, seed: int) -> Mailbox:
    root = cache / f"{size}-{seed}" / "Mail"
    found = Mailbox.load(root)
    if found is not None and found.size == size:
        for probe in root.glob("new/*.probe"):  # left by an interrupted run
            probe.unlink()
        return found
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    mailbox = build_mailbox(root, size, seed)
    print(
        f"generated {size:,} messages in {time.perf_counter() - started:.0f} s into {root}", file=sys.stderr
    )
    return mailbox


def start_pepper(data: Path, mailbox: Mailbox, port: int) -> subprocess.Popen[bytes]:
    (data / "home").mkdir(parents=True)
    os.symlink(mailbox.root, data / "mail")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PEPPER_", "OPENAI_"))}
    env.update(HOME=str(data / "home"), XDG_STATE_HOME=str(data / "state"), PYTHONPATH=str(REPO),
               PEPPER_CONFIG=str(data / "absent.toml"))  # fmt: skip
    command = [sys.executable, "-m", "orchestrator.cli", "run", "--data-dir", str(data), "--port", str(port)]
    log = open(data / "pepper.log", "wb")
    return subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True, stdout=log, stderr=log)


def get_state(port: int) -> dict[str, Any] | None:
    """The page's snapshot (what a browser loads first: the lists, read from the context store)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pepper/api/state", timeout=10) as answer:
            return json.load(answer)
    except (OSError, ValueError):
        return None


def get_status(port: int) -> dict[str, Any] | None:
    """Pepper's status alone, shaped like a snapshot: from memory, no MCP call."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pepper/api/status", timeout=10) as answer:
            return {"status": json.load(answer)}
    except (OSError, ValueError):
        return None


QUESTIONS = ["what is urgent?", "what's on tomorrow?", "what did Grace send me?"]  # asked in turn


def ask(port: int, text: str) -> float:
    started = time.perf_counter()
    reply(port, text)
    return time.perf_counter() - started


def reply(port: int, text: str) -> str:
    """The rules-mode answer to `text` (`/ask`)."""
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/pepper/api/ask",
        body,
        {"Content-Type": "application/json", "X-Pepper-CSRF": "1"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return str(json.load(answer).get("reply", ""))


def now_as_shown(port: int, context_db: Path) -> dict[str, Any]:
    """What the user sees of Now when the run ends: the first cards of the store's Now (every mail
    signal, `orchestrator.triage.now`), how many of them the page's snapshot draws, in the same order
    or not, and how many of them "what is urgent?" lists. A page or chat that reads the wrong
    signals shows a Now that the store's completeness figure does not."""
    stored = [
        json.loads(row[0])
        for row in read_db(context_db, "SELECT data FROM items WHERE namespace = 'signals.email'")
    ]
    top, behind = now_list(stored)
    state = get_state(port) or {"signals": []}
    page, _ = now_list([item["data"] for item in state["signals"] if item["namespace"] == "signals.email"])
    ids = [signal["source_id"] for signal in top]
    listed = reply(port, "what is urgent?")
    return {
        "store's Now (mail)": len(top) + behind,
        f"of its first {len(top)}, on the page": len(set(ids) & {signal["source_id"] for signal in page}),
        "page in the same order": ids == [signal["source_id"] for signal in page],
        f"of its first {len(top)}, listed by the chat": sum(signal["summary"] in listed for signal in top),
    }


def chat_during(port: int, watch: Watch, latencies: list[float], errors: list[str]) -> None:
    """One rules-mode question a second while the sync runs (after the UI serves)."""
    while not watch.finished.is_set() and "searchable" not in watch.marks:
        if "ui" in watch.marks:
            try:
                latencies.append(ask(port, QUESTIONS[len(latencies) % len(QUESTIONS)]))
            except OSError as exc:
                errors.append(f"{watch.elapsed():.0f}s {type(exc).__name__}: {exc}")
        watch.finished.wait(1.0)


def tool_calls(state: dict[str, Any] | None) -> dict[str, int]:
    """The MCP calls Pepper made so far, by `server.tool`."""
    calls = (state or {}).get("status", {}).get("mcp_calls") or {}
    return {f"{server}.{tool}": n for server, tools in calls.items() for tool, n in tools.items()}


def _delta(
    after: dict[str, int], before: dict[str, int], less: dict[str, float] | None = None
) -> dict[str, float]:
    tools = after.keys() | before.keys()
    return {t: after.get(t, 0) - before.get(t, 0) - (less or {}).get(t, 0) for t in tools}


def calls_per_state(port: int) -> dict[str, float]:
    """MCP calls that one `/state` read costs (it reads the Now list, chat, approvals), by tool:
    measured idle (the sample with the fewest)."""
    samples = []
    for _ in range(3):
        before, after = get_state(port), get_state(port)
        if before and after:
            samples.append(_delta(tool_calls(after), tool_calls(before)))
    return min(samples, key=lambda calls: sum(calls.values())) if samples else {}


def calls_per_ask(port: int, per_state: dict[str, float]) -> dict[str, float]:
    """MCP calls one rules-mode chat question costs, by tool (measured idle, the /state reads around
    it subtracted): the chat during the sync is the bench's load, not the sync's work."""
    samples = []
    for question in ("what is urgent?", "what's on tomorrow?", "what did Grace send me?"):
        before = get_state(port)
        ask(port, question)
        after = get_state(port)
        if before and after:
            samples.append(_delta(tool_calls(after), tool_calls(before), per_state))
    return min(samples, key=lambda calls: sum(calls.values())) if samples else {}


def run(args: argparse.Namespace) -> dict[str, Any]:
    mailbox = cached_mailbox(Path(args.cache).expanduser(), args.size, args.seed)
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="pepper-first-sync-"))
    started_at = time.time()
    # Pepper's window is `triage_days` before the moment it reads a message, minutes after the start:
    # mail within EDGE of the window's start at launch may fall out of it by then (never triaged).
    window = args.triage_days - EDGE / 86400
    triage = mailbox.needs_triage(started_at, window)
    recent = mailbox.needs_triage(started_at, window, unread=False)
    watch = Watch(data, mailbox, triage, recent, started_at)
    chat: list[float] = []
    errors: list[str] = []
    process = start_pepper(data, mailbox, port)
    watch.started = time.perf_counter()
    threads = [threading.Thread(target=watch.probe_loop, daemon=True)]
    if not args.no_chat:
        threads.append(threading.Thread(target=chat_during, args=(port, watch, chat, errors), daemon=True))
    for thread in threads:
        thread.start()
    state: dict[str, Any] | None = None
    fetches = 0  # of /state: until the UI serves
    try:
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline and process.poll() is None:
            if "ui" in watch.marks:
                state = get_status(port) or state
            else:
                state, fetches = get_state(port) or state, fetches + 1
            watch.sample(process.pid, state)
            if args.verbose:
                print(f"{watch.elapsed():7.1f}s {watch.counts} {sorted(watch.marks)}", file=sys.stderr)
            if watch.complete(args.wait_embeddings):
                break
            time.sleep(2.0)
        threads[0].join(PROBE_TIMEOUT + 10)  # the probes sent during the sync are all timed
        watch.after_sync(args.probes_after)
        final = get_status(port) or state  # the counts, before the bench's idle reads
        per_state = calls_per_state(port)
        per_ask = calls_per_ask(port, per_state)
        shown = now_as_shown(port, watch.context_db)
    finally:
        watch.finished.set()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        watch.remove_probes()
    bench = {
        t: fetches * per_state.get(t, 0) + len(chat) * per_ask.get(t, 0)
        for t in per_state.keys() | per_ask.keys()
    }
    report = watch.report(final, sum(bench.values()), chat, errors)
    report["calls_per_state"], report["calls_per_ask"] = sum(per_state.values()), sum(per_ask.values())
    report["calls_by_tool"] = {
        t: max(round(n - bench.get(t, 0)), 0) for t, n in sorted(tool_calls(final).items())
    }
    report["now as shown"] = shown
    report["machine"] = machine(started_at)
    report["size"], report["data_dir"] = args.size, str(data)
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    return report


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine(started_at: float) -> dict[str, Any]:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started_at)),
        "commit": commit,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_after": round(os.getloadavg()[0], 2),
    }


def print_report(report: dict[str, Any]) -> None:
    figures = report["figures"]
    scale = report["size"] / 20_000
    print(f"first sync of {report['size']:,} messages, rules mode; {report['machine']}")
    print(f"{'figure':<48} | {'this run':>12} | {'issue, 20k':>10} | ratio")
    for name, value in figures.items():
        before = ISSUE.get(name)
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value}"
        ratio = f"{value / before:.2f}" if before and isinstance(value, int | float) and value else ""
        print(f"{name:<48} | {shown:>12} | {before if before is not None else '':>10} | {ratio}")
    print(f"(times for {report['size']:,} messages; the issue's are for 20,000: scale {scale:.2f})")
    by_tool = sorted(report["calls_by_tool"].items(), key=lambda pair: -pair[1])
    print("MCP calls by tool (the bench's own /state reads and questions subtracted): "
          + ", ".join(f"{tool} {count}" for tool, count in by_tool if count))  # fmt: skip
    for role, peak in report["memory"].items():
        print(f"peak memory {role:<22} RSS {peak['rss_mb']:7.1f} MB   USS {peak['uss_mb']:7.1f} MB")
    for n, question in enumerate(QUESTIONS):
        asked = report["chat"][n :: len(QUESTIONS)]
        if asked:
            print(
                f"chat {question!r:<28} p50 {percentile(asked, 0.5):.2f} s   p95 {percentile(asked, 0.95):.2f} s"
            )
    print("Now as shown at the end: " + ", ".join(f"{k} {v}" for k, v in report["now as shown"].items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="messages in the generated mailbox")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--cache", default="~/.cache/pepper/bench/first_sync", help="where mailboxes are kept"
    )
    parser.add_argument("--triage-days", type=float, default=14.0, help="Pepper's default: 14")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="stop measuring after this many seconds"
    )
    parser.add_argument("--wait-embeddings", action="store_true", help="also wait until embeddings drain")
    parser.add_argument("--probes-after", type=int, default=5, help="new-mail probes after the sync")
    parser.add_argument("--no-chat", action="store_true", help="no chat questions during the sync")
    parser.add_argument("--keep", action="store_true", help="keep Pepper's data dir")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--verbose", action="store_true", help="print the counts every sample")
    args = parser.parse_args(argv)
    report = run(args)
    print(json.dumps(report, indent=2)) if args.json else print_report(report)


if __name__ == "__main__":
    main()
