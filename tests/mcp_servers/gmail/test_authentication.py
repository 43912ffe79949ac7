"""Messages carry the SPF, DKIM and DMARC results their receiving servers wrote, nearest server first."""

from __future__ import annotations

from mcp_servers.gmail.authentication import parse_authentication_results, parse_received_spf
from mcp_servers.gmail.models import Message
from mcp_servers.gmail.parsing import parse_message

# A forged From, as Gmail's MX records it: the sender's own "pass" header sits below the real one.
SPOOFED = b"""\
Delivered-To: alex@pepper.example
Received: by 2002:a05:6402:1d4a:b0:5c9 with SMTP id ny10csp182;
        Tue, 24 Nov 2026 08:14:03 -0800 (PST)
ARC-Authentication-Results: i=1; mx.google.com;
       spf=softfail (google.com: domain of transitioning alex@pepper.example does not designate 203.0.113.9 as permitted sender) smtp.mailfrom=alex@pepper.example;
       dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=pepper.example
Authentication-Results: mx.google.com;
       dkim=none;
       spf=softfail (google.com: domain of transitioning alex@pepper.example does not
        designate 203.0.113.9 as permitted sender) smtp.mailfrom=alex@pepper.example;
       dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=pepper.example
Received-SPF: softfail (google.com: domain of transitioning alex@pepper.example does not designate 203.0.113.9 as permitted sender) client-ip=203.0.113.9;
Authentication-Results: mail.attacker.example; spf=pass smtp.mailfrom=pepper.example; dkim=pass header.d=pepper.example; dmarc=pass
From: Alex Morgan <alex@pepper.example>
To: alex@pepper.example
Subject: Time over: low balance on your account
Date: Tue, 24 Nov 2026 16:13:58 +0000
Message-ID: <20261124161358.4411@attacker.example>
Content-Type: text/plain; charset=utf-8

Your mailbox is over quota. Verify immediately.
"""


def parsed(raw: bytes) -> Message:
    return parse_message(raw, id="m1", labels=["INBOX", "UNREAD"])


def test_parse_message_keeps_the_nearest_servers_results_over_a_forged_pass_below() -> None:
    auth = parsed(SPOOFED).authentication
    assert (auth.spf, auth.dkim, auth.dmarc) == ("softfail", "none", "fail")


def test_parse_message_reads_received_spf_when_no_authentication_results_say() -> None:
    raw = (
        b"Received-SPF: fail (mx.example.org: domain of ceo@acme.example does not designate"
        b" 198.51.100.7 as permitted sender) client-ip=198.51.100.7; envelope-from=ceo@acme.example\n"
        b"From: CEO <ceo@acme.example>\nTo: ann@acme.example\nSubject: Wire\n"
        b"Date: Tue, 24 Nov 2026 09:00:00 +0000\nMessage-ID: <w@x>\n\nPlease wire it today.\n"
    )
    auth = parsed(raw).authentication
    assert (auth.spf, auth.dkim, auth.dmarc) == ("fail", None, None)


def test_parse_message_without_authentication_headers_knows_nothing() -> None:
    raw = (
        b"From: a@example.org\nTo: b@example.org\nSubject: Hi\nDate: Tue, 24 Nov 2026 09:00:00 +0000\n\nHi\n"
    )
    message = parsed(raw)
    assert message.authentication.model_dump() == {"spf": None, "dkim": None, "dmarc": None}
    assert message.model_dump(by_alias=True)["authentication"] == {"spf": None, "dkim": None, "dmarc": None}


def test_message_stored_before_the_field_existed_still_validates() -> None:
    old = parsed(SPOOFED).model_dump(by_alias=True, mode="json")
    del old["authentication"]
    assert Message.model_validate(old).authentication.dmarc is None


def test_authentication_results_pass_when_any_dkim_signature_passes_and_ignore_comments() -> None:
    header = (
        "mx.example.org 1; dkim=fail (bad signature) header.d=lists.example; "
        "dkim=pass (2048-bit key; unprotected) header.d=acme.example header.s=s1; "
        "spf=neutral (mx.example.org: 192.0.2.1 is neither permitted nor denied) smtp.mailfrom=acme.example; "
        "arc=none; dmarc=pass (p=REJECT) header.from=acme.example"
    )
    assert parse_authentication_results(header) == {"dkim": "pass", "spf": "neutral", "dmarc": "pass"}
    assert parse_authentication_results("mx.example.org; none") == {}


def test_received_spf_reads_only_known_result_words() -> None:
    assert parse_received_spf("Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1") == "pass"
    assert parse_received_spf("garbage here") is None
    assert parse_received_spf("") is None
