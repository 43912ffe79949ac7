"""Custom feeds. A declarative `[feeds.NAME]` follows a resource of the example chat server (a real
child process): a message that matches a rule becomes a signal and, being high, a notification; one
that matches nothing is skipped; after a restart the feed catches up on what was posted meanwhile and
repeats nothing. Rules mode, so the whole path is Pepper's own code."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.app import Pepper
from orchestrator.config import ConfigError, load_settings
from orchestrator.mcp_clients import ServerConnection
from tests.support.processes import REPO_ROOT

# Pepper's shutdown may leave a server the SDK's stdio client gave up waiting for: collected here.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

EXAMPLE = REPO_ROOT / "examples" / "chat-feed"
WAIT_SECONDS = 90
FEED = r"""
[feeds.launch]
server = "chat"
uri = "chat://channel/launch"
entries = "messages"
[[feeds.launch.rules]]
field = "text"
pattern = '@dana\b'
priority = "high"
summary = "{author} mentioned you in #launch: {text}"
"""


def write_config(tmp_path: Path, feed: str = FEED) -> Path:
    python_path = f"{REPO_ROOT}:{EXAMPLE}"
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[servers.context]
env = {{ PEPPER_CONTEXT_EMBEDDER = "none", PYTHONPATH = "{REPO_ROOT}" }}
[servers.notify]
env = {{ PYTHONPATH = "{REPO_ROOT}" }}
[servers.gmail]
enabled = false
[servers.calendar]
enabled = false
[servers.chat]
command = ["{sys.executable}", "-m", "pepper_chat_feed.server", "--db", "{tmp_path / "chat.sqlite3"}"]
env = {{ PYTHONPATH = "{python_path}" }}
{feed}
"""
    )
    return config


async def until(connection: ServerConnection, uri: str, check: Callable[[], Awaitable[Any]]) -> Any:
    """`await check()` again at every update of `uri` until it returns something true."""
    changed = [anyio.Event()]
    async with anyio.create_task_group() as watching:
        watching.start_soon(connection.watch, uri, lambda: changed[0].set())
        with anyio.fail_after(WAIT_SECONDS):
            while True:
                changed[0] = event = anyio.Event()
                if found := await check():
                    break
                await event.wait()
        watching.cancel_scope.cancel()
    return found


async def mentions_notified(pepper: Pepper, count: int) -> list[str]:
    async def check() -> list[str] | None:
        outcome = await pepper.connections["notify"].call_tool("list_notifications", {"limit": 100})
        titles = [n["title"] for n in json.loads(outcome.text)["notifications"]]
        found = [t for t in titles if "mentioned you in #launch" in t]
        return found if len(found) >= count else None

    return await until(pepper.connections["notify"], "notify://inbox", check)


async def feed_signals(pepper: Pepper) -> dict[str, dict[str, Any]]:
    return {item.id: item.data for item in await pepper.items.query(["signals.feed"], limit=100)}


async def run_pepper(config: Path, data_dir: Path, during: Callable[[Pepper], Awaitable[Any]]) -> Any:
    pepper = Pepper(load_settings(config, data_dir=data_dir, openai_base_url=None, openai_api_key=None))
    async with anyio.create_task_group() as task_group:
        await task_group.start(pepper.run)
        result = await during(pepper)
        task_group.cancel_scope.cancel()
    return result


async def test_declarative_feed_signals_matching_messages_and_resumes_after_a_restart(tmp_path: Path) -> None:
    config, data_dir = write_config(tmp_path), tmp_path / "data"

    async def first_run(pepper: Pepper) -> tuple[list[str], dict[str, Any]]:
        chat = pepper.connections["chat"]
        await chat.call_tool("post_message", {"channel": "launch", "author": "sam", "text": "ship it friday"})
        await chat.call_tool(
            "post_message", {"channel": "launch", "author": "ari", "text": "@dana can you sign off?"}
        )
        await chat.call_tool("post_message", {"channel": "random", "author": "ari", "text": "@dana lunch"})
        return await mentions_notified(pepper, 1), await feed_signals(pepper)

    notified, signals = await run_pepper(config, data_dir, first_run)
    assert notified == ["ari mentioned you in #launch: @dana can you sign off?"]
    assert list(signals) == ["launch:2"]
    signal = signals["launch:2"]
    assert (signal["kind"], signal["priority"], signal["link"]) == ("feed", "high", "chat://channel/launch")
    assert signal["reasons"] == ["feed launch", r"text matches /@dana\b/"]

    with sqlite3.connect(tmp_path / "chat.sqlite3") as db:  # posted while Pepper was not running
        db.execute(
            "INSERT INTO messages (channel, author, text, at) VALUES ('launch', 'kim', '@Dana ready?', '')"
        )

    async def second_run(pepper: Pepper) -> tuple[list[str], dict[str, Any]]:
        return await mentions_notified(pepper, 2), await feed_signals(pepper)

    notified, signals = await run_pepper(config, data_dir, second_run)
    assert sorted(signals) == ["launch:2", "launch:4"]
    assert sorted(notified) == [
        "ari mentioned you in #launch: @dana can you sign off?",
        "kim mentioned you in #launch: @Dana ready?",
    ]


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ('[feeds.x]\nserver = "chat"', "give `server` and `uri`"),
        (
            '[feeds.x]\nserver = "nope"\nuri = "a://b"\ndefault_priority = "low"',
            "feeds.x.server: no server named nope",
        ),
        ('[feeds.x]\nserver = "chat"\nuri = "a://b"', "would never signal anything"),
        (
            '[feeds.x]\nserver = "chat"\nuri = "a://b"\nrules = [{pattern = "(", priority = "high"}]',
            "not a regular expression",
        ),
        ('[feeds.x]\nplugin = "chat_mentions"\nuri = "a://b"', "a plugin feed takes `options`"),
    ],
)
def test_feed_table_mistakes_are_clear_errors(tmp_path: Path, feed: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(write_config(tmp_path, feed), data_dir=tmp_path)


def test_unknown_feed_plugin_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, '[feeds.x]\nplugin = "no_such_feed"'), data_dir=tmp_path)
    with pytest.raises(ConfigError, match="feeds.x: no feed plugin named 'no_such_feed' is installed"):
        Pepper(settings)
