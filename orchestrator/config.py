"""The orchestrator's configuration: one TOML file plus environment variables (which win).

The file is `--config PATH`, else `$PEPPER_CONFIG`, else `config.toml` in the user config directory
(`~/.config/pepper/config.toml` on Linux); it is optional. Environment variables use the `PEPPER_`
prefix, except the OpenAI-compatible endpoint, which reads the variables every OpenAI client knows:
`OPENAI_BASE_URL`, `OPENAI_API_KEY`, plus `PEPPER_MODEL`. With neither a base URL nor a key set,
Pepper runs in rules mode. Each server is a `[servers.NAME]` table: a `command` to spawn over stdio, or
a `url` of a streamable-HTTP server; by default the four Pepper servers run as children on local data.
Any other name is a server you add (its tools reach workers as `NAME__tool`); its tools wait for
your approval on every call unless its table says which only read (`read_tools` globs,
`trust_annotations`) or a `[tool_classes.NAME]` table classifies them (`fetch = "read"`).
`[accounts.NAME]` tables are mail and calendar accounts, one server each (orchestrator.accounts);
`[workers.NAME]` tables are custom workers (orchestrator.extensions.config), `[[priority]]` tables the
user's priority rules (orchestrator.extensions.priority). Unknown keys in these
tables, bad globs and servers without a command or URL are `ConfigError`s that say where.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir, user_data_dir
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mcp_servers.common.host_guard import AllowedHosts
from orchestrator.accounts.config import (
    AccountConfig,
    account_servers,
    check_accounts,
    unknown_worker_servers,
)
from orchestrator.extensions.config import (
    WORKER_NAME,
    FeedConfig,
    WorkerConfig,
    check_glob,
    check_server_name,
)
from orchestrator.extensions.priority import PriorityRule, check_rules
from orchestrator.llm import LLMConfig

__all__ = [
    "ConfigError",
    "OrchestratorSettings",
    "ServerConfig",
    "default_config_path",
    "load_settings",
    "write_flags",
]

WRITE_SERVERS = ("gmail", "calendar")  # Pepper's servers that act on a provider: read-only without flags
SERVER_MODULES = {
    "context": "mcp_servers.context_store",
    "gmail": "mcp_servers.gmail",
    "calendar": "mcp_servers.calendar",
    "notify": "mcp_servers.notify",
}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and what to change."""


