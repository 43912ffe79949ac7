"""What the PostgreSQL backend writes and reads back: tenant schema names, the upsert and queue SQL,
the check for values PostgreSQL cannot hold, and rows turned into `Item`s."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from ..errors import InvalidInput
from ..models import Item
from ..models import from_epoch as epoch
from ..store import Row

__all__ = [
    "FORGET",
    "QUEUE",
    "UNFAIL",
    "UNQUEUE",
    "UPSERT",
    "checked",
    "describe",
    "item_from_row",
    "schema_name",
]

TENANT_RE = re.compile(r"^[a-z0-9_]{1,40}$")
UPSERT = (
    "INSERT INTO items AS i (namespace, id, data, text, tags, metadata, expires_at, created_at, updated_at) "
    "VALUES (%s, %s, %s::json, %s, %s::text[], %s::json, %s, %s, %s) "
    "ON CONFLICT (namespace, id) DO UPDATE SET data = excluded.data, text = excluded.text, "
    "tags = excluded.tags, metadata = excluded.metadata, updated_at = excluded.updated_at, "
    "expires_at = excluded.expires_at, created_at = CASE WHEN i.expires_at <= excluded.updated_at "
    "THEN excluded.created_at ELSE i.created_at END"
)
KEY = "namespace = %s AND id = %s"
QUEUE = (
    "INSERT INTO pending_embeddings (item_rowid) SELECT rowid FROM items WHERE " + KEY + " "
    "ON CONFLICT (item_rowid) DO UPDATE SET attempts = 0, not_before = 0"
)
UNQUEUE = "DELETE FROM pending_embeddings WHERE item_rowid = (SELECT rowid FROM items WHERE " + KEY + ")"
UNFAIL = "DELETE FROM embedding_failures WHERE item_rowid = (SELECT rowid FROM items WHERE " + KEY + ")"
FORGET = "DELETE FROM items_vec WHERE item_rowid = (SELECT rowid FROM items WHERE " + KEY + ")"


def schema_name(tenant: str | None) -> str:
    if tenant is None:
        return "pepper"
    if not TENANT_RE.match(tenant):
        raise InvalidInput(f"invalid tenant {tenant!r}: use 1-40 chars of [a-z0-9_]")
    return f"pepper_{tenant}"


def describe(url: str) -> str:
    """The server and database of `url`, without the password, for messages."""
    parts = conninfo_to_dict(url)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def checked(row: Row) -> Row:
    """Refuse what PostgreSQL cannot store and SQLite can: NUL characters in text or tags."""
    if (row.text and "\x00" in row.text) or "\\u0000" in row.tags:
        raise InvalidInput(
            f"item {row.namespace}/{row.id} holds a NUL character (\\u0000) in its text or tags, which "
            "PostgreSQL cannot store: remove it"
        )
    return row


def item_from_row(row: Sequence[Any]) -> Item:
    namespace, item_id, data, text, tags, metadata, created, updated, expires = row
    return Item(
        namespace=namespace,
        id=item_id,
        data=data,
        text=text,
        tags=list(tags),
        metadata=metadata,
        created_at=epoch(created),
        updated_at=epoch(updated),
        expires_at=epoch(expires) if expires is not None else None,
    )
