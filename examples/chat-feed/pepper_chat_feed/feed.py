"""`ChatMentions`, a Pepper feed plugin: messages that mention the user in a channel of the example
chat server become signals, high when they ask something (a question mark), normal otherwise.

Pepper finds it through the entry point `pepper.feeds: chat_mentions` and builds it from the
`options` of its `[feeds.NAME]` table:

    [feeds.launch_mentions]
    plugin = "chat_mentions"
    options = { server = "chat", channel = "launch", mention = "@dana" }
"""

from __future__ import annotations

import json
from typing import Any

import anyio

from orchestrator.extensions.feeds import FeedContext

__all__ = ["ChatMentions"]


class ChatMentions:
    """Follows `chat://channel/CHANNEL` on `server` and publishes the messages naming `mention`."""

    def __init__(self, options: dict[str, Any]) -> None:
        missing = [key for key in ("server", "channel", "mention") if not options.get(key)]
        if missing:
            raise ValueError(f"chat_mentions needs the options {', '.join(missing)}")
        self.server = str(options["server"])
        self.uri = f"chat://channel/{options['channel']}"
        self.mention = str(options["mention"]).lower()

    async def run(self, context: FeedContext) -> None:
        connection = context.connection(self.server)
        wake = [anyio.Event()]
        async with anyio.create_task_group() as watching:
            watching.start_soon(connection.watch, self.uri, lambda: wake[0].set())
            while True:
                woken = wake[0]
                await woken.wait()
                wake[0] = anyio.Event()
                channel = json.loads(await connection.read_resource(self.uri))
                for message in channel["messages"]:
                    await self.consider(context, message)

    async def consider(self, context: FeedContext, message: dict[str, Any]) -> bool:
        text = str(message.get("text", ""))
        if self.mention not in text.lower():
            return False
        return await context.publish(
            message["id"],
            priority="high" if "?" in text else "normal",
            summary=f"{message.get('author', 'someone')} mentioned you in {self.uri}: {text}"[:300],
            reasons=["asks you something" if "?" in text else "mentions you"],
            link=self.uri,
            people=[str(message.get("author", ""))],
        )
