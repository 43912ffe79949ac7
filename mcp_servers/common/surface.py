"""What every Pepper server shows a host besides its tools, and the one place that picks the server
framework. `pepper_server(name, ...)` builds the server: the SDK's `MCPServer` for the servers named in
`SDK_SERVERS` (measured faster, see below), FastMCP for the others. Either way it carries Pepper's own
version in `serverInfo` (not the framework's), no `prompts` capability (no Pepper server has prompts: a
host would offer an empty menu), and invalid tool arguments answered in one sentence that names the
argument and what it accepts, instead of pydantic's multi-line report (which also named internal
functions such as `call[find_slots]`). `ToolError` and `ResourceError` here are what a server raises
for an anticipated failure: both frameworks recognise them, and the text reaches the client as it
was written (the SDK would prefix "Error executing tool NAME: "). `lowlevel(server)` and `http_app`
are the only ways into each framework's private low-level server and HTTP app.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

import mcp_types
from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError as _FastMCPResourceError
from fastmcp.exceptions import ToolError as _FastMCPToolError
from fastmcp.exceptions import ValidationError
from fastmcp.server.middleware import Middleware, MiddlewareContext
from mcp.server.lowlevel.server import Server as LowLevelServer
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError as _SdkResourceError
from mcp.server.mcpserver.exceptions import ToolError as _SdkToolError
from mcp.server.mcpserver.exceptions import UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError as PydanticValidationError
from starlette.applications import Starlette

__all__ = [
    "SDK_SERVERS",
    "PepperServer",
    "ResourceError",
    "ToolError",
    "argument_sentence",
    "http_app",
    "lowlevel",
    "pepper_server",
    "pepper_version",
]

_TYPES = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
          "array": "a list", "object": "an object", "null": "null"}  # fmt: skip


_FORMATS = {"date-time": "a date and time (ISO 8601)", "date": "a date (YYYY-MM-DD)",
            "duration": "a duration (ISO 8601, e.g. PT30M)", "time": "a time (HH:MM)"}  # fmt: skip

# The servers built on the SDK's `MCPServer`; the rest are FastMCP servers. Figures below.
SDK_SERVERS = frozenset({"pepper-context-store"})

PepperServer = FastMCP | MCPServer


class ToolError(_FastMCPToolError, _SdkToolError):
    """An anticipated tool failure, its message for the caller as written. `quiet=True` marks an
    answer rather than a fault (say, "no such item"): the server does not log it."""

    def __init__(self, message: str, *, quiet: bool = False) -> None:
        super().__init__(message, log_level=logging.DEBUG if quiet else logging.ERROR)
        self.quiet = quiet


class ResourceError(_FastMCPResourceError, _SdkResourceError):
    """An anticipated failure to read a resource, its message for the caller as written."""


def pepper_version() -> str:
    """The installed Pepper package's version."""
    try:
        return importlib.metadata.version("pepper")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+source"


# The server framework, measured against the SDK
# (issue #16; `bench/mcp_stack.py`, sequential calls over stdio, each server a process; figures and
# both runs in bench/RESULTS-mcp-stack.md). Idle machine, 2026-12-06, median calls/s of two runs:
#
#   calls/s, median                       noop       store (context store, one SQLite upsert)
#   FastMCP Client  - FastMCP           264 / 287    301 / 247
#   ClientSession (auto) - FastMCP      374 / 350    297 / 289
#   FastMCP Client  - SDK MCPServer     432 / 405    380 / 334
#   ClientSession (auto) - MCPServer    523 / 395    340 / 366
#
# "auto" is the SDK's session negotiating the 2026-07-28 era, as FastMCP's client does; Pepper needs
# that era (its subscriptions arrive on `subscriptions/listen` streams). In it the client makes no
# steady difference (most of the gap the issue measured was the SDK session's older handshake). What
# slows FastMCP's `Client.call_tool` is its check of each result against the tool's output schema,
# which the orchestrator's `ServerConnection` skips for Pepper's own servers (`call_tool_mcp`,
# `trust_results`): against the context store it runs at the SDK session's rate (`store`, medians
# of five rounds, session 14: FastMCP `call_tool` 324, `ClientSession` 404, `ServerConnection` 405
# calls/s; calling the session under it directly gained nothing measurable), so the orchestrator
# keeps FastMCP's `Client` for its transports and reconnects. The server does: the SDK's
# `MCPServer` answered `store` 26-35% faster, so the context store (the server every answer and
# every feed page calls) is an `MCPServer`: as shipped, against its FastMCP self on one machine,
# `get` 232 -> 285 and `store` 224 -> 338 calls/s (medians of four interleaved rounds;
# RESULTS-mcp-stack.md, session 12). The gmail, calendar and notify servers stay on FastMCP: their
# hot paths are batched (0.08 MCP calls per message in a 20,000-message first sync) and they use
# FastMCP features the SDK server lacks here (custom HTTP routes such as Gmail's push webhook, the
# Composio adapters' tests).


