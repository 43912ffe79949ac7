"""Charset fallbacks, RFC 2047 headers, HTML conversion and reply splitting."""

from __future__ import annotations

from email.header import Header

from mcp_servers.gmail.text import decode_bytes, decode_header_value, html_to_text, split_reply


def test_decode_bytes_uses_declared_charset_for_cjk() -> None:
    assert decode_bytes("日本語のメール".encode("iso-2022-jp"), "iso-2022-jp") == "日本語のメール"
    assert decode_bytes("中文邮件".encode("gb18030"), "gb2312") == "中文邮件"


def test_decode_bytes_repairs_latin1_mislabeled_as_utf8_and_says_so() -> None:
    defects: list[str] = []
    assert decode_bytes("Café crème".encode("latin-1"), "utf-8", defects) == "Café crème"
    assert defects == ["body declared utf-8 but was not; decoded as cp1252"]


def test_decode_bytes_falls_back_when_charset_is_unknown() -> None:
    defects: list[str] = []
    assert decode_bytes("naïve".encode(), "x-no-such-charset", defects) == "naïve"
    assert defects == ["unknown charset 'x-no-such-charset'"]


def test_decode_header_value_decodes_rfc2047_words_and_unfolds() -> None:
    assert decode_header_value("=?utf-8?q?Caf=C3=A9?= =?iso-8859-1?b?Y3LobWU=?=") == "Cafécrème"
    assert decode_header_value("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=") == "日本語"
    assert decode_header_value("a long\r\n subject") == "a long subject"
    assert decode_header_value(Header("Grüße", "utf-8")) == "Grüße"


def test_decode_header_value_keeps_malformed_encoded_words_readable() -> None:
    assert decode_header_value("=?utf-8?q?broken") == "=?utf-8?q?broken"
    assert decode_header_value("=?bogus-charset?q?abc?=") == "abc"


def test_decode_header_value_guesses_raw_8bit_bytes() -> None:
    raw = "Caf\udce9"  # how the bytes parser hands over a raw Latin-1 é
    assert decode_header_value(raw) == "Café"


def test_html_to_text_keeps_words_and_links_and_drops_markup() -> None:
    text = html_to_text(
        "<html><body><p>Hello <b>Ada</b></p><p><a href='https://x.test/'>docs</a></p></body></html>"
    )
    assert "Hello Ada" in text
    assert "https://x.test/" in text
    assert "<" not in text


def test_split_reply_separates_quote_and_signature() -> None:
    body = (
        "Sounds good.\n\n-- \nAda Lovelace\nAnalytical Engines\n\nOn Mon, 3 Feb 2025, Bob wrote:\n> Lunch?\n"
    )
    text, quoted, signature = split_reply(body)
    assert text == "Sounds good."
    assert signature == "Ada Lovelace\nAnalytical Engines"
    assert quoted == "On Mon, 3 Feb 2025, Bob wrote:\n> Lunch?"


def test_split_reply_recognizes_outlook_original_message_block() -> None:
    text, quoted, _ = split_reply("Yes.\r\n\r\n-----Original Message-----\r\nFrom: Bob\r\nLunch?")
    assert text == "Yes."
    assert quoted.startswith("-----Original Message-----")


def test_split_reply_keeps_inline_replies_in_the_text() -> None:
    body = "> Can you come?\nYes.\n> At noon?\nBetter at one."
    text, quoted, signature = split_reply(body)
    assert text == body
    assert quoted == signature == ""
