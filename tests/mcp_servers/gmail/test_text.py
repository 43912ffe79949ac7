"""Charset fallbacks, RFC 2047 headers, HTML conversion and HTML stubs (reply splitting: test_replies)."""

from __future__ import annotations

from email.header import Header

import pytest

from mcp_servers.gmail.text import decode_bytes, decode_header_value, html_to_text, is_stub, plain_to_text


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


def test_html_to_text_decodes_named_and_numeric_entities_keeping_accents() -> None:
    html = "<p>Caf&eacute; cr&egrave;me br&ucirc;l&eacute;e, &#233;t&#xE9; &agrave; Z&uuml;rich &amp; Gen&egrave;ve</p>"
    assert html_to_text(html) == "Café crème brûlée, été à Zürich & Genève"


def test_html_to_text_makes_no_break_spaces_plain_and_keeps_table_cells_apart() -> None:
    html = (
        "<table><tr><td>Total&nbsp;due</td><td>1&#8239;200&nbsp;EUR</td></tr><tr><td>Paid</td></tr></table>"
    )
    assert html_to_text(html) == "Total due 1 200 EUR\n\nPaid"


def test_html_to_text_shows_mail_addresses_as_text_and_drops_bare_image_links() -> None:
    html = '<a href="https://x.test/"><img src="logo.png"></a><p>Ada &lt;<a href="mailto:ada@x.test">ada@x.test</a>&gt;</p>'
    assert html_to_text(html) == "Ada <ada@x.test>"


def test_html_to_text_reads_text_outside_the_body_and_skips_head_and_scripts() -> None:
    html = "<html><head><title>T</title><style>p{}</style><script>x()</script></head></html>Buy now"
    assert html_to_text(html) == "Buy now"


@pytest.mark.parametrize(
    "stub",
    [
        "This is an HTML message. Please use an HTML capable mail program to read this message.",
        "HTML Message !",
        "Your mail client does not support HTML. View this email online: https://shop.example/v/1",
        "If you cannot read this email, view it in your browser: https://news.example/1",
        "This message is in HTML format.",
        "Diese E-Mail enthält HTML. Bitte verwenden Sie ein HTML-fähiges Programm.",
        "Ce message est au format HTML.",
        "",
        " \t\n",
    ],
)
def test_is_stub_recognizes_html_placeholders_and_blank_parts(stub: str) -> None:
    assert is_stub(stub)


@pytest.mark.parametrize(
    "text",
    [
        "Hi Ada, the HTML message you sent rendered fine on my phone.",
        "Can you view the email in your browser and tell me if the logo shows? "
        + "More details follow. " * 30,
    ],
)
def test_is_stub_leaves_real_text_alone(text: str) -> None:
    assert not is_stub(text)


def test_plain_to_text_decodes_numeric_references_and_converts_html_documents() -> None:
    assert plain_to_text("&#8220;Fish&#8221; &amp; chips&#65279;") == "“Fish” &amp; chips"
    assert plain_to_text("<!DOCTYPE html><html><body><p>Hi&nbsp;Ada</p></body></html>") == "Hi Ada"
    assert plain_to_text("Use <b> for bold.") == "Use <b> for bold."