def pepper_server(name: str, *, instructions: str | None = None, lifespan: Any = None) -> PepperServer:
    """The server `name` as every Pepper server is one (see the module docstring)."""
    server: PepperServer
    if name in SDK_SERVERS:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        # MCPServer configures the root logger (basicConfig with a rich handler) when nothing has:
        # the process's own logging (transport.log_to_stderr) stays as it was.
        server = _SdkServer(name, instructions=instructions, version=pepper_version(), lifespan=lifespan)
        root.handlers[:] = handlers
        root.setLevel(level)
    else:
        server = FastMCP(
            name,
            instructions=instructions,
            version=pepper_version(),
            lifespan=lifespan,
            middleware=[_ArgumentErrors()],
        )
    low = lowlevel(server)
    capabilities = low.get_capabilities

    def without_prompts(*args: Any, **kwargs: Any) -> mcp_types.ServerCapabilities:
        return capabilities(*args, **kwargs).model_copy(update={"prompts": None})

    low.get_capabilities = without_prompts  # type: ignore[method-assign]
    return server


def lowlevel(server: PepperServer) -> LowLevelServer:
    """The SDK low-level server under `server` (a private attribute of either framework)."""
    return server._lowlevel_server if isinstance(server, MCPServer) else server._mcp_server


def http_app(server: PepperServer, path: str) -> Starlette:
    """The streamable-HTTP app of `server` at `path`, without the framework's own Host and Origin
    checks (transport.http_middleware's are stricter); run its lifespan around the requests."""
    if isinstance(server, MCPServer):
        return server.streamable_http_app(
            streamable_http_path=path,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
    return server.http_app(path=path, transport="http", host_origin_protection=False)


class _SdkServer(MCPServer):
    """The SDK's server with FastMCP's manners where the tests and hosts rely on them: argument
    errors in one sentence, an anticipated error's text without the SDK's prefix, quiet errors
    not logged."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        tool = self._tool_manager.get_tool(name)
        if tool is not None:  # the SDK would ignore an unknown argument: a misspelt one would go unseen
            unknown = [key for key in arguments if key not in tool.parameters.get("properties", {})]
            if unknown:
                raise ToolError(_not_an_argument(unknown[0], tool.parameters))
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except _SdkToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, PydanticValidationError):
                raise ToolError(_sentence(cause, tool.parameters if tool is not None else {})) from exc
            if isinstance(cause, ToolError) and cause.quiet:
                text = mcp_types.TextContent(type="text", text=str(cause))
                return mcp_types.CallToolResult(content=[text], is_error=True)
            if isinstance(cause, _SdkToolError | _SdkResourceError):
                raise ToolError(str(cause)) from cause
            raise


class _ArgumentErrors(Middleware):
    async def on_call_tool(self, context: MiddlewareContext, call_next: Any) -> Any:
        try:
            return await call_next(context)
        except ValidationError as exc:
            if not isinstance(exc.__cause__, PydanticValidationError) or context.fastmcp_context is None:
                raise
            tool = await context.fastmcp_context.fastmcp.get_tool(context.message.name)
            raise ToolError(_sentence(exc.__cause__, tool.parameters if tool is not None else {})) from exc


def _sentence(error: PydanticValidationError, schema: dict) -> str:
    try:
        return argument_sentence(error, schema)
    except (KeyError, TypeError, ValueError, IndexError):  # a schema shape not foreseen here
        return "the arguments do not match this tool's input schema: see tools/list."


def argument_sentence(error: PydanticValidationError, schema: dict) -> str:
    """One sentence on the first invalid argument: its name, and what it accepts."""
    first = error.errors()[0]
    loc = [part for part in first["loc"] if isinstance(part, str | int)]
    if first["type"] == "unexpected_keyword_argument":
        return _not_an_argument(_name(loc), schema)
    path, found = _property(schema, loc)
    name = _name(path) or "the arguments"
    if first["type"] == "value_error":  # the model's own check, in its author's words
        return f"{name}: {first['msg'].removeprefix('Value error, ').rstrip('.')}."
    if first["type"] in ("missing", "missing_argument"):
        return f"{name} is required: give {_accepts(found)}."
    return f"{name} was {_shown(first.get('input'))}, but it accepts {_accepts(found)}."


def _not_an_argument(name: str, schema: dict) -> str:
    known = ", ".join(sorted(schema.get("properties", {}))) or "no arguments"
    return f"{name} is not an argument of this tool; it takes: {known}."


def _name(path: list[str | int]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _property(schema: dict, loc: list[str | int]) -> tuple[list[str | int], dict]:
    """The argument path in `loc` (pydantic adds union members: they are not properties) and its schema."""
    root, path = schema, []
    for part in loc:
        options = [_resolved(o, root) for o in (schema, *schema.get("anyOf", []))]
        if isinstance(part, int):
            inner = next((o["items"] for o in options if isinstance(o.get("items"), dict)), None)
        else:
            inner = next((o["properties"][part] for o in options if part in o.get("properties", {})), None)
        if inner is None:
            break
        path, schema = [*path, part], _resolved(inner, root)
    return path, {
        **schema,
        "anyOf": [_resolved(o, root) for o in schema["anyOf"]],
    } if "anyOf" in schema else schema


def _resolved(schema: dict, root: dict) -> dict:
    """`schema` with a local `$ref` (`#/$defs/Name`) followed."""
    reference = schema.get("$ref", "")
    if reference.startswith("#/$defs/"):
        return root.get("$defs", {}).get(reference.removeprefix("#/$defs/"), {})
    return schema


def _accepts(schema: dict) -> str:
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"] or [schema]
    nullable = len(options) < len(schema.get("anyOf", [])) or schema.get("type") == "null"
    parts = [_one(option) for option in options]
    text = " or ".join(dict.fromkeys(parts)) or "a value"
    return f"{text} (or null)" if nullable else text


def _one(schema: dict) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(repr(value) for value in schema["enum"])
    kind = _FORMATS.get(schema.get("format", ""), _TYPES.get(schema.get("type", ""), "a value"))
    low, high = (
        schema.get("minimum", schema.get("exclusiveMinimum")),
        schema.get("maximum", schema.get("exclusiveMaximum")),
    )
    if low is not None and high is not None:
        return f"{kind} from {low:,} to {high:,}"
    if low is not None or high is not None:
        return f"{kind} {'of at least ' + format(low, ',') if low is not None else 'of at most ' + format(high, ',')}"
    length = (
        schema.get("minLength"),
        schema.get("maxLength"),
        schema.get("minItems"),
        schema.get("maxItems"),
    )
    unit = "characters" if schema.get("type") == "string" else "items"
    low, high = (length[0], length[1]) if unit == "characters" else (length[2], length[3])
    if high is not None:
        return f"{kind} of {low:,} to {high:,} {unit}" if low else f"{kind} of at most {high:,} {unit}"
    if low:
        return f"{kind} of at least {low:,} {unit.removesuffix('s') if low == 1 else unit}"
    return kind


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
