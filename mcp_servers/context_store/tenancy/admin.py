"""`pepper-context-admin`: add and remove the tenants of a PostgreSQL context store, and copy a
SQLite store into one.

    pepper-context-admin add-tenant NAME --tenants FILE --token-file PATH [--shared-role]
    pepper-context-admin remove-tenant NAME --tenants FILE [--erase]
    pepper-context-admin migrate --db FILE [--tenant NAME]

The administrator's connection comes from `PEPPER_CONTEXT_DATABASE_URL` (not the command line,
where other users could read its password; `--to` is still accepted). `add-tenant` creates the
tenant's schema, by default owned by a login role of its own (`pepper_NAME`, a random password,
no other privilege), so that a server process serving that tenant cannot read any other tenant's
tables even if it is compromised; it writes a new token to `--token-file` (0600, never printed) and
the token's SHA-256 and the role's URL to the tenants file (0600). `remove-tenant` takes the token
out of the file (the server refuses it from then on); `--erase` also drops the schema and the role.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ..errors import ContextStoreError, StorageError
from ..postgres.errors import translated
from ..postgres.rows import describe, schema_name
from .registry import TENANT_NAME, Tenant, TenantsFileError, read, token_digest

__all__ = ["add_tenant", "main", "remove_tenant"]

HEADER = "# Written by pepper-context-admin. It holds database passwords: keep it 0600.\n"


def role_url(admin_url: str, role: str, password: str) -> str:
    """The admin's URL with the tenant's role and password in place of the admin's."""
    parts = urlsplit(admin_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def render(tenants: dict[str, Tenant]) -> str:
    """The tenants file's text (JSON strings are valid TOML basic strings)."""
    lines = [HEADER]
    for tenant in sorted(tenants.values(), key=lambda t: t.name):
        lines += [f"\n[tenants.{tenant.name}]\n", f"token_sha256 = {json.dumps(tenant.token_sha256)}\n"]
        if tenant.database_url is not None:
            lines.append(f"database_url = {json.dumps(tenant.database_url)}\n")
    return "".join(lines)


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by its owner only."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Tenant]:
    return read(path) if path.exists() else {}


async def _create_schema(
    connection: psycopg.AsyncConnection, name: str, role: str | None, password: str
) -> None:
    schema = sql.Identifier(schema_name(name))
    await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    if role is None:
        await connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        return
    await connection.execute(
        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )
    await connection.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            sql.Identifier((await (await connection.execute("SELECT current_database()")).fetchone())[0]),
            sql.Identifier(role),
        )
    )
    await connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
    await connection.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, sql.Identifier(role)))
    await connection.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    tables = await connection.execute(  # a store that existed before gets the new owner too
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
        (schema_name(name),),
    )
    for (table,) in await tables.fetchall():
        await connection.execute(
            sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(
                schema, sql.Identifier(table), sql.Identifier(role)
            )
        )


def _undo(token_file: Path, tenants_file: Path, before: dict[str, Tenant]) -> None:
    """Take back what a failed `add_tenant` wrote: the token file and the tenants file's new entry."""
    token_file.unlink(missing_ok=True)
    if tenants_file.exists() and load(tenants_file) != before:
        write_private(tenants_file, render(before))


async def add_tenant(
    admin_url: str, name: str, tenants_file: Path, token_file: Path, own_role: bool = True
) -> Tenant:
    """Create the tenant (schema, role), write its token to `token_file` and its entry to the file."""
    if not TENANT_NAME.match(name):
        raise TenantsFileError(f"the tenant name {name!r} is not 1-40 of a-z, 0-9 and _")
    tenants = load(tenants_file)
    if name in tenants:
        raise TenantsFileError(
            f"{tenants_file} already has a tenant {name!r}: remove it first, or pick another name"
        )
    token, password = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    role = f"pepper_{name}" if own_role else None
    tenant = Tenant(name, token_digest(token), role_url(admin_url, role, password) if role else None)
    try:
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise TenantsFileError(f"{token_file} exists: give a new file for the token (--token-file)") from exc
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    try:
        async with translated(describe(admin_url)):
            async with await psycopg.AsyncConnection.connect(admin_url) as connection:
                async with connection.transaction():
                    try:
                        await _create_schema(connection, name, role, password)
                    except psycopg.errors.DuplicateObject as exc:
                        raise StorageError(
                            f"the database already has a role {role}: remove it, or pick another name"
                        ) from exc
                    write_private(tenants_file, render({**tenants, name: tenant}))
    except BaseException:
        _undo(token_file, tenants_file, tenants)
        raise
    return tenant


