"""The config tables that extend Pepper, checked when the config is loaded so that a mistake is a
clear error at start, never a server or worker that silently does nothing.

`[servers.NAME]` (the model lives in orchestrator.config) may name any MCP server: a `command` (with
`args` and `env`) to run over stdio, or a streamable-HTTP `url` with a bearer token from the
environment variable named by `token_env`. Its tools reach workers as `NAME__tool`; every one of
them waits for approval unless `read_tools` (globs over the server's tool names) or
`trust_annotations = true` (believe the server's readOnlyHint) says it only reads. `[workers.NAME]`
is a custom worker the scheduler can delegate to in LLM mode (`WorkerConfig`). `[feeds.NAME]` is a
feed (`FeedConfig`): declarative (a resource of a connected server, by URI or URI template, read on
each update or paged from a cursor by the server's list_changes-style tool, its new entries turned
into signals by `rules` or the model), or a plugin from the `pepper.feeds` entry-point group.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "FeedConfig",
    "FeedRule",
    "SERVER_NAME",
    "WORKER_NAME",
    "WorkerConfig",
    "check_glob",
    "check_server_name",
    "fill_template",
    "matches_any",
]

SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*$")
"""Letters, digits, dashes and single underscores: `NAME__tool` must split at its one double underscore."""
WORKER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # the scheduler's `delegate` accepts these
GLOB_CHARACTERS = re.compile(r"^[A-Za-z0-9_.*?!\[\]-]+$")
RESERVED_SERVERS = frozenset({"pepper"})  # the scheduler's own tools are classified as server "pepper"
MAX_SERVER_NAME = 32


def check_server_name(name: str) -> str:
    """`name` if it can prefix tool names (`NAME__tool`); a ValueError saying why not otherwise."""
    if name in RESERVED_SERVERS:
        raise ValueError(f"the server name {name!r} is reserved for Pepper's own tools; pick another")
    if len(name) > MAX_SERVER_NAME or not SERVER_NAME.match(name):
        raise ValueError(
            f"the server name {name!r} is not usable: use at most {MAX_SERVER_NAME} letters, digits, "
            "dashes and single underscores, starting with a letter (tools are named NAME__tool)"
        )
    return name


def check_glob(pattern: str, what: str) -> str:
    """`pattern` if it is a tool-name glob (`*`, `?`, `[abc]`, `[!abc]`); a ValueError otherwise."""
    if not pattern or not GLOB_CHARACTERS.match(pattern):
        raise ValueError(
            f"{what}: {pattern!r} is not a tool-name glob; use letters, digits, _ . - and the "
            'wildcards * ? [...] (e.g. "read_*")'
        )
    depth = 0
    for character in pattern:
        depth += {"[": 1, "]": -1}.get(character, 0)
        if depth not in (0, 1):
            raise ValueError(f"{what}: {pattern!r} has unbalanced brackets")
    if depth:
        raise ValueError(f"{what}: {pattern!r} opens a [ it never closes")
    return pattern


def matches_any(name: str, patterns: list[str]) -> str | None:
    """The first of `patterns` that `name` matches (case-sensitively), else None."""
    return next((pattern for pattern in patterns if fnmatchcase(name, pattern)), None)


class WorkerConfig(BaseModel):
    """A custom worker: what it is for, how it works, and the tools it may use."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(
        min_length=1, description="What the scheduler's `delegate` tool tells the model this worker does"
    )
    instructions: str = Field("", description="How the worker goes about its tasks (its system prompt)")
    servers: list[str] = Field(
        default_factory=list, description="Servers whose every tool it may use (an account's: gmail.work)"
    )
    tools: list[str] = Field(
        default_factory=list, description="More tools it may use, as globs over NAME__tool (sqlite__read_*)"
    )
    stateful: bool = Field(
        True, description="Keep notes across tasks in memory.worker.NAME, one task at a time"
    )
    concurrency: int = Field(1, ge=1, le=16, description="Tasks at once (stateless workers only)")
    timeout_seconds: float = Field(600.0, gt=0, description="A task still running after this is stopped")

    @field_validator("tools")
    @classmethod
    def _tool_globs(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            check_glob(pattern, "tools")
            if "__" not in pattern:
                raise ValueError(
                    f'tools: {pattern!r} names no server; write SERVER__TOOL globs such as "sqlite__read_*"'
                )
        return patterns

    @model_validator(mode="after")
    def _one_at_a_time_when_stateful(self) -> WorkerConfig:
        if self.stateful and self.concurrency > 1:
            raise ValueError(
                "a stateful worker runs one task at a time (its notes would race): "
                "set stateful = false, or drop concurrency"
            )
        return self

    def allows(self, server: str, tool: str) -> bool:
        """True when this worker may use `server`'s tool `tool`."""
        return server in self.servers or matches_any(f"{server}__{tool}", self.tools) is not None


Priority = Literal["low", "normal", "high", "urgent"]
TEMPLATE_FIELD = re.compile(r"\{(\w+)\}")


class FeedRule(BaseModel):
    """Entries whose `field` matches `pattern` (a regular expression, case-insensitive) become
    signals of `priority`, summarized by `summary` (`{field}` is replaced by the entry's value)."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field("text", min_length=1, description="The entry's field to match")
    pattern: str = Field(min_length=1, description="Regular expression, matched case-insensitively")
    priority: Priority = Field(description="The signal's priority")
    summary: str = Field("{text}", min_length=1, description="One-line summary; {field} inserts a field")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a regular expression: {exc}") from None
        return pattern

    def matches(self, entry: dict[str, Any]) -> bool:
        return re.search(self.pattern, str(entry.get(self.field, "")), re.IGNORECASE) is not None

    def summarize(self, entry: dict[str, Any]) -> str:
        return TEMPLATE_FIELD.sub(lambda m: str(entry.get(m.group(1), "")), self.summary)[:300]


class FeedConfig(BaseModel):
    """A custom feed: declarative (`server` + `uri` + `rules`) or a plugin (`plugin` + `options`)."""

    model_config = ConfigDict(extra="forbid")

    server: str | None = Field(None, description="The connected server whose resource is followed")
    uri: str | None = Field(None, description="The resource URI to subscribe to and read on each update")
    resource_template: str | None = Field(
        None,
        description="Instead of `uri`: a URI template (chat://channel/{name}) filled from `params`, "
        "or the name of a template the server lists",
    )
    params: dict[str, str] = Field(default_factory=dict, description="The template's values")
    changes_tool: str | None = Field(
        None,
        description="The server's list_changes-style tool (since=cursor, limit; answers the entries, "
        "`cursor` and `has_more`): read from the saved cursor on start and on each update",
    )
    changes_arguments: dict[str, Any] = Field(
        default_factory=dict, description="More arguments for `changes_tool` (e.g. the channel)"
    )
    triage: Literal["auto", "rules", "llm"] = Field(
        "auto", description="Who judges each entry: auto (the model when configured), rules, or llm"
    )
    entries: str = Field(
        "", description="Key of the list of entries in the resource's JSON; empty: the list itself"
    )
    id_field: str = Field("id", min_length=1, description="The entry field that identifies it (stable)")
    rules: list[FeedRule] = Field(default_factory=list, description="The first matching rule decides")
    default_priority: Priority | Literal["skip"] = Field(
        "skip", description="Entries that match no rule: skipped, or signals of this priority"
    )
    plugin: str | None = Field(None, description="Name of a feed in the `pepper.feeds` entry-point group")
    options: dict[str, Any] = Field(default_factory=dict, description="Passed to the plugin's factory")

    @model_validator(mode="after")
    def _declarative_or_plugin(self) -> FeedConfig:
        if self.plugin:
            if self.uri or self.rules or self.resource_template:
                raise ValueError("a plugin feed takes `options`, not `uri`, `resource_template` or `rules`")
            return self
        if not (self.server and (self.uri or self.resource_template)):
            raise ValueError(
                "give `server` and `uri` or `resource_template` (a declarative feed) or `plugin` "
                "(a feed from a package)"
            )
        if self.uri and self.resource_template:
            raise ValueError("give `uri` or `resource_template`, not both")
        if taken := sorted({"since", "limit"} & set(self.changes_arguments)):
            raise ValueError(
                f"changes_arguments: {', '.join(taken)} is Pepper's to set (the cursor, the page)"
            )
        if self.changes_arguments and not self.changes_tool:
            raise ValueError("changes_arguments without changes_tool: name the list_changes-style tool")
        if self.resource_template and "{" in self.resource_template:
            fill_template(self.resource_template, self.params)
        if not self.rules and self.default_priority == "skip" and self.triage != "llm":
            raise ValueError(
                'no `rules` and default_priority = "skip": this feed would never signal anything '
                '(add rules, or triage = "llm")'
            )
        return self


def fill_template(template: str, params: dict[str, str]) -> str:
    """`template` with each {name} replaced by its value in `params`, percent-encoded (RFC 6570
    simple expansion); a ValueError naming what is missing or left over."""
    names = TEMPLATE_FIELD.findall(template)
    if missing := [name for name in names if name not in params]:
        raise ValueError(f"resource_template {template!r} needs params {', '.join(missing)}")
    if unused := sorted(set(params) - set(names)):
        raise ValueError(f"params {', '.join(unused)} are not in resource_template {template!r}")
    if re.search(r"\{[^\w}]", template):
        raise ValueError(f"resource_template {template!r}: only simple {{name}} expressions are supported")
    return TEMPLATE_FIELD.sub(lambda m: quote(params[m.group(1)], safe=""), template)