class ServerConfig(BaseModel):
    """One MCP server: spawned over stdio (`command` + `args`) or reached over HTTP (`url`). A server
    the user added has its tools classified by `read_tools` / `trust_annotations` (else: outward)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Start and use this server")
    command: list[str] = Field(
        default_factory=list, description="Program (and arguments); empty means Pepper's own server"
    )
    args: list[str] = Field(default_factory=list, description="Arguments after `command`")
    url: str | None = Field(None, description="Streamable HTTP URL instead of a child process")
    token: SecretStr | None = Field(None, description="Bearer token for an HTTP server")
    token_env: str | None = Field(None, description="Environment variable that holds the bearer token")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for the child")
    read_tools: list[str] = Field(
        default_factory=list, description="Globs of this server's tools that only read (run without approval)"
    )
    trust_annotations: bool = Field(False, description="Believe the server's readOnlyHint on its tools")

    @field_validator("command", mode="before")
    @classmethod
    def _command_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("read_tools")
    @classmethod
    def _read_globs(cls, patterns: list[str]) -> list[str]:
        return [check_glob(pattern, "read_tools") for pattern in patterns]

    @model_validator(mode="after")
    def _one_way_to_reach_it(self) -> ServerConfig:
        if self.command and self.url:
            raise ValueError("give either `command` (stdio) or `url` (streamable HTTP), not both")
        if self.args and not self.command:
            raise ValueError("`args` needs a `command` to pass them to")
        if self.token_env and self.token:
            raise ValueError("give either `token` or `token_env`, not both")
        return self

    def argv(self) -> list[str]:
        return [*self.command, *self.args]

    def runs_pepper_server(self) -> bool:
        """Whether this spawns one of Pepper's own servers (`python -m mcp_servers.…`), whose
        results need no second check against their output schemas."""
        argv = self.argv()
        return any(
            flag == "-m" and module in SERVER_MODULES.values()
            for flag, module in zip(argv, argv[1:], strict=False)
        )

    def bearer(self) -> SecretStr | None:
        """The HTTP bearer token: `token`, or the value of the variable `token_env` names."""
        if self.token_env:
            value = os.environ.get(self.token_env)
            if not value:
                raise ConfigError(f"token_env names {self.token_env}, which is not set in the environment")
            return SecretStr(value)
        return self.token


class OrchestratorSettings(BaseSettings):
    """Everything `pepper-orchestrator` needs to know, with defaults that run on local data."""

    model_config = SettingsConfigDict(
        env_prefix="PEPPER_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("pepper")), description="Where Pepper keeps its data"
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"),
        description="OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server, OpenAI)",
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"), description="API key"
    )
    model: str = Field("gpt-4o-mini", description="Chat model name (PEPPER_MODEL)")
    ui_host: str = Field("127.0.0.1", description="Web UI bind address")
    ui_port: int = Field(5050, ge=0, le=65535, description="Web UI port")
    ui_token: SecretStr | None = Field(None, description="Token the UI requires when not on loopback")
    ui_allowed_hosts: AllowedHosts = Field(
        (),
        description="Host names besides 127.0.0.1, localhost and [::1] the UI answers to, comma-separated "
        "(a LAN deployment, e.g. pepper.lan; needs PEPPER_UI_TOKEN)",
    )
    user_addresses: list[str] = Field(default_factory=list, description="The user's own email addresses")
    vips: list[str] = Field(default_factory=list, description="Senders whose mail is always important")
    batch_size: int = Field(8, ge=1, le=100, description="Events the scheduler takes per step")
    queue_size: int = Field(1000, ge=10, description="Scheduler queue bound (see the overflow rule)")
    max_concurrent_tools: int = Field(8, ge=1, description="Tool calls running at once")
    tool_timeout_seconds: float = Field(120.0, gt=0, description="Deadline of one tool call")
    triage_days: float = Field(
        14.0,
        gt=0,
        description="Mail older than this many days that is already read is indexed for search, not triaged",
    )
    servers: dict[str, ServerConfig] = Field(default_factory=dict, description="MCP servers by name")
    timezone: str | None = Field(
        None, description="The user's IANA timezone, e.g. Europe/London (default: the system's)"
    )
    language: str = Field(
        "en", description="The language rules-mode chat reads: a table in orchestrator/conversation/lang"
    )
    allow_write: bool = Field(
        False,
        description="Start Pepper's own gmail and calendar servers with --allow-write: labels, read state, "
        "archive, drafts and the user's own events without other people (reversible changes)",
    )
    allow_send: bool = Field(
        False,
        description="Start Pepper's own gmail and calendar servers with --allow-send too: send, trash, spam, "
        "invite, answer invitations and delete (each such action still waits for the user's approval); "
        "implies allow_write",
    )
    approval_reminder_hours: float = Field(
        24.0, gt=0, description="Announce once, on the user's channels, an approval waiting this long"
    )
    health_alert_minutes: float = Field(
        15.0,
        gt=0,
        le=7 * 24 * 60,
        description="Minutes a source (mail, calendar) may fail or its server be down before you get an alert",
    )
    tool_classes: dict[str, dict[str, Literal["read", "local_write", "outward"]]] = Field(
        default_factory=dict,
        description="Your classification of tools of servers you added ({server: {tool: class}}); "
        "unclassified tools wait for approval",
    )
    workers: dict[str, WorkerConfig] = Field(
        default_factory=dict, description="Custom workers the scheduler may delegate to (LLM mode)"
    )
    feeds: dict[str, FeedConfig] = Field(
        default_factory=dict, description="Custom feeds: resources of connected servers, or plugins"
    )
    priority: list[PriorityRule] = Field(
        default_factory=list,
        description="[[priority]] rules: by source, feed, sender or keyword, a priority or a boost",
    )
    accounts: dict[str, AccountConfig] = Field(
        default_factory=dict,
        description="[accounts.NAME] mail and calendar accounts, one server each (orchestrator.accounts)",
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, code: str) -> str:
        from orchestrator.conversation.lang import LANGUAGES

        if code not in LANGUAGES:
            raise ValueError(f"no table for language {code!r}: use one of {', '.join(sorted(LANGUAGES))}")
        return code

    @model_validator(mode="after")
    def _extensions_are_complete(self) -> OrchestratorSettings:
        for name, server in self.servers.items():
            try:
                check_server(name, server)
            except ValueError as exc:
                raise ValueError(f"servers.{name}: {exc}") from None
        known = set(SERVER_MODULES) | set(self.servers)
        accounts = set(account_servers(self.accounts))
        for name, worker in self.workers.items():
            if not WORKER_NAME.match(name):
                raise ValueError(
                    f"workers.{name}: use 1-32 lowercase letters, digits and _, starting with a letter"
                )
            if unknown := sorted(set(worker.servers) - known - accounts):
                raise ValueError(unknown_worker_servers(name, unknown, known, accounts))
        for name, feed in self.feeds.items():
            if not WORKER_NAME.match(name):
                raise ValueError(
                    f"feeds.{name}: use 1-32 lowercase letters, digits and _, starting with a letter"
                )
            if feed.server is not None and feed.server not in known:
                raise ValueError(
                    f"feeds.{name}.server: no server named {feed.server}; add a [servers.NAME] table"
                )
        check_rules(self.priority, list(self.feeds))
        check_accounts(self.accounts, {name for name, s in self.servers.items() if s.command or s.url})
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def llm_mode(self) -> bool:
        """True when an LLM endpoint is configured; otherwise Pepper runs in rules mode."""
        return bool(self.openai_base_url or self.openai_api_key)

    def llm(self) -> LLMConfig:
        return LLMConfig(base_url=self.openai_base_url, api_key=self.openai_api_key, model=self.model)

    def added_servers(self) -> list[str]:
        """The enabled servers the user added beside Pepper's own, in config order."""
        return [
            name for name, server in self.servers.items() if name not in SERVER_MODULES and server.enabled
        ]

    def server(self, name: str) -> ServerConfig:
        """The configuration of `name`, filled in with Pepper's own server on local data."""
        from orchestrator.accounts.specs import account_server  # it builds on this module

        if (account := account_server(self, name)) is not None:
            return account
        configured = self.servers.get(name, ServerConfig())
        if configured.command or configured.url or name not in SERVER_MODULES:
            return configured
        command = default_command(name, self.data_dir) + write_flags(name, self.allow_write, self.allow_send)
        if self.timezone and name == "calendar":
            command += ["--timezone", self.timezone]
        return configured.model_copy(update={"command": command})


