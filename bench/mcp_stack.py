# ruff: noqa: E402 - imports follow the sys.path fix below
"""The MCP stack's own cost per call: FastMCP against the SDK's servers and client, over stdio.

    .venv/bin/python bench/mcp_stack.py [--calls 300] [--rounds 3] [--json]

Sequential `tools/call` round trips per second between two processes, for each pairing of a
client (FastMCP's `Client`, which negotiates the 2026-07-28 protocol era with a server that has
it; the SDK's `ClientSession` with the `initialize` handshake, `sdk`; the same session negotiating
the era as FastMCP's client does, `sdk-auto`, the one Pepper's subscriptions need; `pepper`, the
orchestrator's own `ServerConnection` as its workers and feeds call a server) with a server
(FastMCP as `pepper_server` builds the gmail, calendar and notify servers; the SDK's high-level
`MCPServer`; the SDK's low-level `Server`; and `context-store`, the context store server as it
ships, `python -m mcp_servers.context_store` with no embedder, for `store` only),
for two tools: `noop` (returns its arguments' id: the stack alone) and the context store's
`store` (one real SQLite upsert through `SqliteStorage`, a fresh database per server). The other
servers run this file with `--serve` and call the same storage. The choice these figures support
is recorded in `mcp_servers/common/surface.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where bench/calendar.py would shadow the
# stdlib `calendar` (imported by `email`, hence by fastmcp): drop it, put the repo root instead.
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "bench"]

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import anyio

SERVERS = ("fastmcp", "sdk-mcpserver", "sdk-lowlevel", "context-store")
CLIENTS = ("fastmcp", "sdk", "sdk-auto", "pepper")
Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


# -- servers (run as `--serve KIND --db PATH`) ---------------------------------------------------


def _storage(db: str) -> Any:
    from mcp_servers.context_store.sqlite_storage import SqliteStorage
    from mcp_servers.context_store.store import ContextStore

    return SqliteStorage(ContextStore.open(db))


async def _store(storage: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    from mcp_servers.context_store.models import ItemInput

    written = await storage.store(ItemInput.model_validate(arguments))
    return written.model_dump(mode="json")


def serve_fastmcp(db: str) -> None:
    from mcp_servers.common.surface import pepper_server

    server = pepper_server("bench")  # a name not in SDK_SERVERS: FastMCP
    storage = _storage(db)

    @server.tool
    def noop(namespace: str, id: str, data: Any = None, text: str | None = None) -> dict[str, Any]:
        return {"id": id}

    @server.tool
    async def store(namespace: str, id: str, data: Any = None, text: str | None = None) -> dict[str, Any]:
        return await _store(storage, {"namespace": namespace, "id": id, "data": data, "text": text})

    anyio.run(lambda: server.run_stdio_async(show_banner=False))


def serve_mcpserver(db: str) -> None:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench")
    storage = _storage(db)

    @server.tool()
    def noop(namespace: str, id: str, data: Any = None, text: str | None = None) -> dict[str, Any]:
        return {"id": id}

    @server.tool()
    async def store(namespace: str, id: str, data: Any = None, text: str | None = None) -> dict[str, Any]:
        return await _store(storage, {"namespace": namespace, "id": id, "data": data, "text": text})

    anyio.run(server.run_stdio_async)


def serve_lowlevel(db: str) -> None:
    import mcp_types as types
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    storage = _storage(db)
    schema = {"type": "object", "properties": {"namespace": {"type": "string"}, "id": {"type": "string"}}}

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[types.Tool(name=name, input_schema=schema) for name in ("noop", "store")]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        found = {"id": arguments["id"]} if params.name == "noop" else await _store(storage, arguments)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(found))], structured_content=found
        )

    server = Server("bench", on_list_tools=list_tools, on_call_tool=call_tool)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


# -- clients -------------------------------------------------------------------------------------


def command(server: str, tool: str, db: Path) -> list[str]:
    if server == "context-store":
        return ["-m", "mcp_servers.context_store", "--db", str(db)]
    return [__file__, "--serve", server.removeprefix("sdk-"), "--db", str(db)]


@asynccontextmanager
async def connected(client: str, args: list[str]) -> AsyncIterator[Call]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PEPPER_CONTEXT_EMBEDDER="none")
    if client == "pepper":  # the orchestrator's own connection, as its workers and feeds call
        from orchestrator.mcp_clients import ServerConnection, ServerSpec

        spec = ServerSpec(name="bench", command=[sys.executable, *args], env=env)
        connection = ServerConnection(spec, trust_results=True)
        async with anyio.create_task_group() as tasks:
            await tasks.start(connection.run)
            yield connection.call_tool
            tasks.cancel_scope.cancel()
    elif client == "fastmcp":
        from fastmcp import Client
        from fastmcp.client.transports import StdioTransport

        async with Client(
            StdioTransport(sys.executable, args, env=env, keep_alive=False), timeout=60
        ) as session:
            yield session.call_tool
    else:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        parameters = StdioServerParameters(command=sys.executable, args=args, env=env)
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            if (
                client == "sdk-auto"
            ):  # the era FastMCP's Client negotiates: 2026-07-28 where the server has it
                from mcp.client._probe import negotiate_auto

                await negotiate_auto(session)
            else:
                await session.initialize()
            yield session.call_tool


async def rate(client: str, server: str, tool: str, calls: int, folder: Path) -> float:
    db = folder / f"{client}-{server}-{tool}.sqlite3"
    async with connected(client, command(server, tool, db)) as call:
        for n in range(10):  # warm-up: imports, the first transaction, caches
            await call(tool, {"namespace": "bench.warm", "id": f"w{n}", "data": {"n": n}})
        started = time.perf_counter()
        for n in range(calls):
            await call(tool, {"namespace": "bench.stack", "id": f"i{n}", "data": {"n": n}, "text": "hello"})
        return calls / (time.perf_counter() - started)


async def measure(
    calls: int, rounds: int, servers: tuple[str, ...] = SERVERS, clients: tuple[str, ...] = CLIENTS
) -> list[dict[str, Any]]:
    """Every pairing `rounds` times, interleaved so that a burst of load on a shared machine hits
    them all alike; the best round is the stack's cost, the median what a busy machine gives."""
    found: dict[tuple[str, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="pepper-mcp-stack-") as folder:
        for round in range(rounds):
            for tool in ("noop", "store"):
                for server in servers:
                    if server == "context-store" and tool != "store":
                        continue
                    for client in clients:
                        place = Path(folder) / str(round)
                        place.mkdir(exist_ok=True)
                        per_second = await rate(client, server, tool, calls, place)
                        found.setdefault((tool, server, client), []).append(per_second)
    return [
        {
            "tool": tool,
            "server": server,
            "client": client,
            "best": max(rates),
            "median": statistics.median(rates),
        }
        for (tool, server, client), rates in found.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per pairing")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per pairing (best and median kept)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset of servers")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated subset of clients")
    parser.add_argument("--serve", choices=("fastmcp", "mcpserver", "lowlevel"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serving = {"fastmcp": lambda: serve_fastmcp(options.db), "mcpserver": lambda: serve_mcpserver(options.db),
                   "lowlevel": lambda: serve_lowlevel(options.db)}  # fmt: skip
        return serving[options.serve]()
    servers, clients = tuple(options.servers.split(",")), tuple(options.clients.split(","))
    unknown = sorted(set(servers) - set(SERVERS)) + sorted(set(clients) - set(CLIENTS))
    if unknown:
        parser.error(f"unknown server or client {unknown[0]!r}: servers {SERVERS}, clients {CLIENTS}")
    rows = anyio.run(measure, options.calls, options.rounds, servers, clients)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()[0],
               "mcp": version("mcp"), "fastmcp": version("fastmcp"), "calls": options.calls,
               "rounds": options.rounds}  # fmt: skip
    if options.json:
        print(json.dumps({"machine": machine, "rows": rows}, indent=2))
        return
    print(", ".join(f"{key} {value}" for key, value in machine.items()))
    print(f"{'tool':<6} {'server':<14} {'client':<8} {'best/s':>7} {'median/s':>9}")
    for row in rows:
        print(
            f"{row['tool']:<6} {row['server']:<14} {row['client']:<8} {row['best']:7.0f} {row['median']:9.0f}"
        )


if __name__ == "__main__":
    main()
