"""The normalized shapes every provider returns: messages, threads, changes, labels, outgoing mail.

These pydantic models are the MCP tools' results and the contract between the providers and the
server. Addresses are split into name and email, dates are always timezone-aware, and everything a
parser had to guess is recorded in `defects` rather than hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Address",
    "Attachment",
    "Authentication",
    "Change",
    "ChangePage",
    "DraftRef",
    "IndexProgress",
    "Label",
    "ListHeaders",
    "Message",
    "MessageBatch",
    "MessageSummary",
    "LabelChanges",
    "OutgoingMessage",
    "SavedAttachment",
    "SearchResult",
    "SentRef",
    "Thread",
]


class Address(BaseModel):
    """One mailbox: a display name (may be empty) and an address."""

    name: str = Field("", description="Display name, decoded from RFC 2047 if needed")
    email: str = Field(description="The address, e.g. ada@example.org")

    def formatted(self) -> str:
        from email.utils import formataddr

        return formataddr((self.name, self.email)) if self.name else self.email


class Attachment(BaseModel):
    """A file carried by a message; its bytes are not part of the model."""

    id: str = Field(
        "", description="Attachment id for save_attachment and the attachment resource (1, 2, ...)"
    )
    name: str = Field(description="File name, or a generated one when the part had none")
    content_type: str = Field(description="MIME type, e.g. application/pdf")
    size: int = Field(description="Decoded size in bytes (estimated from the encoding if omitted)")
    inline: bool = Field(False, description="True for inline parts such as embedded images")


class ListHeaders(BaseModel):
    """Mailing-list and bulk-mail headers, the signals triage uses to spot newsletters."""

    list_unsubscribe: str | None = Field(None, description="List-Unsubscribe header")
    list_id: str | None = Field(None, description="List-Id header")
    precedence: str | None = Field(None, description="Precedence header (bulk, list, junk)")


class Authentication(BaseModel):
    """The sender authentication results the receiving servers recorded (Authentication-Results,
    Received-SPF), nearest server first; None where no header says. Good for noticing a failure
    (a forged From), never for vouching for a sender: a header can be written by anyone upstream."""

    spf: str | None = Field(None, description="pass, fail, softfail, neutral, none, temperror or permerror")
    dkim: str | None = Field(None, description="pass, fail, neutral, none, policy, temperror or permerror")
    dmarc: str | None = Field(None, description="pass, fail, none, temperror or permerror")


class Message(BaseModel):
    """One normalized email message."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="Provider id of the message (stable)")
    thread_id: str = Field(description="Provider id of the conversation")
    message_id: str | None = Field(None, description="Message-ID header, None when missing")
    from_: Address | None = Field(None, alias="from", description="Sender")
    to: list[Address] = Field(default_factory=list, description="To recipients")
    cc: list[Address] = Field(default_factory=list, description="Cc recipients")
    bcc: list[Address] = Field(
        default_factory=list, description="Bcc recipients (present only in mail the user sent or drafted)"
    )
    delivered_to: list[str] = Field(
        default_factory=list, description="Delivered-To addresses: the mailboxes the mail was delivered to"
    )
    reply_to: list[Address] = Field(default_factory=list, description="Reply-To addresses")
    date: datetime = Field(description="Timezone-aware date (delivery time when Date is missing)")
    subject: str = Field("", description="Decoded subject")
    snippet: str = Field("", description="First ~200 characters of the new text")
    text: str = Field("", description="Plain-text body without quoted reply or signature")
    quoted: str = Field("", description="The quoted earlier message(s), if any")
    signature: str = Field("", description="The sender's signature block, if recognized")
    labels: list[str] = Field(default_factory=list, description="Labels, e.g. INBOX, UNREAD")
    list_headers: ListHeaders = Field(default_factory=ListHeaders, description="List/bulk headers")
    in_reply_to: str | None = Field(None, description="In-Reply-To message id")
    references: list[str] = Field(default_factory=list, description="References message ids")
    attachments: list[Attachment] = Field(default_factory=list, description="Attached files")
    size: int = Field(0, description="Raw size in bytes")
    defects: list[str] = Field(default_factory=list, description="What was malformed and how it was repaired")
    authentication: Authentication = Field(
        default_factory=Authentication,
        description="SPF, DKIM and DMARC results as the receiving servers wrote them",
    )


