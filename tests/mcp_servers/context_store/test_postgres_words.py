"""The PostgreSQL keyword index holds no words of unindexed namespaces (`raw.email` by default): new
items of those namespaces get none, a change of the setting between runs drops or restores words at
open (in batches, finishing a backfill cut short), and a schema of the previous format (a GENERATED
`tsv` of every item's words) is upgraded in place at open, its data kept, for a tenant as its own
role. The shared search tests (`test_search.py`, `test_unindexed.py`) check results on both backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from fastmcp import Client
from psycopg import sql

from mcp_servers.context_store.errors import StorageError
from mcp_servers.context_store.models import ItemInput
from mcp_servers.context_store.postgres import PostgresStorage, words
from mcp_servers.context_store.postgres.migrate import migrate
from mcp_servers.context_store.store import ContextStore
from mcp_servers.context_store.tenancy.admin import add_tenant
from mcp_servers.context_store.tenancy.registry import read
from tests.support.processes import http_server

from .test_postgres import wait_for_a_lock_waiter
from .test_processes import ENV, MODULE

pytestmark = pytest.mark.anyio

MAIL = ("raw.email",)

# postgres/schema.py's TABLES before this change (git 8853cd3): `tsv` GENERATED from every item's text.
PREVIOUS_TABLES = """
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE items (
    rowid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace text NOT NULL,
    id text NOT NULL,
    data json NOT NULL,
    text text,
    tags text[] NOT NULL,
    metadata json NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    expires_at double precision,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED,
    UNIQUE (namespace, id)
);
CREATE INDEX items_by_updated ON items (updated_at);
CREATE INDEX items_by_namespace ON items (namespace text_pattern_ops, updated_at);
CREATE INDEX items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX items_by_words ON items USING gin (tsv);
CREATE INDEX items_by_tags ON items USING gin (tags);
CREATE TABLE events (
    seq bigint PRIMARY KEY,
    namespace text NOT NULL,
    id text NOT NULL,
    op text NOT NULL CHECK (op IN ('store', 'delete', 'expire')),
    at double precision NOT NULL
);
CREATE INDEX events_by_time ON events (at);
CREATE TABLE log_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
);
INSERT INTO log_head (one, last) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE consumers (name text PRIMARY KEY, seq bigint NOT NULL, acked_at double precision NOT NULL);
CREATE TABLE pending_embeddings (
    item_rowid bigint PRIMARY KEY REFERENCES items (rowid) ON DELETE CASCADE,
    attempts integer NOT NULL DEFAULT 0,
    not_before double precision NOT NULL DEFAULT 0
);
CREATE INDEX pending_embeddings_due ON pending_embeddings (not_before);
CREATE TABLE embedding_failures (
    item_rowid bigint PRIMARY KEY REFERENCES items (rowid) ON DELETE CASCADE,
    reason text NOT NULL,
    failed_at double precision NOT NULL
)
"""
ROWS = [("raw.email", f"m{i}", f"invoice {i} from dana") for i in range(50)] + [
    ("notes", "n1", "invoice to pay"),
    ("notes", "n2", None),
]


@pytest.fixture
def pg_tenant(postgres_url: str) -> Iterator[str]:
    name = f"w{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")
        if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (f"pepper_{name}",)).fetchone():
            connection.execute(f"DROP OWNED BY pepper_{name}")
            connection.execute(f"DROP ROLE pepper_{name}")


def build_previous_schema(url: str, tenant: str) -> None:
    """A store of the previous format holding mail and notes, written as `url`'s role."""
    with psycopg.connect(url, autocommit=True) as connection:
        schema = sql.Identifier(f"pepper_{tenant}")
        if not connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (f"pepper_{tenant}",)
        ).fetchone():
            connection.execute(
                sql.SQL("CREATE SCHEMA {}").format(schema)
            )  # a tenant's role may not create one
        connection.execute(sql.SQL("SET search_path TO {}, public").format(schema))
        connection.execute(PREVIOUS_TABLES)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO items (namespace, id, data, text, tags, metadata, created_at, updated_at) "
                "VALUES (%s, %s, 'null', %s, '{}', '{}', 1, 1)",
                ROWS,
            )
        connection.execute("INSERT INTO events VALUES (1, 'notes', 'n1', 'store', 1)")
        connection.execute("UPDATE log_head SET last = 1")


def words_of(url: str, tenant: str) -> dict[str, int]:
    """How many items of each namespace hold words in `tsv`."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            sql.SQL("SELECT namespace, count(tsv) FROM {}.items GROUP BY namespace ORDER BY 1").format(
                sql.Identifier(f"pepper_{tenant}")
            )
        ).fetchall()
    return dict(rows)


def keyword_index_file(url: str, tenant: str) -> int:
    """The GIN index's file: a new one after a rebuild."""
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(
            "SELECT pg_relation_filenode(%s::regclass)", (f"pepper_{tenant}.items_by_words",)
        ).fetchone()[0]