async def _drop_role(connection: psycopg.AsyncConnection, role: str) -> None:
    """Drop the tenant's role and what it holds in this database (its CONNECT grant)."""
    found = await connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if await found.fetchone() is not None:
        await connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        await connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


async def remove_tenant(admin_url: str | None, name: str, tenants_file: Path, erase: bool) -> None:
    """Take the tenant out of the file; with `erase`, drop its schema and role too."""
    tenants = load(tenants_file)
    if name not in tenants:
        raise TenantsFileError(
            f"{tenants_file} has no tenant {name!r} (it has: {', '.join(sorted(tenants)) or 'none'})"
        )
    remaining = {key: value for key, value in tenants.items() if key != name}
    if erase:
        if admin_url is None:
            raise StorageError("--erase needs PEPPER_CONTEXT_DATABASE_URL (the administrator's connection)")
        async with translated(describe(admin_url)):
            async with await psycopg.AsyncConnection.connect(admin_url) as connection:
                async with connection.transaction():
                    await connection.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name(name)))
                    )
                    if tenants[name].database_url is not None:
                        await _drop_role(connection, f"pepper_{name}")
                    write_private(tenants_file, render(remaining))
        return
    write_private(tenants_file, render(remaining))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pepper-context-admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-tenant", help="create a tenant: schema, role, token")
    add.add_argument("name", help="1-40 of a-z, 0-9 and _")
    add.add_argument("--tenants", type=Path, required=True, help="the tenants file the server reads")
    add.add_argument(
        "--token-file", type=Path, required=True, help="a new file for the tenant's token (0600)"
    )
    add.add_argument(
        "--shared-role", action="store_true", help="no role of its own: the server's role owns the schema"
    )
    remove = commands.add_parser("remove-tenant", help="refuse a tenant's token from now on")
    remove.add_argument("name")
    remove.add_argument("--tenants", type=Path, required=True)
    remove.add_argument(
        "--erase", action="store_true", help="also drop the tenant's schema (its data) and role"
    )
    copy = commands.add_parser("migrate", help="copy a SQLite store into PostgreSQL and verify the counts")
    copy.add_argument("--db", type=Path, required=True, help="the SQLite store to copy")
    copy.add_argument("--tenant", help="the tenant to copy into (default: schema pepper)")
    for command in (add, remove, copy):
        command.add_argument("--to", help="postgresql://... (default: PEPPER_CONTEXT_DATABASE_URL)")
    return parser.parse_args(argv)


async def _run(arguments: argparse.Namespace, url: str | None) -> str:
    if arguments.command == "remove-tenant":
        await remove_tenant(url, arguments.name, arguments.tenants, arguments.erase)
        erased = (
            "; its schema and role are dropped"
            if arguments.erase
            else " (its data is kept: --erase drops it)"
        )
        return f"removed tenant {arguments.name}: its token is refused from now on{erased}"
    if url is None:
        raise StorageError(
            "set PEPPER_CONTEXT_DATABASE_URL=postgresql://... (the administrator's connection)"
        )
    if arguments.command == "migrate":
        from ..postgres.migrate import migrate

        counts = await migrate(arguments.db, url, arguments.tenant)
        return "copied and verified: " + ", ".join(f"{table} {count}" for table, count in counts.items())
    tenant = await add_tenant(
        url, arguments.name, arguments.tenants, arguments.token_file, not arguments.shared_role
    )
    owner = "the server's role" if tenant.database_url is None else f"role pepper_{tenant.name}"
    return (
        f"added tenant {tenant.name} (schema {schema_name(tenant.name)}, owned by {owner}); its token is in "
        f"{arguments.token_file}: give it to its user (the tenants file keeps only its SHA-256)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    url = arguments.to or os.environ.get("PEPPER_CONTEXT_DATABASE_URL") or None
    try:
        print(asyncio.run(_run(arguments, url)))
    except (ContextStoreError, TenantsFileError) as exc:
        print(f"pepper-context-admin {arguments.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
