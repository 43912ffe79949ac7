"""The gmail server's management tools: attachments, drafts, untrash and spam, labels, batches.

`add_manage_tools(server, ctx)` registers them beside the core tools of `server.py` and shares its
context (settings, provider, write gate, inbox notifications). Each write names the flag it needs
(`--allow-write` for what the user can undo in their own mailbox: saving an attachment, changing a
draft, untrash, not spam, creating or renaming a label; `--allow-send` for what destroys or hides
mail: deleting a draft or a label, reporting spam, a batch that adds TRASH or SPAM). Attachment
bytes go through `manage.files` (one folder, limits); `gmail://message/{id}/attachment/{n}` serves
one attachment of at most `MAX_RESOURCE_BYTES` as a resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import TYPE_CHECKING, Annotated

import anyio
from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError, ToolError
from fastmcp.resources.base import ResourceContent, ResourceResult
from mcp_types import ToolAnnotations
from pydantic import Field

from mcp_servers.common.addresses import HeaderValueError, header_text
from mcp_servers.common.write_flags import Needs

from ..compose import compose
from ..models import Attachment, DraftRef, Label, LabelChanges, OutgoingMessage, SavedAttachment, SearchResult
from ..provider import MailProviderError
from ..query import QueryError, parse_query
from ..search_sql import MAX_PAGE
from .files import MAX_RESOURCE_BYTES, attachment_bytes, read_outgoing
from .files import save_attachment as save_file

if TYPE_CHECKING:
    from ..server import _Context

__all__ = ["MAX_BATCH_LABELS", "add_manage_tools", "composed", "tool_errors"]

MAX_BATCH_LABELS = 100  # ids per batch_modify_labels call, as get_messages
OUTWARD_LABELS = frozenset({"TRASH", "SPAM"})


def _hints(read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive,
                           idempotent_hint=idempotent, open_world_hint=False)  # fmt: skip


READ = _hints(read_only=True, destructive=False, idempotent=True)
UNDOABLE = _hints(read_only=False, destructive=False, idempotent=True)  # untrash, labels made or renamed
ADDS = _hints(read_only=False, destructive=False, idempotent=False)  # a new file each call
REPLACES = _hints(read_only=False, destructive=True, idempotent=False)  # update_draft: a new id each call
REMOVES = _hints(read_only=False, destructive=True, idempotent=True)  # deletes, spam, batch labels

MessageId = Annotated[str, Field(min_length=1, description="Message id from search_messages or list_changes")]
DraftId = Annotated[str, Field(min_length=1, description="draft_id from list_drafts or create_draft")]
LabelName = Annotated[
    str, Field(min_length=1, max_length=225, description="A user label, as list_labels names it")
]


@contextmanager
def tool_errors() -> Iterator[None]:
    """Provider, query and header errors as the `ToolError`s the client sees."""
    try:
        yield
    except (MailProviderError, QueryError, HeaderValueError) as exc:
        raise ToolError(str(exc)) from exc


async def composed(ctx: _Context, message: OutgoingMessage) -> EmailMessage:
    """`message` as RFC 5322, its attachments read from the files folder (in a worker thread)."""
    with tool_errors():
        files = await anyio.to_thread.run_sync(read_outgoing, message.attachments, ctx.settings.files_dir)
        return compose(message, ctx.from_address, files)


def add_manage_tools(server: FastMCP, ctx: _Context) -> None:
    _add_attachment_tools(server, ctx)
    _add_draft_tools(server, ctx)
    _add_spam_tools(server, ctx)
    _add_label_tools(server, ctx)


def _add_attachment_tools(server: FastMCP, ctx: _Context) -> None:
    async def read(id: str, attachment_id: str) -> tuple[Attachment, bytes]:
        raw = await ctx.provider.get_raw(id)
        return await anyio.to_thread.run_sync(attachment_bytes, raw, attachment_id)

    @server.tool(annotations=READ)
    async def list_attachments(id: MessageId) -> list[Attachment]:
        """A message's attachments: id, name, type, size. Read one as the resource
        gmail://message/{id}/attachment/{attachment_id} or write it to a file with save_attachment."""
        with tool_errors():
            return (await ctx.provider.get_message(id)).attachments

    @server.tool(annotations=ADDS)
    async def save_attachment(
        id: MessageId,
        attachment_id: Annotated[
            str, Field(min_length=1, description="id from list_attachments (1, 2, ...)")
        ],
    ) -> SavedAttachment:
        """Write an attachment to a file in the server's files folder (PEPPER_GMAIL_FILES_DIR),
        never over an existing file. Needs --allow-write."""
        ctx.require(Needs.WRITE, "save_attachment")
        with tool_errors():
            attachment, data = await read(id, attachment_id)
            return await anyio.to_thread.run_sync(save_file, ctx.settings.files_dir, attachment, data)

    @server.resource("gmail://message/{id}/attachment/{attachment_id}",
                     description=f"One attachment's bytes (at most {MAX_RESOURCE_BYTES // 2**20} MiB)")  # fmt: skip
    async def attachment(id: str, attachment_id: str) -> ResourceResult:
        try:
            found, data = await read(id, attachment_id)
        except MailProviderError as exc:
            raise ResourceError(str(exc)) from exc
        if len(data) > MAX_RESOURCE_BYTES:
            raise ResourceError(
                f"attachment {attachment_id} holds {len(data):,} bytes, over the {MAX_RESOURCE_BYTES:,}-byte "
                "resource limit: write it to a file with save_attachment"
            )
        return ResourceResult([ResourceContent(data, mime_type=found.content_type)])


