"""Which context-store namespaces a worker may touch, enforced on every call it makes.

A worker named `name` writes and deletes only in its own namespaces, `memory.worker.<name>` and
`scratch.worker.<name>` (and namespaces below them). It reads those and, for search, the shared
sources `raw.*` (mail and calendar as ingested) and `signals.*` (what the feeds made of them). It never
reads or writes pending actions (`actions.*`), the profile (`memory.profile`), another worker's
memory, the chat, the scheduler's state or consumer cursors; it cannot read the event log
(`read_events`, which spans every namespace) or move a cursor (`ack`). A refused call raises
`ScopeError` before anything reaches the store, with a message that tells the model where it may
write. One-off workers share the name `stateless`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SHARED_READABLE", "ScopeError", "check_context_call", "own_namespaces"]

SHARED_READABLE = ("raw.", "signals.")
WILDCARDS = "*?["
WRITES = {"store", "delete"}
READS = {"get", "get_many"}
SEARCHES = {"query", "search"}


class ScopeError(PermissionError):
    """A worker reached outside its namespaces; nothing was read or written."""


def own_namespaces(worker: str) -> tuple[str, str]:
    return f"memory.worker.{worker}", f"scratch.worker.{worker}"


def _literal_prefix(pattern: str) -> str:
    cut = min((pattern.find(c) for c in WILDCARDS if c in pattern), default=len(pattern))
    return pattern[:cut]


def _within(namespace: str, roots: tuple[str, ...]) -> bool:
    return any(namespace == root or namespace.startswith(f"{root}.") for root in roots)


def _may_write(worker: str, namespace: str) -> bool:
    return not any(c in namespace for c in WILDCARDS) and _within(namespace, own_namespaces(worker))


def _may_read(worker: str, pattern: str) -> bool:
    prefix = _literal_prefix(pattern)
    if prefix == pattern and _within(pattern, own_namespaces(worker)):
        return True
    if any(prefix.startswith(shared) for shared in SHARED_READABLE):
        return True
    return prefix != pattern and any(prefix.startswith(f"{root}.") for root in own_namespaces(worker))


def _refuse(worker: str, verb: str, namespace: str) -> ScopeError:
    mine, scratch = own_namespaces(worker)
    return ScopeError(
        f"worker {worker!r} may not {verb} namespace {namespace!r}: write only to {mine!r} or {scratch!r}, "
        f"read those and raw.* or signals.*; nothing was {'read' if verb == 'read' else 'written'}"
    )


def check_context_call(worker: str, tool: str, arguments: dict[str, Any]) -> None:
    """Raise `ScopeError` unless worker `worker` may call the context store's `tool` so."""
    if tool in ("read_events", "ack"):
        raise ScopeError(
            f"workers may not call {tool}: the event log and consumer cursors belong to Pepper; "
            "use query or search on raw.* or signals.*"
        )
    if tool in WRITES:
        namespace = str(arguments.get("namespace", "")).lower()
        if not _may_write(worker, namespace):
            raise _refuse(worker, "write to" if tool == "store" else "delete from", namespace)
    elif tool == "store_many":
        for item in arguments.get("items") or []:
            namespace = str(item.get("namespace", "") if isinstance(item, dict) else "").lower()
            if not _may_write(worker, namespace):
                raise _refuse(worker, "write to", namespace)
    elif tool in READS:
        namespace = str(arguments.get("namespace", "")).lower()
        if not _may_read(worker, namespace):
            raise _refuse(worker, "read", namespace)
    elif tool in SEARCHES:
        patterns = [str(p).lower() for p in arguments.get("namespaces") or []]
        if not patterns:
            raise ScopeError(
                f"name the namespaces to {tool}: raw.*, signals.* or {own_namespaces(worker)[0]!r}"
            )
        for pattern in patterns:
            if not _may_read(worker, pattern):
                raise _refuse(worker, "read", pattern)
    else:
        raise ScopeError(f"workers may not call the context store's {tool!r}")
