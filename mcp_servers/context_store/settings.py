"""Configuration of the context store, from `PEPPER_CONTEXT_*` environment variables.

Nothing is read at import: `ContextStoreSettings()` reads the environment when `main()` builds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mcp_servers.common.host_guard import AllowedHosts

if TYPE_CHECKING:
    from .embedders import EmbedderSpec

__all__ = ["ContextStoreSettings", "default_db_path"]


def default_db_path() -> Path:
    return Path(user_data_dir("pepper")) / "context.sqlite3"


class ContextStoreSettings(BaseSettings):
    """Every knob of the context store server; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="PEPPER_CONTEXT_", extra="ignore")

    db_path: Path = Field(default_factory=default_db_path, description="SQLite database file")
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://USER:PASSWORD@HOST:PORT/DB: keep the store in PostgreSQL + pgvector "
        "instead of the SQLite file (needs the postgres extra)",
    )
    tenant: str | None = Field(
        None,
        pattern=r"^[a-z0-9_]{1,40}$",
        description="PostgreSQL: whose store this server serves (schema pepper_<tenant>; default: schema pepper)",
    )
    tenants_file: Path | None = Field(
        None,
        description="PostgreSQL over HTTP: serve every tenant of this file (written by pepper-context-admin), "
        "each request's token picking its tenant",
    )
    max_open_tenants: int = Field(50, gt=0, description="With a tenants file: most tenants served at once")
    tenant_pool_size: int = Field(
        4, gt=0, description="With a tenants file: most database connections per tenant (plus one LISTEN)"
    )
    token: SecretStr | None = Field(None, description="Bearer token required on the HTTP transport")
    allowed_hosts: AllowedHosts = Field(
        (),
        description="HTTP: host names besides 127.0.0.1, localhost and [::1] that requests may name, "
        "comma-separated (a LAN deployment; needs the token)",
    )
    embedder: Literal["local", "openai", "none"] = Field(
        "local",
        description="Embedder for semantic search: a bundled local model, an OpenAI-compatible endpoint, or none",
    )
    embedder_model: str | None = Field(
        None, description="Embedding model name (the embedder's default when unset)"
    )
    embedder_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible embeddings endpoint"
    )
    embedder_api_key: SecretStr | None = Field(None, description="API key of the embeddings endpoint")
    embedder_dimension: int | None = Field(
        None, gt=0, description="Vector dimension (OpenAI-compatible endpoints)"
    )
    max_item_bytes: int = Field(
        1_048_576, gt=0, description="Largest data + text + metadata of one item, in bytes"
    )
    max_batch_items: int = Field(10_000, gt=0, description="Most items one store_many call may carry")
    max_query_chars: int = Field(2_000, gt=0, description="Longest search text, in characters")
    query_timeout_seconds: float = Field(
        10.0, gt=0, description="A read (search, query, get, read_events) is stopped after this long"
    )
    event_retention_days: float = Field(7.0, gt=0, description="Events older than this may be compacted")
    event_retention_max: int = Field(
        1_000_000, gt=0, description="Events beyond the newest N may be compacted"
    )
    consumer_live_days: float = Field(
        30.0, gt=0, description="A consumer that acked within this many days holds back compaction"
    )
    maintenance_interval_seconds: float = Field(
        30.0, gt=0, description="How often expired items are purged and the event log compacted"
    )
    rss_budget_mb: int | None = Field(
        400,
        ge=64,
        description="Resident memory the context store keeps to, in MB: the embedding batch shrinks near "
        "it (as many texts as the room left holds); over it the model is unloaded, SQLite's caches shrunk and freed heap returned; SQLite's "
        "memory map is capped at a quarter of it. 0 or empty for no budget",
    )
    embed_idle_seconds: float = Field(
        5.0,
        ge=0,
        description="Old mail stored for search only (tagged backfill) is embedded only after this many "
        "seconds without other writes to embed",
    )
    unindexed_namespaces: Annotated[tuple[str, ...], NoDecode] = Field(
        ("raw.email",),
        description="Namespaces (exact names, comma-separated) whose text is kept for semantic search but left "
        "out of the lexical index; default raw.email: the gmail server's own index answers keyword search of mail",
    )
    poll_interval_seconds: float = Field(
        0.01, gt=0, description="How often the database is checked for commits by other processes"
    )

    @field_validator("unindexed_namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        """A comma-separated list; empty for none (every namespace indexed)."""
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("rss_budget_mb", mode="before")
    @classmethod
    def _no_budget(cls, value: object) -> object:
        """0 or an empty value means no budget."""
        return None if value in (0, "0", "") else value

    def embedder_spec(self) -> EmbedderSpec:
        from .embedders import EmbedderSpec

        return EmbedderSpec(
            kind=self.embedder,
            model=self.embedder_model,
            base_url=self.embedder_base_url,
            api_key=self.embedder_api_key,
            dimension=self.embedder_dimension,
        )