class MessageSummary(BaseModel):
    """A search hit: enough to decide whether to open the message."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    thread_id: str
    from_: Address | None = Field(None, alias="from")
    subject: str = ""
    date: datetime
    snippet: str = ""
    labels: list[str] = Field(default_factory=list)
    has_attachment: bool = False


class SearchPage(BaseModel):
    """One page of search hits."""

    messages: list[MessageSummary] = Field(default_factory=list)
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last")


class IndexProgress(BaseModel):
    """How far the server's first indexing of the mailbox has come (it runs after the session is up)."""

    indexed: int = Field(description="Messages indexed so far")
    total: int = Field(description="Messages to index in all (0 while still counting)")

    @property
    def text(self) -> str:
        return f"indexing, {self.indexed} of {self.total}" if self.total else "indexing"


class SearchResult(BaseModel):
    """The messages matching a query, newest first."""

    query: str = Field(description="The query as given")
    messages: list[MessageSummary] = Field(default_factory=list)
    next_cursor: str | None = Field(
        None, description="More messages match: pass this as `cursor` (with the same query) for the next page"
    )
    indexing: str | None = Field(
        None,
        description="Set while the first indexing runs (e.g. 'indexing, 400 of 9000'): results may be partial",
    )
    index_trouble: str | None = Field(
        None,
        description="Set while the index cannot be updated (disk full, read-only ...): results come from "
        "what it holds and may miss the newest mail",
    )


class Thread(BaseModel):
    """A conversation, oldest message first."""

    id: str
    messages: list[Message] = Field(default_factory=list)


class Change(BaseModel):
    """One entry of the change feed."""

    seq: int = Field(description="Position in the feed")
    kind: Literal["added", "deleted", "labels_changed"] = Field(description="What happened")
    message_id: str = Field(description="Provider id of the message")
    labels: list[str] = Field(default_factory=list, description="Labels after the change")
    error: str | None = Field(None, description="Why the message could not be parsed, if it could not")


class ChangePage(BaseModel):
    """Changes after a cursor, and the cursor to pass next time."""

    changes: list[Change] = Field(default_factory=list)
    cursor: str = Field(description="Pass as `since` to get what happens after this page")
    has_more: bool = Field(False, description="True when more changes wait beyond this page")
    pending: int = Field(0, description="Changes already recorded after this page")
    indexing: IndexProgress | None = Field(
        None, description="Set while the first indexing runs: more changes will follow as it goes on"
    )
    index_trouble: str | None = Field(
        None,
        description="Set while the index cannot be updated (disk full, read-only ...): newer changes "
        "follow once it can",
    )


class MessageBatch(BaseModel):
    """The messages `get_messages` read, in the order asked, and the ids it could not read."""

    messages: list[Message] = Field(default_factory=list)
    missing: dict[str, str] = Field(default_factory=dict, description="id -> why it could not be read")


class Label(BaseModel):
    """A label (a folder for Maildir and IMAP)."""

    id: str
    name: str
    type: Literal["system", "user"] = "user"
    total: int = 0
    unread: int = 0


class OutgoingMessage(BaseModel):
    """A message to send or to keep as a draft."""

    to: list[str] = Field(min_length=1, description="Recipient addresses")
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)
    subject: str = ""
    body: str = Field("", description="Plain text; generated from `html` when empty and html is given")
    html: str | None = Field(
        None, description="HTML version: the mail is sent as multipart/alternative (text and HTML)"
    )
    attachments: list[str] = Field(
        default_factory=list,
        description="Files to attach: paths inside the server's files folder (PEPPER_GMAIL_FILES_DIR), "
        "at most 10 and 25 MiB in all",
    )
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    thread_id: str | None = None


class DraftRef(BaseModel):
    """A stored draft."""

    draft_id: str
    message_id: str


class SavedAttachment(BaseModel):
    """An attachment written to a file by save_attachment."""

    path: str = Field(description="Where the file was written (inside PEPPER_GMAIL_FILES_DIR)")
    name: str = Field(description="The attachment's file name as the message gives it")
    content_type: str
    size: int = Field(description="Bytes written")


class LabelChanges(BaseModel):
    """What batch_modify_labels did: each message's labels afterwards, and what it could not change."""

    labels: dict[str, list[str]] = Field(default_factory=dict, description="id -> labels after the change")
    missing: dict[str, str] = Field(default_factory=dict, description="id -> why it could not be changed")


class SentRef(BaseModel):
    """A sent message."""

    id: str = Field(
        description="Provider id of the sent copy; empty when it was sent but its copy could not be filed"
    )
    message_id: str = Field(description="Message-ID header of what was sent")
    recipients: list[str] = Field(default_factory=list)
    delivered: bool = Field(description="False when no SMTP server is configured: only filed under Sent")
