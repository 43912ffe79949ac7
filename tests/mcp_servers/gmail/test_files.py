"""The files folder: attachment names cannot escape it, paths to attach cannot leave it, and the
count and size limits are checked on the file sizes before anything is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_servers.gmail.manage.files import (
    MAX_TOTAL_BYTES,
    AttachmentError,
    attachment_bytes,
    read_outgoing,
    save_attachment,
)
from mcp_servers.gmail.models import Attachment
from mcp_servers.gmail.provider import NotFoundError

from .messages import message_with_attachment


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\boot.ini", "boot.ini"),
        (".bashrc", "bashrc"),
        ("a\x00b\r\n.pdf", "a_b_.pdf"),
        ("", "attachment"),
    ],
)
def test_save_attachment_keeps_a_hostile_name_inside_the_folder(
    tmp_path: Path, name: str, saved: str
) -> None:
    attachment = Attachment(name=name, content_type="text/plain", size=2)
    written = save_attachment(tmp_path / "files", attachment, b"hi")
    assert Path(written.path) == tmp_path / "files" / saved
    assert oct(os.stat(written.path).st_mode & 0o777) == "0o600"


def test_save_attachment_needs_the_files_folder() -> None:
    with pytest.raises(
        AttachmentError, match="save_attachment needs a files folder: start the server with --files-dir"
    ):
        save_attachment(None, Attachment(name="a", content_type="text/plain", size=0), b"")


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "secret").write_text("key")
    (tmp_path / "files" / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(AttachmentError, match="link is outside the files folder"):
        read_outgoing(["link"], tmp_path / "files")
    with pytest.raises(AttachmentError, match="is outside the files folder"):
        read_outgoing([str(tmp_path / "secret")], tmp_path / "files")


def test_the_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    with open(tmp_path / "files" / "huge.bin", "wb") as handle:
        handle.truncate(MAX_TOTAL_BYTES + 1)  # sparse: nothing is written, the size is what counts
    with pytest.raises(AttachmentError, match="over the 26,214,400-byte limit"):
        read_outgoing(["huge.bin"], tmp_path / "files")


def test_attachment_bytes_are_decoded_and_unknown_ids_named() -> None:
    raw = message_with_attachment("r.pdf", b"%PDF-1.4\x00\xff")
    attachment, data = attachment_bytes(raw, "1")
    assert (attachment.name, data) == ("r.pdf", b"%PDF-1.4\x00\xff")
    with pytest.raises(NotFoundError, match="no attachment '9'"):
        attachment_bytes(raw, "9")
