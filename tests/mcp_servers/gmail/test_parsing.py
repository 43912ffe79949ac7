"""Parsing real and hostile mail into the normalized Message, one clear error per bad message."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_servers.gmail.parsing import MessageParseError, parse_file, parse_message

from . import reply_messages as mail
from .messages import message_with_attachment, plain_message

RECEIVED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_file_reads_every_cpython_sample_or_reports_one_clear_error(
    cpython_messages: list[Path],
) -> None:
    parsed, errors = 0, []
    for path in cpython_messages:
        try:
            message = parse_file(path, id=path.stem, labels=["INBOX"])
        except MessageParseError as exc:
            errors.append((path.stem, exc.reason))
            continue
        parsed += 1
        assert message.date.tzinfo is not None
        assert message.id == path.stem
    assert parsed >= 45
    assert errors == [("msg_19", "no headers found: this is not an email message")]


def test_parse_file_lists_the_gif_attachment_of_cpython_msg_07(cpython_messages: list[Path]) -> None:
    path = next(p for p in cpython_messages if p.stem == "msg_07")
    message = parse_file(path, id="m7", labels=[])
    assert [(a.name, a.content_type) for a in message.attachments] == [("dingusfish.gif", "image/gif")]
    assert message.attachments[0].size > 3000
    assert message.subject == "Here is your dingus fish"


def test_parse_message_normalizes_headers_addresses_and_list_headers() -> None:
    raw = plain_message(
        subject="=?utf-8?q?R=C3=A9union?=",
        sender="=?utf-8?q?Zo=C3=A9?= <zoe@example.org>",
        to="ada@example.org, Bob <bob@example.org>",
        List_Unsubscribe="<mailto:leave@lists.example.org>",
        List_Id="News <news.example.org>",
        Precedence="bulk",
        message_id="<root@example.org>",
    )
    message = parse_message(raw, id="m1", labels=["INBOX", "UNREAD"], received=RECEIVED)
    assert message.subject == "Réunion"
    assert message.from_ is not None and (message.from_.name, message.from_.email) == (
        "Zoé",
        "zoe@example.org",
    )
    assert [a.email for a in message.to] == ["ada@example.org", "bob@example.org"]
    assert message.list_headers.precedence == "bulk"
    assert message.list_headers.list_id == "News <news.example.org>"
    assert message.message_id == "<root@example.org>"
    assert message.model_dump()["from"]["email"] == "zoe@example.org"


def test_parse_message_uses_delivery_time_when_date_and_message_id_are_missing() -> None:
    raw = b"From: a@example.org\nSubject: no date\n\nbody\n"
    message = parse_message(raw, id="m2", received=RECEIVED)
    assert message.date == RECEIVED
    assert message.message_id is None
    assert "missing Date; using the delivery time" in message.defects
    assert "missing Message-ID" in message.defects


def test_parse_message_assumes_utc_for_a_date_without_zone() -> None:
    raw = b"From: a@example.org\nDate: Tue, 04 Mar 2025 09:30:00 -0000\nSubject: x\n\nbody\n"
    assert parse_message(raw, id="m3").date.tzinfo is not None


def test_parse_message_threads_replies_with_their_root() -> None:
    root = parse_message(plain_message(message_id="<root@x>"), id="a")
    reply = parse_message(
        plain_message(message_id="<r1@x>", In_Reply_To="<root@x>", References="<root@x>"), id="b"
    )
    assert root.thread_id == reply.thread_id
    assert reply.in_reply_to == "<root@x>" and reply.references == ["<root@x>"]


def test_parse_message_handles_crlf_lf_mix_and_mislabeled_latin1() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: mixed\nContent-Type: text/plain; charset=utf-8\r\n"
        b"\r\nCaf\xe9 au lait\r\nsecond line\n"
    )
    message = parse_message(raw, id="m4")
    assert message.text == "Café au lait\r\nsecond line".replace("\r\n", "\n")
    assert any("decoded as cp1252" in defect for defect in message.defects)


def test_parse_message_converts_html_only_mail_and_splits_the_quote() -> None:
    html = (
        "<p>Yes, Thursday works.</p><p>On Mon, 3 Mar 2025, Bob wrote:</p><blockquote>Thursday?</blockquote>"
    )
    message = EmailMessage()
    message["From"] = "ada@example.org"
    message["Subject"] = "Re: meeting"
    message.set_content(html, subtype="html")
    parsed = parse_message(bytes(message), id="m5")
    assert parsed.text == "Yes, Thursday works."
    assert "Thursday?" in parsed.quoted


def test_parse_message_prefers_plain_alternative_and_decodes_shift_jis() -> None:
    message = EmailMessage()
    message["From"] = "taro@example.jp"
    message["Subject"] = "=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?="
    message.set_content("こんにちは", charset="shift_jis")
    message.add_alternative("<p>HTML version</p>", subtype="html")
    parsed = parse_message(bytes(message), id="m6")
    assert parsed.subject == "テスト"
    assert parsed.text == "こんにちは"


def test_parse_message_reads_html_only_mail_with_entities_and_accents() -> None:
    parsed = parse_message(mail.HTML_ONLY_ENTITIES, id="h1")
    assert parsed.subject == "Café du jeudi"
    assert parsed.text == (
        "Bonjour Ada,\n\nLe café de jeudi est à 10 h — apportez les crèmes brûlées. Müller & Fils\n\nÀ jeudi !"
    )


def test_parse_message_prefers_html_over_a_blank_plain_alternative() -> None:
    parsed = parse_message(mail.EMPTY_PLAIN_WITH_HTML, id="h2")
    assert parsed.text == "The slides for Thursday are ready. Could you check the last page?"


@pytest.mark.parametrize(
    "stub",
    [
        "This is an HTML message. Please use an HTML capable mail program to read this message.",
        "HTML Message !",
        "Your mail client does not support HTML.\nView it online: https://shop.example/o/4411",
    ],
)
def test_parse_message_replaces_an_html_stub_with_the_related_html(stub: str) -> None:
    parsed = parse_message(mail.stub_with_html(stub), id="h3")
    assert parsed.text == "Your order #4411 has shipped and arrives Friday."
    assert [a.name for a in parsed.attachments] == ["logo.png"]


def test_parse_message_keeps_the_stub_when_the_html_has_nothing_to_read() -> None:
    parsed = parse_message(mail.stub_with_html("HTML Message !", html="<p>&nbsp;</p>"), id="h4")
    assert parsed.text == "HTML Message !"


def test_parse_message_drops_a_stub_part_beside_a_real_html_part() -> None:
    assert parse_message(mail.MIXED_STUB_AND_HTML, id="h5").text == "The spring catalogue is out."


def test_parse_message_converts_an_html_document_sent_as_text_plain() -> None:
    assert parse_message(mail.HTML_AS_PLAIN, id="h6").text == "The report is ready for review."


def test_parse_message_inlines_nested_rfc822_and_lists_it_as_attachment() -> None:
    inner = EmailMessage()
    inner["From"] = "carol@example.org"
    inner["Subject"] = "Original"
    inner.set_content("The original words.")
    outer = EmailMessage()
    outer["From"] = "bob@example.org"
    outer["Subject"] = "Fwd: Original"
    outer.set_content("FYI, see below.")
    outer.add_attachment(inner)
    parsed = parse_message(bytes(outer), id="m7")
    assert "FYI, see below." in parsed.text
    assert "The original words." in parsed.text
    assert parsed.attachments[0].content_type == "message/rfc822"
    assert parsed.attachments[0].name == "Original.eml"


def test_parse_file_measures_huge_attachment_without_loading_it(tmp_path: Path) -> None:
    import tracemalloc

    payload = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MiB decoded, ~16 MiB as base64
    path = tmp_path / "huge.eml"
    path.write_bytes(message_with_attachment("big.bin", payload, "application/octet-stream"))
    del payload
    tracemalloc.start()
    try:
        message = parse_file(path, id="huge", labels=[])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.text == "The report is attached."
    (attachment,) = message.attachments
    assert attachment.name == "big.bin"
    assert abs(attachment.size - 12 * 1024 * 1024) < 1024
    assert peak < 4 * 1024 * 1024


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 binary junk without headers"])
def test_parse_message_rejects_non_messages_with_a_clear_error(raw: bytes) -> None:
    with pytest.raises(MessageParseError, match="message bad:"):
        parse_message(raw, id="bad")


_HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Subject",
        "Date",
        "Message-ID",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
    ]
)
_HEADER_VALUES = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b'multipart/mixed; boundary="b"',
            b"text/plain; charset=x-bad",
            b"base64",
            b"=?utf-8?q?=E2?=",
            b"message/rfc822",
            b"attachment; filename*=utf-8''%E2",
            b"<a@b>",
        ]
    ),
)
_BODIES = st.one_of(
    st.binary(max_size=400),
    st.sampled_from(
        [b"--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b--", b"--b\n\n--b\nbroken", b"=ZZ==="]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8), body=_BODIES)
def test_parse_message_fuzzed_input_gives_message_or_one_clear_error(
    headers: list[tuple[str, bytes]], body: bytes
) -> None:
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body
    try:
        message = parse_message(raw, id="fuzz", received=RECEIVED)
    except MessageParseError as exc:
        assert exc.message_id == "fuzz" and exc.reason
        return
    assert message.date.tzinfo is not None
    assert all(attachment.size >= 0 for attachment in message.attachments)
    message.model_dump_json()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_message_fuzzed_bytes_never_escape_as_other_exceptions(raw: bytes) -> None:
    try:
        parse_message(raw, id="fuzz")
    except MessageParseError:
        pass