def check_server(name: str, server: ServerConfig) -> None:
    """What the server table alone cannot check: its name, and that an added server can be reached."""
    check_server_name(name)
    if name not in SERVER_MODULES and server.enabled and not (server.command or server.url):
        raise ValueError("give `command` (a program to run over stdio) or `url` (a streamable-HTTP endpoint)")


def default_command(name: str, data_dir: Path) -> list[str]:
    """How to start Pepper's own server `name` on the data under `data_dir`."""
    arguments = {
        "context": ["--db", str(data_dir / "context.sqlite3")],
        "gmail": ["--maildir", str(data_dir / "mail")],
        "calendar": ["--ics", str(data_dir / "calendar")],
        "notify": ["--db", str(data_dir / "notify.sqlite3")],
    }
    if name not in SERVER_MODULES:
        raise ValueError(f"unknown server {name!r}; Pepper's servers are {', '.join(SERVER_MODULES)}")
    return [sys.executable, "-m", SERVER_MODULES[name], *arguments[name]]


def write_flags(name: str, allow_write: bool, allow_send: bool) -> list[str]:
    """The flags that let Pepper's own server `name` make reversible changes, or also reach others.

    `--allow-send` implies `--allow-write` in the servers; both are written so a config file says it."""
    if name not in WRITE_SERVERS:
        return []
    wanted = (("--allow-write", allow_write or allow_send), ("--allow-send", allow_send))
    return [flag for flag, on in wanted if on]


def default_config_path() -> Path:
    return Path(os.environ.get("PEPPER_CONFIG") or Path(user_config_dir("pepper")) / "config.toml")


def load_settings(config_file: Path | None = None, **overrides: Any) -> OrchestratorSettings:
    """Settings from `config_file` (or the default path, if it exists), the environment and overrides."""
    path = config_file or default_config_path()
    if config_file is not None and not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")

    class FileSettings(OrchestratorSettings):
        model_config = SettingsConfigDict(**{**OrchestratorSettings.model_config, "toml_file": path})

    try:
        return FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, path)) from None


def describe_errors(error: ValidationError, path: Path) -> str:
    """One line per problem: where in the config it is, and what is wrong with it."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] in ("extra_forbidden", "missing"):
            key = problem["loc"][-1]
            message = (
                f"unknown key {key!r} (check its spelling; see the README's settings)"
                if problem["type"] == "extra_forbidden"
                else f"missing key {key!r}"
            )
            where = ".".join(str(part) for part in problem["loc"][:-1])
        lines.append(f"{where}: {message}" if where else message)
    return f"the configuration ({path}) has {len(lines)} problem(s):\n  " + "\n  ".join(lines)