async def lexical_ids(storage: PostgresStorage, text: str) -> list[str]:
    return sorted(hit.item.id for hit in await storage.search(text, mode="lexical", limit=100))


@pytest.fixture
async def opened() -> AsyncIterator[list[PostgresStorage]]:
    stores: list[PostgresStorage] = []
    yield stores
    for storage in stores:
        await storage.aclose()


async def open_store(stores: list[PostgresStorage], url: str, tenant: str, **options: Any) -> PostgresStorage:
    stores.append(await PostgresStorage.open(url, tenant, **options))
    return stores[-1]


async def test_a_previous_format_schema_is_upgraded_in_place_and_drops_mail_words(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage]
) -> None:
    build_previous_schema(postgres_url, pg_tenant)
    assert words_of(postgres_url, pg_tenant) == {"notes": 2, "raw.email": 50}  # text-less n2: empty words
    index_before = keyword_index_file(postgres_url, pg_tenant)

    storage = await open_store(opened, postgres_url, pg_tenant, unindexed_namespaces=MAIL)
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}
    assert keyword_index_file(postgres_url, pg_tenant) != index_before  # rebuilt without mail's keys
    assert await lexical_ids(storage, "invoice dana") == ["n1"]
    assert await storage.count() == (52, 1) and await storage.last_seq() == 1
    assert (await storage.get("raw.email", "m7")).text == "invoice 7 from dana"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        generated = connection.execute(
            "SELECT attgenerated FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'tsv'",
            (f"pepper_{pg_tenant}.items",),
        ).fetchone()
    assert generated == ("",)
    # New items follow the rule, written by the trigger.
    await storage.store_many(
        [
            ItemInput(namespace="raw.email", id="m99", text="invoice 99"),
            ItemInput(namespace="notes", id="n3", text="another invoice"),
        ]
    )
    assert words_of(postgres_url, pg_tenant) == {"notes": 2, "raw.email": 0}
    assert await lexical_ids(storage, "invoice") == ["n1", "n3"]


async def test_a_change_of_the_setting_between_runs_drops_or_restores_words_at_open(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage]
) -> None:
    first = await open_store(opened, postgres_url, pg_tenant, unindexed_namespaces=MAIL)
    await first.store_many([ItemInput(namespace=n, id=i, text=t) for n, i, t in ROWS])
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}

    everything = await open_store(opened, postgres_url, pg_tenant)  # an empty setting: index every namespace
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 50}
    assert len(await lexical_ids(everything, "invoice")) == 51
    index_before = keyword_index_file(postgres_url, pg_tenant)
    notes_only = await open_store(opened, postgres_url, pg_tenant, unindexed_namespaces=("notes",))
    assert words_of(postgres_url, pg_tenant) == {"notes": 0, "raw.email": 50}
    assert keyword_index_file(postgres_url, pg_tenant) == index_before  # 1 item in 52: not worth a rebuild
    assert len(await lexical_ids(notes_only, "invoice")) == 50
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        meta = dict(
            connection.execute(
                sql.SQL("SELECT key, value FROM {}.meta WHERE key LIKE 'lexical.%'").format(
                    sql.Identifier(f"pepper_{pg_tenant}")
                )
            ).fetchall()
        )
    assert meta == {"lexical.unindexed": '["notes"]', "lexical.checked": '["notes"]'}


async def test_a_backfill_runs_in_batches_and_one_cut_short_is_finished_at_the_next_open(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage]
) -> None:
    first = await open_store(opened, postgres_url, pg_tenant)
    await first.store_many([ItemInput(namespace=n, id=i, text=t) for n, i, t in ROWS])
    schema = sql.Identifier(f"pepper_{pg_tenant}")
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as connection:
        await connection.execute(sql.SQL("SET search_path TO {}, public").format(schema))
        async with connection.transaction():
            await words.enforce_rule(connection, f"pepper_{pg_tenant}", MAIL)
        # A backfill stopped after its first batches: some mail keeps its words, nothing is marked done.
        await connection.execute("UPDATE items SET text = text WHERE rowid <= 22 AND namespace = 'raw.email'")
        assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 30}
        assert await words.backfill(connection, batch=7) == 30
        # Upserted in key order, notes first: mail rows 23-52 were put right by five transactions
        # (ids 22-28, 29-35, 36-42, 43-49, 50-56), not one.
        transactions = await connection.execute(
            "SELECT count(DISTINCT xmin::text) FROM items WHERE rowid > 22 AND namespace = 'raw.email'"
        )
        assert await transactions.fetchone() == (5,)
        assert await words.backfill(connection, batch=7) == 0  # marked done: not scanned again
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}


