"""Tenants on one PostgreSQL, over MCP: each user's HTTP token reaches only that user's server
process, whose tenant is fixed at start; one user can neither read, search, follow the log of, nor
be woken by writes to another's namespaces (see the README: a server process per tenant)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp.shared.exceptions import MCPError

from tests.support.processes import http_server

from .helpers import UpdateRecorder, legacy_subscribe
from .test_processes import ENV, MODULE

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NOTES = "context://namespace/notes.*"


@pytest.fixture
def two_tenants(postgres_url: str) -> Iterator[tuple[str, str]]:
    names = (f"alice{uuid.uuid4().hex[:8]}", f"bob{uuid.uuid4().hex[:8]}")
    yield names
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP SCHEMA IF EXISTS pepper_{name} CASCADE")


def server_env(url: str, tenant: str, token: str) -> dict[str, str]:
    return {
        **ENV,
        "PEPPER_CONTEXT_DATABASE_URL": url,
        "PEPPER_CONTEXT_TENANT": tenant,
        "PEPPER_CONTEXT_TOKEN": token,
    }


async def test_one_users_token_reaches_neither_the_items_nor_the_log_nor_the_wakeups_of_another(
    postgres_url: str, two_tenants: tuple[str, str], tmp_path: Path
) -> None:
    alice_token, bob_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    alice_env = server_env(postgres_url, two_tenants[0], alice_token)
    bob_env = server_env(postgres_url, two_tenants[1], bob_token)
    with (
        http_server(MODULE, ["--db", str(tmp_path / "alice")], alice_env) as alice_url,
        http_server(MODULE, ["--db", str(tmp_path / "bob")], bob_env) as bob_url,
    ):
        async with Client(alice_url, auth=alice_token) as alice:
            await alice.call_tool(
                "store", {"namespace": "notes.private", "id": "plan", "text": "secret plan"}
            )
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bob_token}"}) as http:
            refused = await http.post(alice_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401  # bob's token opens only bob's server

        recorder = UpdateRecorder()
        async with Client(bob_url, auth=bob_token, mode="legacy", message_handler=recorder) as bob:
            with pytest.raises(ToolError, match="no item 'plan'"):
                await bob.call_tool("get", {"namespace": "notes.private", "id": "plan"})
            with pytest.raises(MCPError, match="no item 'plan'"):
                await bob.read_resource("context://item/notes.private/plan")
            assert (await bob.call_tool("query", {"namespaces": ["notes.*"]})).structured_content[
                "items"
            ] == []
            hits = await bob.call_tool("search", {"text": "secret plan", "mode": "lexical"})
            assert hits.structured_content["hits"] == []
            assert (await bob.call_tool("read_events", {"after": 0})).structured_content["events"] == []

            await legacy_subscribe(bob, NOTES)
            async with Client(alice_url, auth=alice_token) as alice:
                await alice.call_tool("store", {"namespace": "notes.private", "id": "plan2", "text": "more"})
            await bob.call_tool("store", {"namespace": "notes.mine", "id": "own", "text": "bob's"})
            assert await recorder.wait_for(1) == [NOTES]  # his own write; alice's, before it, woke nothing
            page = (await bob.call_tool("read_events", {"after": 0})).structured_content
            assert [(e["id"], e["seq"]) for e in page["events"]] == [("own", 1)]
    assert recorder.uris == [NOTES]
