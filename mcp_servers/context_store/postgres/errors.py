"""The one boundary where psycopg's errors become the context store's (`translated`).

A server that cannot be reached (down, restarting, a wrong URL) is a `DatabaseUnavailable` that says
so and that the call was not acknowledged (a write cut off at its commit may or may not have landed:
a retry with the same ids is idempotent); a statement stopped by `statement_timeout` is a
`QueryTimeout`; a value PostgreSQL cannot hold (a NUL character in text) is `InvalidInput`. Anything
else is a bug and surfaces as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from ..errors import InvalidInput, QueryTimeout, StorageError

__all__ = ["DatabaseUnavailable", "translated"]


class DatabaseUnavailable(StorageError):
    """The PostgreSQL server cannot be reached; the call changed nothing."""


@asynccontextmanager
async def translated(where: str) -> AsyncIterator[None]:
    """Translate psycopg's errors raised inside the block; `where` names the server (no password)."""
    try:
        yield
    except pg_errors.QueryCanceled as exc:
        raise QueryTimeout(f"PostgreSQL stopped the statement at its deadline ({exc})") from exc
    except (pg_errors.UntranslatableCharacter, pg_errors.CharacterNotInRepertoire) as exc:
        raise InvalidInput(
            f"PostgreSQL cannot store this value ({exc}): remove NUL characters (\\u0000) from text and tags"
        ) from exc
    except pg_errors.TransactionRollback as exc:  # a deadlock or serialization failure: nothing was stored
        raise StorageError(
            f"the write conflicted with a concurrent one and was rolled back ({_first_line(exc)}); try again"
        ) from exc
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise DatabaseUnavailable(
            f"the PostgreSQL server {where} is unavailable ({_first_line(exc)}); the call was not "
            "acknowledged: check that the server is running and that PEPPER_CONTEXT_DATABASE_URL is right, "
            "then retry it (the store reconnects by itself; a write with ids is safe to repeat)"
        ) from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
