"""What every Pepper server shows a host besides its tools: `pepper_server(name, ...)` builds the
FastMCP server with Pepper's own version in `serverInfo` (not FastMCP's), no `prompts` capability
(no Pepper server has prompts: a host would offer an empty menu), and invalid tool arguments
answered in one sentence that names the argument and what it accepts, instead of pydantic's
multi-line report (which also named internal functions such as `call[find_slots]`).
The capability is withdrawn on FastMCP's low-level server, a private attribute touched only here.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import mcp_types
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError, ValidationError
from fastmcp.server.middleware import Middleware, MiddlewareContext
from pydantic import ValidationError as PydanticValidationError

__all__ = ["argument_sentence", "pepper_server", "pepper_version"]

_TYPES = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
          "array": "a list", "object": "an object", "null": "null"}  # fmt: skip


_FORMATS = {"date-time": "a date and time (ISO 8601)", "date": "a date (YYYY-MM-DD)",
            "duration": "a duration (ISO 8601, e.g. PT30M)", "time": "a time (HH:MM)"}  # fmt: skip


def pepper_version() -> str:
    """The installed Pepper package's version."""
    try:
        return importlib.metadata.version("pepper")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+source"


# The server framework: FastMCP, chosen here for every Pepper server, measured against the SDK
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
# steady difference, so the orchestrator keeps FastMCP's `Client` (most of the gap the issue measured
# was the SDK session's older handshake). The server does: the SDK's `MCPServer` answered `store`
# 26-35% faster. Not moved yet: the paths that scale with mail are batched (0.08 MCP calls per
# message in a 20,000-message first sync), and a chat answer makes a few calls of 2-4 ms each, so
# the per-call gain is a few ms a question; moving the context store means rebuilding here, for a
# second framework, what FastMCP supplies and the tests rely on (schemas from signatures, the
# two-tier ToolError, this module's argument sentences and capability edits, resource templates,
# `subscriptions.py`, `transport.py`'s HTTP app, and the in-memory `Client(server)` of every server
# test).


def pepper_server(name: str, *, instructions: str | None = None, lifespan: Any = None) -> FastMCP:
    """A FastMCP server as every Pepper server is one (see the module docstring)."""
    server = FastMCP(
        name,
        instructions=instructions,
        version=pepper_version(),
        lifespan=lifespan,
        middleware=[_ArgumentErrors()],
    )
    lowlevel = server._mcp_server
    capabilities = lowlevel.get_capabilities

    def without_prompts(*args: Any, **kwargs: Any) -> mcp_types.ServerCapabilities:
        return capabilities(*args, **kwargs).model_copy(update={"prompts": None})

    lowlevel.get_capabilities = without_prompts  # type: ignore[method-assign]
    return server


class _ArgumentErrors(Middleware):
    async def on_call_tool(self, context: MiddlewareContext, call_next: Any) -> Any:
        try:
            return await call_next(context)
        except ValidationError as exc:
            if not isinstance(exc.__cause__, PydanticValidationError) or context.fastmcp_context is None:
                raise
            tool = await context.fastmcp_context.fastmcp.get_tool(context.message.name)
            schema = tool.parameters if tool is not None else {}
            try:
                sentence = argument_sentence(exc.__cause__, schema)
            except (KeyError, TypeError, ValueError, IndexError):  # a schema shape not foreseen here
                sentence = "the arguments do not match this tool's input schema: see tools/list."
            raise ToolError(sentence) from exc


def argument_sentence(error: PydanticValidationError, schema: dict) -> str:
    """One sentence on the first invalid argument: its name, and what it accepts."""
    first = error.errors()[0]
    loc = [part for part in first["loc"] if isinstance(part, str | int)]
    if first["type"] == "unexpected_keyword_argument":
        known = ", ".join(sorted(schema.get("properties", {}))) or "no arguments"
        return f"{_name(loc)} is not an argument of this tool; it takes: {known}."
    path, found = _property(schema, loc)
    name = _name(path) or "the arguments"
    if first["type"] == "value_error":  # the model's own check, in its author's words
        return f"{name}: {first['msg'].removeprefix('Value error, ').rstrip('.')}."
    if first["type"] in ("missing", "missing_argument"):
        return f"{name} is required: give {_accepts(found)}."
    return f"{name} was {_shown(first.get('input'))}, but it accepts {_accepts(found)}."


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
