"""Attachment bytes in and out of the mailbox, confined to one folder the user chose.

`PEPPER_GMAIL_FILES_DIR` (`--files-dir`) is the only folder `save_attachment` writes into and the
only folder files may be attached from: a path that resolves outside it (`..`, a symlink, an
absolute path elsewhere) is refused, so a model cannot mail away `~/.ssh` or overwrite a dotfile.
Outgoing files are limited to `MAX_FILES` and `MAX_TOTAL_BYTES` (Gmail's own 25 MiB), checked on the
file sizes before anything is read; an attachment served as an MCP resource to `MAX_RESOURCE_BYTES`.
Saved files never replace an existing one: `report.pdf` becomes `report (1).pdf`.
"""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..models import Attachment, SavedAttachment
from ..parsing import attachment_parts
from ..provider import MailProviderError, NotFoundError
from ..slim import OMITTED_HEADER

__all__ = [
    "MAX_FILES",
    "MAX_RESOURCE_BYTES",
    "MAX_TOTAL_BYTES",
    "AttachmentError",
    "OutgoingFile",
    "attachment_bytes",
    "read_outgoing",
    "save_attachment",
]

MAX_FILES = 10
MAX_TOTAL_BYTES = 25 * 1024 * 1024  # Gmail's limit on a message's attachments
MAX_RESOURCE_BYTES = 10 * 1024 * 1024  # base64 makes it ~13.3 MiB on the wire: within every transport's frame
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]+")


class AttachmentError(MailProviderError):
    """An attachment cannot be read, saved or sent as asked."""


@dataclass(frozen=True)
class OutgoingFile:
    """A file to attach to an outgoing message."""

    name: str
    content_type: str
    data: bytes


def _root(files_dir: Path | None, action: str) -> Path:
    if files_dir is None:
        raise AttachmentError(
            f"{action} needs a files folder: start the server with --files-dir PATH "
            "(or PEPPER_GMAIL_FILES_DIR) and put the files there"
        )
    return files_dir.expanduser().resolve()


def _inside(root: Path, given: str) -> Path:
    resolved = (root / Path(given).expanduser()).resolve()
    if not resolved.is_relative_to(root):
        raise AttachmentError(f"{given} is outside the files folder {root}: attach only files inside it")
    if not resolved.is_file():
        raise AttachmentError(f"{given} is not a file in {root}: give a path relative to that folder")
    return resolved


def read_outgoing(paths: list[str], files_dir: Path | None) -> list[OutgoingFile]:
    """The files named by `paths` (relative to the files folder, or absolute inside it), checked
    against the limits before any is read. Blocking: run it in a worker thread."""
    if not paths:
        return []
    if len(paths) > MAX_FILES:
        raise AttachmentError(
            f"at most {MAX_FILES} attachments per message, got {len(paths)}: send several messages"
        )
    root = _root(files_dir, "attaching files")
    found = [_inside(root, given) for given in paths]
    total = sum(path.stat().st_size for path in found)
    if total > MAX_TOTAL_BYTES:
        raise AttachmentError(
            f"the attachments hold {total:,} bytes, over the {MAX_TOTAL_BYTES:,}-byte limit: "
            "send fewer or smaller files, or share a link"
        )
    return [
        OutgoingFile(
            path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream", path.read_bytes()
        )
        for path in found
    ]


def attachment_bytes(raw: bytes, attachment_id: str) -> tuple[Attachment, bytes]:
    """Attachment `attachment_id` (as numbered in `Message.attachments`) of a raw message, decoded."""
    for attachment, part in attachment_parts(raw):
        if attachment.id != attachment_id:
            continue
        if part.get(OMITTED_HEADER) is not None:
            raise AttachmentError(
                f"attachment {attachment_id} ({attachment.name}) was not downloaded by this provider: "
                "open the message in the mail client itself"
            )
        if attachment.content_type == "message/rfc822":
            inner = part.get_payload()
            return attachment, inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        data = part.get_payload(decode=True)
        return attachment, data if isinstance(data, bytes) else b""
    raise NotFoundError(f"the message has no attachment {attachment_id!r}: take ids from list_attachments")


def _safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip().lstrip(".")
    return cleaned[:200] or "attachment"


def save_attachment(files_dir: Path | None, attachment: Attachment, data: bytes) -> SavedAttachment:
    """Write `data` under the files folder with the attachment's (sanitized) name, never over an
    existing file. Blocking: run it in a worker thread."""
    root = _root(files_dir, "save_attachment")
    root.mkdir(parents=True, exist_ok=True)
    name = Path(_safe_name(attachment.name))
    for n in range(1000):
        target = root / (name.name if n == 0 else f"{name.stem} ({n}){name.suffix}")
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return SavedAttachment(
            path=str(target), name=attachment.name, content_type=attachment.content_type, size=len(data)
        )
    raise AttachmentError(f"{root} already holds 1,000 files named like {name.name}: clear some first")