def _add_draft_tools(server: FastMCP, ctx: _Context) -> None:
    @server.tool(annotations=READ)
    async def list_drafts(
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Drafts per page (1-500)")] = 25,
        cursor: Annotated[
            str | None, Field(max_length=1_000, description="next_cursor of the previous page")
        ] = None,
    ) -> SearchResult:
        """The drafts, newest first; each message's id is its draft_id."""
        with tool_errors():
            page = await ctx.provider.search_page(parse_query("in:drafts"), limit, cursor)
        return SearchResult(query="in:drafts", messages=page.messages, next_cursor=page.next_cursor)

    @server.tool(annotations=REPLACES)
    async def update_draft(draft_id: DraftId, message: OutgoingMessage) -> DraftRef:
        """Replace a draft's content (nothing is sent); returns the draft's new id. Needs --allow-write."""
        ctx.require(Needs.WRITE, "update_draft")
        composed_message = await composed(ctx, message)
        with tool_errors():
            draft = await ctx.provider.update_draft(draft_id, composed_message)
        await ctx.changed()
        return draft

    @server.tool(annotations=REMOVES)
    async def delete_draft(draft_id: DraftId) -> str:
        """Delete a draft for good. Needs --allow-send."""
        ctx.require(Needs.SEND, "delete_draft")
        with tool_errors():
            await ctx.provider.delete_draft(draft_id)
        await ctx.changed()
        return f"draft {draft_id} deleted"


def _add_spam_tools(server: FastMCP, ctx: _Context) -> None:
    async def move(id: str, needs: Needs, action: str, add: str, remove: str) -> list[str]:
        ctx.require(needs, action)
        with tool_errors():
            labels = (await ctx.provider.get_message(id)).labels
            if remove != "INBOX" and remove not in labels:
                raise ToolError(f"message {id} is not in {remove}: {action} moves only mail that is there")
            labels = await ctx.provider.modify_labels(id, [add], [remove])
        await ctx.changed()
        return labels

    @server.tool(annotations=UNDOABLE)
    async def untrash(id: MessageId) -> list[str]:
        """Move a message from the trash back to the inbox. Needs --allow-write."""
        return await move(id, Needs.WRITE, "untrash", "INBOX", "TRASH")

    @server.tool(annotations=UNDOABLE)
    async def not_spam(id: MessageId) -> list[str]:
        """Move a message from spam (Junk) back to the inbox. Needs --allow-write."""
        return await move(id, Needs.WRITE, "not_spam", "INBOX", "SPAM")

    @server.tool(annotations=REMOVES)
    async def report_spam(id: MessageId) -> list[str]:
        """Move a message to spam (Junk; Gmail's SPAM label). Needs --allow-send."""
        return await move(id, Needs.SEND, "report_spam", "SPAM", "INBOX")


def _add_label_tools(server: FastMCP, ctx: _Context) -> None:
    @server.tool(annotations=UNDOABLE)
    async def create_label(name: LabelName) -> Label:
        """Create a user label (an IMAP or Maildir folder). Needs --allow-write."""
        ctx.require(Needs.WRITE, "create_label")
        with tool_errors():
            label = await ctx.provider.create_label(header_text(name, "name"))
        await ctx.changed()
        return label

    @server.tool(annotations=UNDOABLE)
    async def rename_label(name: LabelName, new_name: LabelName) -> Label:
        """Rename a user label on every message that has it. Needs --allow-write."""
        ctx.require(Needs.WRITE, "rename_label")
        with tool_errors():
            label = await ctx.provider.rename_label(name, header_text(new_name, "new_name"))
        await ctx.changed()
        return label

    @server.tool(annotations=REMOVES)
    async def delete_label(name: LabelName) -> str:
        """Delete a user label; its messages stay (an IMAP or Maildir folder's go to the archive).
        Needs --allow-send."""
        ctx.require(Needs.SEND, "delete_label")
        with tool_errors():
            count = await ctx.provider.delete_label(name)
        await ctx.changed()
        return f"label {name} deleted; {count} message(s) no longer have it"

    @server.tool(annotations=REMOVES)
    async def batch_modify_labels(
        ids: Annotated[
            list[str], Field(min_length=1, description=f"Message ids (at most {MAX_BATCH_LABELS})")
        ],
        add: Annotated[list[str], Field(description="Labels to add to each")] = [],  # noqa: B006
        remove: Annotated[list[str], Field(description="Labels to remove from each")] = [],  # noqa: B006
    ) -> LabelChanges:
        """modify_labels on many messages in one call; ids that cannot be changed are listed under
        `missing`. Needs --allow-write; adding TRASH or SPAM: --allow-send."""
        if len(ids) > MAX_BATCH_LABELS:
            raise ToolError(
                f"batch_modify_labels takes at most {MAX_BATCH_LABELS} ids, got {len(ids)}: split them"
            )
        if not add and not remove:
            raise ToolError("nothing to do: give labels to add or to remove")
        if outward := sorted(OUTWARD_LABELS & {label.upper() for label in add}):
            ctx.require(Needs.SEND, f"batch_modify_labels adding {' and '.join(outward)}")
        ctx.require(Needs.WRITE, "batch_modify_labels")
        with tool_errors():
            for label in add + remove:
                header_text(label, "labels")
            changes = await ctx.provider.modify_labels_many(list(dict.fromkeys(ids)), add, remove)
        await ctx.changed()
        return changes
