"""A feed shipped by a separate package: the example `pepper-chat-feed`, installed by pip, is found
through its `pepper.feeds` entry point and, run against the real chat server and context store,
publishes the messages that mention the user (high when they ask something) exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from orchestrator.context_items import ContextItems
from orchestrator.extensions.config import FeedConfig
from orchestrator.extensions.feeds import ENTRY_POINT_GROUP, FeedContext, build_feed
from orchestrator.mcp_clients import ServerConnection, ServerSpec
from tests.support.processes import REPO_ROOT, child_env

pytestmark = [pytest.mark.timeout(240)]

EXAMPLE = REPO_ROOT / "examples" / "chat-feed"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package as pip installs it (wheel built from its pyproject), in a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        str(target),
        str(EXAMPLE),
    ]
    subprocess.run(install, check=True, timeout=200, capture_output=True)
    return target


@pytest.fixture
def example_on_path(installed_example: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installed example first on sys.path, and not yet imported (collecting the example's own
    tests imports it from examples/): the entry point must load the installed copy."""
    for name in [name for name in sys.modules if name.startswith("pepper_chat_feed")]:
        monkeypatch.delitem(sys.modules, name)  # put back when the test ends
    monkeypatch.syspath_prepend(str(installed_example))
    yield installed_example
    for name in [name for name in sys.modules if name.startswith("pepper_chat_feed")]:
        del sys.modules[name]


def test_plugin_feed_is_found_through_its_entry_point(example_on_path: Path) -> None:
    options = {"server": "chat", "channel": "launch", "mention": "@dana"}
    feed = build_feed(FeedConfig(plugin="chat_mentions", options=options))
    assert type(feed).__name__ == "ChatMentions"
    assert Path(sys.modules[type(feed).__module__].__file__ or "").is_relative_to(example_on_path)
    with pytest.raises(
        ValueError, match="no feed plugin named 'nope' is installed \\(installed: .*chat_mentions"
    ):
        build_feed(FeedConfig(plugin="nope"))
    assert ENTRY_POINT_GROUP == "pepper.feeds"


@pytest.mark.anyio
@pytest.mark.servers("context")
async def test_plugin_feed_publishes_each_mention_once(
    example_on_path: Path, connections, tmp_path: Path
) -> None:
    env = child_env({"PYTHONPATH": f"{REPO_ROOT}:{example_on_path}"})
    command = [sys.executable, "-m", "pepper_chat_feed.server", "--db", str(tmp_path / "chat.sqlite3")]
    chat = ServerConnection(ServerSpec(name="chat", command=command, env=env))
    feed = build_feed(
        FeedConfig(
            plugin="chat_mentions", options={"server": "chat", "channel": "launch", "mention": "@dana"}
        )
    )
    items = ContextItems(connections["context"])
    async with anyio.create_task_group() as task_group:
        await task_group.start(chat.run)
        await chat.call_tool(
            "post_message", {"channel": "launch", "author": "sam", "text": "@dana fyi, shipped"}
        )
        task_group.start_soon(feed.run, FeedContext("mentions", {"chat": chat}, items))
        await chat.call_tool(
            "post_message", {"channel": "launch", "author": "ari", "text": "no mention here"}
        )
        await chat.call_tool(
            "post_message", {"channel": "launch", "author": "kim", "text": "@Dana, can you review?"}
        )
        signals = await signals_when(connections["context"], items, 2)
        task_group.cancel_scope.cancel()
    assert {s.id: (s.data["priority"], s.data["people"]) for s in signals} == {
        "mentions:1": ("normal", ["sam"]),
        "mentions:3": ("high", ["kim"]),
    }


async def signals_when(context: ServerConnection, items: ContextItems, count: int):
    changed = [anyio.Event()]
    async with anyio.create_task_group() as watching:
        watching.start_soon(context.watch, "context://namespace/signals.*", lambda: changed[0].set())
        with anyio.fail_after(60):
            while True:
                changed[0] = event = anyio.Event()
                found = await items.query(["signals.feed"], limit=50)
                if len(found) >= count:
                    break
                await event.wait()
        watching.cancel_scope.cancel()
    return found
