"""Modified UTF-7 mailbox names: RFC 3501's examples, errors, and a round trip for any name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_servers.gmail.utf7 import decode_mailbox, encode_mailbox


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 5.1.3
        ("Réunions/日本", "R&AOk-unions/&ZeVnLA-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("INBOX", "INBOX"),
        ("😀", "&2D3eAA-"),
    ],
)
def test_encode_and_decode_mailbox_follow_rfc_3501(name: str, wire: str) -> None:
    assert encode_mailbox(name) == wire
    assert decode_mailbox(wire) == name


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        ("a&Jjo", "unterminated"),
        ("&AGE-", "must be written directly"),
        ("&Jjo!-", "not modified base64"),
        ("Réunions", "never contains"),
    ],
)
def test_decode_mailbox_refuses_invalid_names(wire: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_mailbox(wire)


@given(st.text())
def test_decode_mailbox_inverts_encode_mailbox(name: str) -> None:
    wire = encode_mailbox(name)
    assert wire.isascii() and decode_mailbox(wire) == name
