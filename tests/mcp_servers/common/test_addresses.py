"""Recipient addresses and header text: one RFC 5322 address per entry, never a line break."""

from __future__ import annotations

import pytest

from mcp_servers.common.addresses import HeaderValueError, addr_spec, header_text, mailbox, recipients


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("ada@example.org", "ada@example.org"),
        ("Ada Lovelace <ada@example.org>", "Ada Lovelace <ada@example.org>"),
        ('"Lovelace, Ada" <ada@example.org>', '"Lovelace, Ada" <ada@example.org>'),
        ("<ada@example.org>", "ada@example.org"),
        ('"ada lovelace"@example.org', '"ada lovelace"@example.org'),
        ("root@localhost", "root@localhost"),
        ("José <jose@example.es>", "José <jose@example.es>"),
    ],
)
def test_mailbox_accepts_one_address_with_or_without_a_name(given: str, normalized: str) -> None:
    assert mailbox(given, "to") == normalized


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("not an address", "is not an e-mail address"),
        ("", "is not an e-mail address"),
        ("ada@", "is not an e-mail address"),
        ("@example.org", "is not an e-mail address"),
        ("ada@@example.org", "is not an e-mail address"),
        ("ada..l@example.org", "is not an e-mail address"),
        ("Ada <ada@>", "is not an e-mail address"),
        ("ada@example.org trailing words", "is not an e-mail address"),
        ("ada@example.org, bob@example.org", "is not one address"),
        ("team: ada@example.org;", "is not one address"),
        ("undisclosed-recipients:;", "is not an e-mail address"),
        ("ada@example.org\r\nBcc: eve@evil.example", "contains a line break"),
        ("ada@example.org\nBcc: eve@evil.example", "contains a line break"),
    ],
)
def test_mailbox_refuses_what_is_not_exactly_one_address(given: str, problem: str) -> None:
    with pytest.raises(HeaderValueError, match=f"^to.*{problem}"):
        mailbox(given, "to")


def test_addr_spec_refuses_a_display_name_and_keeps_the_bare_address() -> None:
    assert addr_spec("ann@example.com", "attendees") == "ann@example.com"
    with pytest.raises(HeaderValueError, match="give the bare address ann@example.com"):
        addr_spec("Ann <ann@example.com>", "attendees")


def test_recipients_checks_every_entry_and_refuses_an_empty_required_list() -> None:
    assert recipients(["a@example.org", "B <b@example.org>"], "cc") == ["a@example.org", "B <b@example.org>"]
    assert recipients([], "cc") == []
    with pytest.raises(HeaderValueError, match="to is empty: give at least one recipient"):
        recipients([], "to", required=True)
    with pytest.raises(HeaderValueError, match="cc: 'nobody' is not an e-mail address"):
        recipients(["a@example.org", "nobody"], "cc")


def test_header_text_refuses_cr_lf_and_nul_and_keeps_one_line() -> None:
    assert header_text("Budget for Q3 — final", "subject") == "Budget for Q3 — final"
    for broken in ("a\rb", "a\nb", "a\r\nBcc: x@example.org", "a\0b"):
        with pytest.raises(HeaderValueError, match="subject contains a line break"):
            header_text(broken, "subject")


def test_a_very_long_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(HeaderValueError) as refused:
        mailbox("x" * 100_000, "to")
    assert len(str(refused.value)) < 200


def test_header_text_refuses_a_value_past_the_limit_before_any_folding() -> None:
    assert header_text("s" * 2_000, "subject") == "s" * 2_000
    with pytest.raises(HeaderValueError, match="subject is 1,000,000 characters long: at most 2,000"):
        header_text("word " * 200_000, "subject")
    assert header_text("r" * 20_000, "references", limit=20_000) == "r" * 20_000


def test_recipients_refuses_more_than_500_addresses_in_one_field() -> None:
    assert len(recipients(["a@example.org"] * 500, "to")) == 500
    with pytest.raises(HeaderValueError, match="cc has 501 addresses: at most 500 per field"):
        recipients(["a@example.org"] * 501, "cc")