async def test_a_tenants_previous_format_schema_is_upgraded_by_its_own_role(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage], tmp_path: Path
) -> None:
    tenant = await add_tenant(postgres_url, pg_tenant, tmp_path / "tenants.toml", tmp_path / "token")
    assert tenant.database_url is not None
    build_previous_schema(tenant.database_url, pg_tenant)  # the role's own tables, as before this change

    storage = await open_store(opened, tenant.database_url, pg_tenant, unindexed_namespaces=MAIL)
    assert await lexical_ids(storage, "invoice") == ["n1"]
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        owner = connection.execute(
            "SELECT proowner::regrole::text FROM pg_proc WHERE proname = 'items_words' AND pronamespace = %s::regnamespace",
            (f"pepper_{pg_tenant}",),
        ).fetchone()
    assert owner == (f"pepper_{pg_tenant}",)


async def test_an_upgrade_the_servers_role_may_not_make_names_the_owner_and_what_to_do(
    postgres_url: str, pg_tenant: str, tmp_path: Path
) -> None:
    tenant = await add_tenant(postgres_url, pg_tenant, tmp_path / "tenants.toml", tmp_path / "token")
    assert tenant.database_url is not None
    build_previous_schema(postgres_url, pg_tenant)  # tables of the administrator, used by the tenant's role
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA {0} TO {1}").format(
                sql.Identifier(f"pepper_{pg_tenant}"), sql.Identifier(f"pepper_{pg_tenant}")
            )
        )
        admin = connection.execute("SELECT current_user").fetchone()[0]
    with pytest.raises(StorageError) as caught:
        await PostgresStorage.open(tenant.database_url, pg_tenant, unindexed_namespaces=MAIL)
    message = str(caught.value)
    assert f"belongs to {admin}, and only its owner may upgrade it" in message
    assert f"connects as pepper_{pg_tenant}" in message and "OWNER TO" in message
    assert words_of(postgres_url, pg_tenant) == {"notes": 2, "raw.email": 50}  # nothing changed


async def test_a_sqlite_store_migrated_into_postgresql_keeps_its_mail_out_of_the_keyword_index(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage], tmp_path: Path
) -> None:
    source = ContextStore.open(tmp_path / "old.sqlite3", unindexed_namespaces=MAIL)
    source.store_many([ItemInput(namespace=n, id=i, text=t) for n, i, t in ROWS])
    source.close()
    await migrate(tmp_path / "old.sqlite3", postgres_url, pg_tenant)
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}  # the trigger ran on the copy
    storage = await open_store(opened, postgres_url, pg_tenant, unindexed_namespaces=MAIL)
    assert await lexical_ids(storage, "invoice") == ["n1"]
    async with storage.pool.connection() as connection:  # nothing was left for a backfill to do
        assert await words.backfill(connection) == 0


async def test_a_rule_change_waits_for_a_write_in_flight_so_its_item_cannot_keep_words(
    postgres_url: str, pg_tenant: str, opened: list[PostgresStorage]
) -> None:
    first = await open_store(opened, postgres_url, pg_tenant)  # every namespace indexed
    await first.store(ItemInput(namespace="notes", id="n1", text="invoice to pay"))
    holding, release = anyio.Event(), anyio.Event()

    async def write_under_the_old_rule() -> None:
        async with first._write() as db:
            await db.execute(
                "INSERT INTO items (namespace, id, data, text, tags, metadata, created_at, updated_at) "
                "VALUES ('raw.email', 'late', 'null', 'late invoice', '{}', '{}', 1, 1)"
            )
            holding.set()
            await release.wait()

    async def reopen_leaving_mail_out() -> None:
        await open_store(opened, postgres_url, pg_tenant, unindexed_namespaces=MAIL)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(write_under_the_old_rule)
            await holding.wait()
            tasks.start_soon(reopen_leaving_mail_out)
            await wait_for_a_lock_waiter(first)  # the rule change waits for the write to commit
            release.set()
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}
    assert await lexical_ids(opened[-1], "invoice") == ["n1"]


@pytest.mark.slow
async def test_a_multi_tenant_server_upgrades_each_tenants_schema_as_its_role_on_first_use(
    postgres_url: str, pg_tenant: str, tmp_path: Path
) -> None:
    await add_tenant(postgres_url, pg_tenant, tmp_path / "tenants.toml", tmp_path / "token")
    role_url = read(tmp_path / "tenants.toml")[pg_tenant].database_url
    assert role_url is not None
    build_previous_schema(role_url, pg_tenant)
    env = {
        **ENV,
        "PEPPER_CONTEXT_DATABASE_URL": postgres_url,
        "PEPPER_CONTEXT_TENANTS_FILE": str(tmp_path / "tenants.toml"),
    }  # PEPPER_CONTEXT_UNINDEXED_NAMESPACES unset: its default, raw.email
    with http_server(MODULE, [], env) as url:
        async with Client(url, auth=(tmp_path / "token").read_text().strip()) as client:
            result = await client.call_tool("search", {"text": "invoice", "mode": "lexical", "limit": 100})
    assert [hit["item"]["id"] for hit in result.structured_content["hits"]] == ["n1"]
    assert words_of(postgres_url, pg_tenant) == {"notes": 1, "raw.email": 0}
