"""One context-store process serving many tenants, each request's token picking its tenant
(`PEPPER_CONTEXT_TENANTS_FILE`), with tenants made by `pepper-context-admin`: a role of their own
per tenant, tokens never printed, and one user unable to reach another's data through the server
or through the database with the role the server uses for them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from mcp_servers.context_store.settings import ContextStoreSettings
from mcp_servers.context_store.tenancy.registry import TenantRegistry, TenantsFileError, read, token_digest
from mcp_servers.context_store.tenancy.router import TenantRouter
from tests.support.processes import REPO_ROOT, child_env, http_server

from .helpers import UpdateRecorder, legacy_subscribe
from .test_processes import ENV, MODULE

NOTES = "context://namespace/notes.*"


def admin(url: str, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_servers.context_store.tenancy.admin", *map(str, arguments)],
        env=child_env({"PEPPER_CONTEXT_DATABASE_URL": url}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def names(postgres_url: str) -> Iterator[list[str]]:
    suffix = uuid.uuid4().hex[:8]
    made = [f"alice{suffix}", f"bob{suffix}", f"carol{suffix}"]
    yield made
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for name in made:
            connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")
            if connection.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (f"pepper_{name}",)
            ).fetchone():
                connection.execute(f"DROP OWNED BY pepper_{name}")
                connection.execute(f"DROP ROLE pepper_{name}")


def add(url: str, name: str, folder: Path) -> str:
    done = admin(url, "add-tenant", name, "--tenants", folder / "tenants.toml", "--token-file", folder / name)
    assert done.returncode == 0, done.stderr
    token = (folder / name).read_text().strip()
    assert token not in done.stdout + done.stderr and f"token is in {folder / name}" in done.stdout
    assert (folder / name).stat().st_mode & 0o777 == 0o600
    assert (folder / "tenants.toml").stat().st_mode & 0o777 == 0o600
    return token


@pytest.mark.anyio
@pytest.mark.slow
async def test_one_process_serves_each_tenant_by_its_token_and_nothing_of_the_others(
    postgres_url: str, names: list[str], tmp_path: Path
) -> None:
    alice, bob, carol = names
    tokens = {name: add(postgres_url, name, tmp_path) for name in (alice, bob)}
    env = {
        **ENV,
        "PEPPER_CONTEXT_DATABASE_URL": postgres_url,
        "PEPPER_CONTEXT_TENANTS_FILE": str(tmp_path / "tenants.toml"),
    }
    with http_server(MODULE, [], env) as url:
        async with httpx.AsyncClient() as http:
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                refused = await http.post(
                    url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers
                )
                assert refused.status_code == 401
        async with Client(url, auth=tokens[alice]) as client:
            await client.call_tool(
                "store", {"namespace": "notes.private", "id": "plan", "text": "secret plan"}
            )
            alice_session = client.transport.get_session_id()

        recorder = UpdateRecorder()
        async with Client(url, auth=tokens[bob], mode="legacy", message_handler=recorder) as client:
            with pytest.raises(ToolError, match="no item 'plan'"):
                await client.call_tool("get", {"namespace": "notes.private", "id": "plan"})
            assert (await client.call_tool("query", {"namespaces": ["notes.*"]})).structured_content[
                "items"
            ] == []
            hits = await client.call_tool("search", {"text": "secret plan", "mode": "lexical"})
            assert hits.structured_content["hits"] == []
            assert (await client.call_tool("read_events", {"after": 0})).structured_content["events"] == []
            await legacy_subscribe(client, NOTES)
            async with Client(url, auth=tokens[alice]) as other:
                await other.call_tool("store", {"namespace": "notes.private", "id": "plan2", "text": "more"})
            await client.call_tool("store", {"namespace": "notes.mine", "id": "own", "text": "bob's"})
            assert await recorder.wait_for(1) == [NOTES]  # his own write; alice's, before it, woke nothing
        assert recorder.uris == [NOTES]

        async with httpx.AsyncClient() as http:  # alice's session id under bob's token is not alice's session
            borrowed = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                headers={
                    "Authorization": f"Bearer {tokens[bob]}",
                    "mcp-session-id": alice_session or "",
                    "Accept": "application/json, text/event-stream",
                },
            )
            assert borrowed.status_code in (400, 404) and "plan" not in borrowed.text

        tokens[carol] = add(postgres_url, carol, tmp_path)  # added while the server runs: served at once
        async with Client(url, auth=tokens[carol]) as client:
            assert (await client.call_tool("read_events", {"after": 0})).structured_content["events"] == []

    # The role the server uses for alice cannot read bob's tables, even with SQL of its own.
    alice_url = read(tmp_path / "tenants.toml")[alice].database_url
    assert alice_url is not None and f"pepper_{alice}" in alice_url
    with psycopg.connect(alice_url, autocommit=True) as connection:
        assert (
            connection.execute("SELECT count(*) FROM items").fetchone() is not None
        )  # search_path: own schema
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(f"SELECT text FROM pepper_{bob}.items")


@pytest.mark.slow
def test_remove_tenant_refuses_its_token_and_erase_drops_its_data(
    postgres_url: str, names: list[str], tmp_path: Path
) -> None:
    alice, bob, _ = names
    for name in (alice, bob):
        add(postgres_url, name, tmp_path)
    done = admin(postgres_url, "remove-tenant", bob, "--tenants", tmp_path / "tenants.toml", "--erase")
    assert done.returncode == 0, done.stderr
    assert set(read(tmp_path / "tenants.toml")) == {alice}
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        schemas = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"pepper_%{names[0][5:]}",)
        )
        assert [row[0] for row in schemas] == [f"pepper_{alice}"]
        assert (
            connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (f"pepper_{bob}",)).fetchone()
            is None
        )
    again = admin(
        postgres_url,
        "add-tenant",
        alice,
        "--tenants",
        tmp_path / "tenants.toml",
        "--token-file",
        tmp_path / "x",
    )
    assert again.returncode == 2 and "already has a tenant" in again.stderr and not (tmp_path / "x").exists()
    missing = admin(postgres_url, "remove-tenant", "nobody", "--tenants", tmp_path / "tenants.toml")
    assert missing.returncode == 2 and "has no tenant 'nobody'" in missing.stderr


@pytest.mark.parametrize(
    ("extra", "arguments", "words"),
    [
        ({}, ["--transport", "stdio"], "served over HTTP only"),
        ({"PEPPER_CONTEXT_DATABASE_URL": ""}, [], "needs PEPPER_CONTEXT_DATABASE_URL"),
        ({"PEPPER_CONTEXT_TOKEN": "t"}, [], "unset PEPPER_CONTEXT_TOKEN"),
        ({"PEPPER_CONTEXT_TENANT": "alice"}, [], "unset PEPPER_CONTEXT_TENANT"),
    ],
)
def test_a_tenants_server_that_cannot_work_says_why_in_one_line(
    tmp_path: Path, extra: dict[str, str], arguments: list[str], words: str
) -> None:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text(f'[tenants.alice]\ntoken_sha256 = "{token_digest("x")}"\n')
    tenants.chmod(0o600)
    env = {
        **ENV,
        "PEPPER_CONTEXT_DATABASE_URL": "postgresql://nobody@/nothing",
        "PEPPER_CONTEXT_TENANTS_FILE": str(tenants),
    }
    env.update(extra)
    if env["PEPPER_CONTEXT_DATABASE_URL"] == "":
        del env["PEPPER_CONTEXT_DATABASE_URL"]
    done = subprocess.run(
        [sys.executable, "-m", MODULE, *(arguments or ["--transport", "http", "--port", "0"])],
        env=child_env(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[tenants.alice\n", "not valid TOML"),
        ('[tenants.Alice]\ntoken_sha256 = "' + "0" * 64 + '"\n', "a tenant name is 1-40"),
        ('[tenants.alice]\ntoken_sha256 = "abc"\n', "64 hex digits"),
        ('[tenants.alice]\ntoken_sha256 = "' + "0" * 64 + '"\npassword = "x"\n', "unknown key 'password'"),
        (
            '[tenants.alice]\ntoken_sha256 = "' + "0" * 64 + '"\ndatabase_url = "mysql://x"\n',
            "must start with postgresql://",
        ),
        (
            '[tenants.a]\ntoken_sha256 = "'
            + "0" * 64
            + '"\n[tenants.b]\ntoken_sha256 = "'
            + "0" * 64
            + '"\n',
            "same token",
        ),
        ("[users.alice]\n", "unknown table 'users'"),
    ],
)
def test_every_mistake_in_the_tenants_file_is_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(TenantsFileError, match=words) as caught:
        read(path)
    assert str(path) in str(caught.value)


def test_the_tenants_file_must_be_private_and_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(f'[tenants.alice]\ntoken_sha256 = "{token_digest("a-token")}"\n')
    path.chmod(0o644)
    with pytest.raises(TenantsFileError, match="readable by others .* chmod 600"):
        read(path)
    path.chmod(0o600)
    registry = TenantRegistry(path)
    assert registry.tenant_for("a-token").name == "alice"
    assert registry.tenant_for("b-token") is None and registry.reload() is False
    path.write_text(path.read_text() + f'[tenants.bob]\ntoken_sha256 = "{token_digest("b-token")}"\n')
    os.utime(path, ns=(1, 1))  # a different mtime even within the file system's time resolution
    assert registry.reload() is True and registry.tenant_for("b-token").name == "bob"
    path.write_text("broken [")
    with pytest.raises(TenantsFileError):
        registry.reload()
    assert registry.tenant_for("b-token").name == "bob"  # the tenants read before stay in force
    assert registry.reload() is False  # the broken version is reported once, not on every token
    path.write_text(f'[tenants.carol]\ntoken_sha256 = "{token_digest("c-token")}"\n')
    os.utime(path, ns=(2, 2))
    assert registry.reload() is True and registry.tenant_for("c-token").name == "carol"  # mended


def test_a_tenant_added_while_the_server_runs_is_known_at_once_even_after_an_unknown_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tenants.toml"
    path.write_text(f'[tenants.alice]\ntoken_sha256 = "{token_digest("a-token")}"\n')
    path.chmod(0o600)
    router = TenantRouter(ContextStoreSettings(), TenantRegistry(path))
    assert router._tenant("not-a-token") is None  # looked the file up again: nothing new
    path.write_text(path.read_text() + f'[tenants.bob]\ntoken_sha256 = "{token_digest("b-token")}"\n')
    os.utime(path, ns=(1, 1))
    assert router._tenant("b-token").name == "bob"  # at once, not a second after the unknown token


@pytest.mark.slow
def test_a_store_migrated_into_a_tenant_with_a_role_of_its_own_is_that_roles(
    postgres_url: str, names: list[str], tmp_path: Path
) -> None:
    from mcp_servers.context_store.models import ItemInput
    from mcp_servers.context_store.store import ContextStore

    alice = names[0]
    add(postgres_url, alice, tmp_path)
    source = ContextStore.open(tmp_path / "old.sqlite3")
    source.store_many([ItemInput(namespace="notes.a", id=str(n), text=f"note {n}") for n in range(5)])
    source.close()
    done = admin(postgres_url, "migrate", "--db", tmp_path / "old.sqlite3", "--tenant", alice)
    assert done.returncode == 0, done.stderr
    assert "copied and verified: items 5, events 5" in done.stdout
    alice_url = read(tmp_path / "tenants.toml")[alice].database_url
    assert alice_url is not None
    with psycopg.connect(alice_url, autocommit=True) as connection:  # usable by her role, not only the admin
        connection.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
        assert connection.execute("SELECT count(*) FROM items").fetchone() == (5,)
