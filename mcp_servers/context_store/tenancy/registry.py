"""The tenants file: which bearer token opens which tenant's store, and as which database role.

    # written by pepper-context-admin: it holds database passwords, keep it 0600
    [tenants.alice]
    token_sha256 = "9f86d081..."                       # SHA-256 of alice's token, never the token
    database_url = "postgresql://pepper_alice:...@db/pepper"   # optional: alice's own role

A tenant without `database_url` is served through the server's own `PEPPER_CONTEXT_DATABASE_URL`.
The file must belong to the user running the server and be readable by no one else, since it may
hold passwords; it is read again when it changes, so a tenant added while the server runs is served
without a restart. Tokens are compared by their digest in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TENANT_NAME", "Tenant", "TenantRegistry", "TenantsFileError", "token_digest"]

TENANT_NAME = re.compile(r"^[a-z0-9_]{1,40}$")  # the same rule as PEPPER_CONTEXT_TENANT
DIGEST = re.compile(r"^[0-9a-f]{64}$")
MAX_TENANTS = 10_000
KEYS = {"token_sha256", "database_url"}


class TenantsFileError(ValueError):
    """The tenants file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Tenant:
    name: str
    token_sha256: str
    database_url: str | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_private(path: Path, info: os.stat_result) -> None:
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TenantsFileError(
            f"the tenants file {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}): "
            f"it may hold database passwords; run chmod 600 {path}"
        )
    if info.st_uid != os.getuid():
        raise TenantsFileError(f"the tenants file {path} belongs to another user: make it yours (chown)")


def _tenant(path: Path, name: str, table: object) -> Tenant:
    where = f"{path}: [tenants.{name}]"
    if not TENANT_NAME.match(name):
        raise TenantsFileError(f"{where}: a tenant name is 1-40 of a-z, 0-9 and _")
    if not isinstance(table, dict):
        raise TenantsFileError(f"{where} must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise TenantsFileError(f"{where}: unknown key {unknown[0]!r} (known: database_url, token_sha256)")
    digest = table.get("token_sha256")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise TenantsFileError(f"{where}: token_sha256 must be the 64 hex digits of the token's SHA-256")
    url = table.get("database_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://"))):
        raise TenantsFileError(f"{where}: database_url must start with postgresql://")
    return Tenant(name, digest, url)


def parse(path: Path, text: str) -> dict[str, Tenant]:
    """The tenants a file's text names, checked; a `TenantsFileError` names the first mistake."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TenantsFileError(f"the tenants file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"tenants"})
    if unknown:
        raise TenantsFileError(f"{path}: unknown table {unknown[0]!r}: tenants go under [tenants.NAME]")
    tables = document.get("tenants", {})
    if not isinstance(tables, dict):
        raise TenantsFileError(f"{path}: tenants must be tables, [tenants.NAME]")
    if len(tables) > MAX_TENANTS:
        raise TenantsFileError(f"{path} names {len(tables)} tenants; one server serves at most {MAX_TENANTS}")
    tenants = {name: _tenant(path, name, table) for name, table in tables.items()}
    digests = [tenant.token_sha256 for tenant in tenants.values()]
    if len(set(digests)) != len(digests):
        raise TenantsFileError(f"{path}: two tenants have the same token; give each its own")
    return tenants


def read(path: Path) -> dict[str, Tenant]:
    try:
        info = path.stat()
        _check_private(path, info)
        return parse(path, path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TenantsFileError(
            f"the tenants file {path} does not exist: create it with pepper-context-admin add-tenant"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TenantsFileError(f"cannot read the tenants file {path}: {exc}") from exc


class TenantRegistry:
    """The tenants of one file, re-read when the file changes (its size, mtime or inode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, int, int] | None = None
        self._broken: tuple[int, int, int] | None = None  # a version that failed to read, reported once
        self._tenants: dict[str, Tenant] = {}
        self.reload()

    @property
    def tenants(self) -> dict[str, Tenant]:
        return dict(self._tenants)

    def reload(self) -> bool:
        """Read the file again if it changed (a `stat`, cheap enough to ask on every unknown token);
        True if it did. A broken new version raises once and the tenants read before stay in force
        until the file changes again."""
        try:
            info = self.path.stat()
        except OSError:
            info = None
        signature = None if info is None else (info.st_ino, info.st_size, info.st_mtime_ns)
        if signature is not None and signature in (self._signature, self._broken):
            return False
        try:
            self._tenants = read(self.path)
        except TenantsFileError:
            self._broken = signature
            raise
        self._signature = signature
        return True

    def tenant_for(self, token: str) -> Tenant | None:
        """The tenant this token opens, or None; every digest is compared, so the time taken does
        not depend on which tenant (if any) matched."""
        digest = token_digest(token)
        found = None
        for tenant in self._tenants.values():
            if hmac.compare_digest(digest, tenant.token_sha256):
                found = tenant
        return found
