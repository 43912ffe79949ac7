"""Fixtures for the context store tests, and a deterministic test-double embedder (tests only).

Every test that uses `store`, `semantic_store` or `settings` runs twice: against SQLite and against
a real PostgreSQL 16 + pgvector, started once per session from the `pgserver` wheel in a temporary
directory. Each PostgreSQL test gets a tenant (schema) of its own, dropped afterwards. A test marked
`sqlite_only` checks the SQLite backend itself and runs once. For PostgreSQL, `store` is the async
backend behind a blocking facade (`Blocking`), so the same synchronous test body serves both.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
import re
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.store import ContextStore


class HashingEmbedder:
    """Bag of words hashed into `dimension` buckets, L2-normalised: texts sharing words are close."""

    def __init__(self, dimension: int = 64, name: str = "test:hashing") -> None:
        self.name = name
        self.dimension = dimension
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
            vector[bucket % self.dimension] += 1.0
        norm = math.sqrt(sum(value * value for value in vector)) or 1.0
        return [value / norm for value in vector]


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if sqlite_only else BACKENDS)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # parametrized by pytest_generate_tests


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL server with pgvector for the session (as root, pgserver runs it as its own user).

    Its data lives outside pytest's temporary folders: pytest makes /tmp/pytest-of-<user> private
    again at every start (another session's too), which would lock the server's user out."""
    folder = Path(tempfile.mkdtemp(prefix="pepper-postgres-"))
    folder.chmod(0o755)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
        import pgserver
        from pgserver._commands import pg_ctl

        server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    # Test data need not survive a power cut: without fsync each test's schema is created in half the time.
    server.psql(
        "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off; SELECT pg_reload_conf();"
    )
    try:
        yield server
    finally:
        try:  # stopped here: after a restart (crash tests) pgserver's own clean-up no longer knows its pid
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        finally:
            server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Any) -> str:
    return postgres_server.get_uri()


@pytest.fixture
def tenant(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh tenant (schema) for a PostgreSQL test, dropped afterwards; None for SQLite."""
    if backend == "sqlite":
        yield None
        return
    import psycopg

    url = request.getfixturevalue("postgres_url")
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")


class Blocking:
    """A synchronous view of an async `Storage`: each coroutine method runs on the portal's loop."""

    def __init__(self, storage: Any, portal: BlockingPortal) -> None:
        self._storage = storage
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._storage, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return lambda *args, **kwargs: self._portal.call(functools.partial(attribute, *args, **kwargs))

    def close(self) -> None:
        self._portal.call(self._storage.aclose)


@pytest.fixture
def open_backend(
    backend: str, db_path: Path, tenant: str | None, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """`open_backend(**options)`: the store under test, opened like `ContextStore.open(db_path, ...)`."""
    if backend == "sqlite":
        opened: list[Any] = []

        def open_sqlite(**options: Any) -> ContextStore:
            opened.append(ContextStore.open(db_path, **options))
            return opened[-1]

        yield open_sqlite
        for store in opened:
            store.close()
        return
    from mcp_servers.context_store.postgres import PostgresStorage

    url = request.getfixturevalue("postgres_url")
    with start_blocking_portal("asyncio") as portal:
        facades: list[Blocking] = []

        def open_postgres(**options: Any) -> Blocking:
            storage = portal.call(functools.partial(PostgresStorage.open, url, tenant, **options))
            facades.append(Blocking(storage, portal))
            return facades[-1]

        yield open_postgres
        for facade in facades:
            facade.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "context.sqlite3"


@pytest.fixture
def settings(
    db_path: Path, backend: str, tenant: str | None, request: pytest.FixtureRequest
) -> ContextStoreSettings:
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    return ContextStoreSettings(
        db_path=db_path, database_url=url, tenant=tenant, embedder="none", maintenance_interval_seconds=0.2
    )


@pytest.fixture
def store(open_backend: Any) -> ContextStore:
    return open_backend()


@pytest.fixture
def semantic_store(open_backend: Any) -> ContextStore:
    return open_backend(embedder=HashingEmbedder())
