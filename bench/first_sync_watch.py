"""What bench/first_sync.py watches while Pepper syncs: the servers' SQLite files (read-only), the
process tree's memory (RSS and USS, by psutil) and CPU time, and new-mail probes; and the report it
makes of them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.first_sync_mail import Mailbox, probe_message

__all__ = ["Watch", "percentile", "read_db"]

ROLES = {"mcp_servers.context_store": "context store", "mcp_servers.gmail": "gmail",
         "mcp_servers.calendar": "calendar", "mcp_servers.notify": "notify"}  # fmt: skip
PROBE_EVERY = 5.0
PROBE_TIMEOUT = 120.0
PROBE_POLL = 0.1


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def read_db(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a server's SQLite file, read-only (none while it cannot be read)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(sql, params).fetchall()
    except sqlite3.Error:
        return []


def _low_priority_cpu(pid: int) -> float:
    """CPU seconds of a process's threads running at a lowered OS priority (the context store's
    embedder and the model threads it starts; Linux, 0 elsewhere)."""
    seconds, clock = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        main_nice = int((Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split())[16])
    except (OSError, ValueError, IndexError):
        return 0.0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            if int(fields[16]) > main_nice:
                seconds += (int(fields[11]) + int(fields[12])) / clock
        except (OSError, ValueError, IndexError):
            continue
    return seconds


@dataclass
class Watch:
    data: Path
    mailbox: Mailbox
    triage: set[str]  # keys that must get a triage signal: received in the window, or unread
    recent: set[str]  # those received in the window: Now is complete once they all have one
    started_at: float
    started: float = 0.0  # perf_counter at launch
    marks: dict[str, float] = field(default_factory=dict)  # figure -> seconds after launch
    counts: dict[str, int] = field(default_factory=dict)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    total_peak: dict[str, float] = field(default_factory=lambda: {"rss_mb": 0.0, "uss_mb": 0.0})
    probes: dict[str, list[float]] = field(default_factory=lambda: {"during": [], "after": []})
    probe_keys: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per role so far (+ the embedder's)
    cpu_at_now: dict[str, float] = field(default_factory=dict)  # ... when Now was complete
    finished: threading.Event = field(default_factory=threading.Event)
    last_sample: float = 0.0  # seconds after launch

    @property
    def context_db(self) -> Path:
        return self.data / "context.sqlite3"

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def mark(self, name: str, condition: bool) -> None:
        if condition and name not in self.marks:
            self.marks[name] = self.elapsed()

    def sample(self, pid: int, state: dict[str, Any] | None) -> None:
        self.last_sample = self.elapsed()
        self.mark("ui", state is not None)
        raw = read_db(
            self.context_db,
            "SELECT count(*) FROM items WHERE namespace='raw.email' AND id NOT LIKE '%.probe'",
        )
        signals = {
            row[0] for row in read_db(self.context_db, "SELECT id FROM items WHERE namespace='signals.email'")
        }
        pending = read_db(self.context_db, "SELECT count(*) FROM pending_embeddings")
        indexes = list((self.data / "state").glob("pepper/gmail/maildir-*.sqlite3"))
        indexed = read_db(indexes[0], "SELECT count(*) FROM messages") if indexes else []
        self.counts.update(
            raw=raw[0][0] if raw else 0, signals=len(signals), indexed=indexed[0][0] if indexed else 0,
            pending_embeddings=pending[0][0] if pending else 0,
        )  # fmt: skip
        self.counts["peak_pending_embeddings"] = max(
            self.counts.get("peak_pending_embeddings", 0), self.counts["pending_embeddings"]
        )
        self.mark("first_raw", self.counts["raw"] > 0)
        self.mark("first_signal", bool(signals))
        self.mark("indexed", self.counts["indexed"] >= self.mailbox.size)
        self.mark("searchable", self.counts["raw"] >= self.mailbox.size)
        self.mark("now_complete", self.recent <= signals)
        self.mark("unread_triaged", self.triage <= signals)
        self.mark("embeddings_drained", "searchable" in self.marks and self.counts["pending_embeddings"] == 0)
        self._sample_memory(pid)
        if "now_complete" in self.marks and not self.cpu_at_now:
            self.cpu_at_now = dict(self.cpu)

    def _sample_memory(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = {"rss_mb": 0.0, "uss_mb": 0.0}
        cpu: dict[str, float] = {}
        for process in processes:
            try:
                info, cmdline = process.memory_full_info(), " ".join(process.cmdline())
                times = process.cpu_times()
            except psutil.Error:
                continue
            role = next((name for module, name in ROLES.items() if module in cmdline), "orchestrator")
            cpu[role] = cpu.get(role, 0.0) + times.user + times.system
            if role == "context store":
                cpu["context store: low-priority threads"] = _low_priority_cpu(process.pid)
            peak = self.memory.setdefault(role, {"rss_mb": 0.0, "uss_mb": 0.0})
            for key, value in (("rss_mb", info.rss), ("uss_mb", info.uss)):
                peak[key] = max(peak[key], value / 2**20)
                total[key] += value / 2**20
        for key in total:
            self.total_peak[key] = max(self.total_peak[key], total[key])
        self.cpu = {role: round(seconds, 1) for role, seconds in cpu.items()}

    def complete(self, wait_embeddings: bool) -> bool:
        needed = {"indexed", "searchable", "now_complete", "unread_triaged"} | (
            {"embeddings_drained"} if wait_embeddings else set()
        )
        return needed <= self.marks.keys()

    def probe_once(self, phase: str) -> None:
        """Deliver one probe and wait for its signal (alone: after the sync)."""
        waiting = {self._deliver(): time.perf_counter()}
        while waiting:
            self._check(phase, waiting)
            time.sleep(PROBE_POLL)

    def _deliver(self) -> str:
        key = probe_message(self.mailbox.root, len(self.probe_keys))
        self.probe_keys.append(key)
        return key

    def _check(self, phase: str, waiting: dict[str, float]) -> None:
        """Time the waiting probes whose signal is stored, with one read for all of them (a
        connection per probe and poll would load the machine it measures)."""
        marks = ",".join("?" * len(waiting))
        sql = f"SELECT id FROM items WHERE namespace='signals.email' AND id IN ({marks})"
        seen = {row[0] for row in read_db(self.context_db, sql, tuple(waiting))}
        now = time.perf_counter()
        for key, sent in list(waiting.items()):
            if key in seen or now - sent >= PROBE_TIMEOUT:  # never seen: counted as the bound
                self.probes[phase].append(min(now - sent, PROBE_TIMEOUT))
                del waiting[key]

    def probe_loop(self) -> None:
        """New mail every PROBE_EVERY seconds from the first stored message until the sync is done;
        the probes are timed side by side (a slow one does not hold the next back)."""
        waiting: dict[str, float] = {}
        last = 0.0
        while waiting or (not self.finished.is_set() and "searchable" not in self.marks):
            now = time.perf_counter()
            if "first_raw" in self.marks and "searchable" not in self.marks and now - last >= PROBE_EVERY:
                waiting[self._deliver()], last = now, now
            if waiting:
                self._check("during", waiting)
            self.finished.wait(PROBE_POLL)

    def after_sync(self, count: int) -> None:
        for _ in range(count):
            self.probe_once("after")

    def remove_probes(self) -> None:
        for path in self.mailbox.root.glob("*/*.probe*"):
            path.unlink(missing_ok=True)

    def report(
        self, state: dict[str, Any] | None, bench_calls: float, chat: list[float], errors: list[str]
    ) -> dict[str, Any]:
        marks, size = self.marks, self.mailbox.size
        calls = sum(sum(c.values()) for c in (state or {}).get("status", {}).get("mcp_calls", {}).values())
        db_bytes = sum(p.stat().st_size for p in self.data.glob("context.sqlite3*"))
        index_bytes = sum(
            p.stat().st_size for p in (self.data / "state").glob("pepper/gmail/maildir-*.sqlite3*")
        )

        def rate(count: int, start: str, end: str, done: str | None = None) -> float | None:
            """Messages/s from `start` to `end`; a stage the run's timeout cut short is rated by
            what it did up to the last sample (`counts[done]` since `start`)."""
            if start in marks and end in marks and marks[end] > marks[start]:
                return round(count / (marks[end] - marks[start]), 1)
            if done and start in marks and self.last_sample > marks[start]:
                return round(self.counts.get(done, 0) / (self.last_sample - marks[start]), 1)
            return None

        figures = {
            "time to the UI serving (s)": marks.get("ui"),
            "first message in the context store (s)": marks.get("first_raw"),
            f"Now complete, {len(self.recent):,} msgs of the window (s)": marks.get("now_complete"),
            f"signals complete (+ old unread: {len(self.triage):,}) (s)": marks.get("unread_triaged"),
            "searchable by words: gmail index complete (s)": marks.get("indexed"),
            "raw.email complete (s)": marks.get("searchable"),
            "embeddings drained (s)": marks.get("embeddings_drained"),
            "embeddings pending at the end": self.counts.get("pending_embeddings"),
            "gmail index msgs/s": rate(size, "ui", "indexed"),
            "raw.email msgs/s": rate(size, "first_raw", "searchable", done="raw"),
            "raw.email stored at the end": self.counts.get("raw"),
            "triage msgs/s": rate(len(self.triage), "first_signal", "unread_triaged", done="signals"),
            "MCP calls per message stored": round(
                (calls - bench_calls) / max(self.counts.get("raw") or size, 1), 3
            ),
            "context store peak RSS (MB)": round(self.memory.get("context store", {}).get("rss_mb", 0), 1),
            "context store peak USS (MB)": round(self.memory.get("context store", {}).get("uss_mb", 0), 1),
            "all processes peak RSS (MB)": round(self.total_peak["rss_mb"], 1),
            "all processes peak USS (MB)": round(self.total_peak["uss_mb"], 1),
            "DB MB per 1,000 messages": round(db_bytes / 2**20 / max(self.counts.get("raw", 1), 1) * 1000, 2),
            "gmail index MB per 1,000 messages": round(
                index_bytes / 2**20 / max(self.counts.get("indexed", 1), 1) * 1000, 2
            ),
            "chat replies during the sync": len(chat),
            "chat errors during the sync": len(errors),
            "chat p50 (s)": round(percentile(chat, 0.5), 3),
            "chat p95 (s)": round(percentile(chat, 0.95), 3),
            "new mail -> Now p95 during the sync (s)": round(percentile(self.probes["during"], 0.95), 2),
            "new mail -> Now p95 after the sync (s)": round(percentile(self.probes["after"], 0.95), 2),
        }
        return {"figures": figures, "cpu_s_until_now_complete": self.cpu_at_now, "cpu_s_at_the_end": self.cpu,
                "memory": self.memory, "counts": self.counts, "probes": self.probes,
                "mcp_calls": (state or {}).get("status", {}).get("mcp_calls"), "bench_calls": bench_calls,
                "chat_errors": errors[:5], "chat": [round(seconds, 3) for seconds in chat]}  # fmt: skip
