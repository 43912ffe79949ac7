"""Rules-mode triage believes no From header: urgency counts only from people the user wrote to or
marked VIP, a forged or borrowed identity ranks as a stranger and says it is suspicious, and forged
mail teaches the profile nothing. Messages are raw RFC 5322, read by the gmail server's parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mcp_servers.gmail.parsing import parse_message
from orchestrator.feeds.follow_ups import answered_follow_up, follow_up_for
from orchestrator.feeds.mail import Email, UserProfile
from orchestrator.feeds.sender_trust import resembles, sender_trust
from orchestrator.feeds.triage_rules import triage_email
from orchestrator.triage.content import ContentCounts, ContentModel

# These tests are about the trust rules: a content model that calls nothing spam keeps the lures
# below (which the shipped model rightly calls spam) in front of the rules under test.
TRUST_ONLY = ContentModel(ContentCounts(), threshold=float("inf"))

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # a Tuesday; every message below is from 09:12
ME = "alex@pepper.example"
BOSS = "jordan.blake@pepper.example"
PASS = "mx.pepper.example; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"
FAIL = (
    "mx.pepper.example; spf=softfail (mx.pepper.example: domain of transitioning {domain} does not designate "
    "203.0.113.9 as permitted sender) smtp.mailfrom={domain}; dkim=none; dmarc=fail (p=NONE) header.from={domain}"
)


def slug(text: str) -> str:
    """A stable Message-ID local part made of the text's words."""
    return ".".join(re.findall(r"[a-z0-9]+", text.lower()))


def raw(sender: str, subject: str, body: str, auth: str | None = None, **headers: str) -> bytes:
    domain = sender.rpartition("@")[2].rstrip(">")
    lines = [f"Authentication-Results: {auth.format(domain=domain)}"] if auth else []
    lines += [
        f"From: {sender}",
        f"To: Alex Morgan <{ME}>",
        f"Subject: {subject}",
        "Date: Tue, 24 Nov 2026 09:12:00 +0000",
        f"Message-ID: <{slug(sender + subject)}@mail.example>",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
    ]
    return "\n".join(lines).encode()


def email(message: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> Email:
    parsed = parse_message(message, id="m1", labels=list(labels))
    return Email.model_validate(parsed.model_dump(by_alias=True, mode="json"))


def user(**fields) -> UserProfile:
    """Alex, who writes to their manager Jordan often and marked the CEO a VIP."""
    base = {
        "addresses": {ME},
        "vips": {"dana@pepper.example"},
        "sent_to": {BOSS: 6, ME: 3, "ben.carter@brightstack.example": 1},  # notes to self too
        "replied_to": {BOSS: 2},
        "contact_names": {BOSS: "Jordan Blake", "ben.carter@brightstack.example": "Ben Carter"},
        "name": "Alex Morgan",
    }
    return UserProfile.model_validate(base | fields)


ASK = "Can you send me the Atlas adoption figures by 4pm today? I need them for the board deck."
LURE = "Your mailbox will be suspended. Please verify your account immediately or lose access by 5pm today."


def test_stranger_urgent_subject_and_deadline_stay_normal_and_say_why() -> None:
    verdict = triage_email(
        email(raw("IT Desk <it-desk@mailbox-help.example>", "URGENT: account", LURE)), user(), NOW, TRUST_ONLY
    )
    assert verdict.priority == "normal" and verdict.category == "action"
    assert "marked urgent in the subject, not raised: the user never wrote to this sender" in verdict.reasons
    assert any(r.startswith("deadline Tue 24 Nov 17:00 (within 48 h), not raised") for r in verdict.reasons)


def test_stranger_emergency_immediately_is_normal_and_low_when_bulk() -> None:
    message = raw(
        "Security Team <security@acct-alerts.example>", "Emergency: act immediately", LURE, auth=PASS
    )
    assert triage_email(email(message), user(), NOW, TRUST_ONLY).priority == "normal"
    assert triage_email(email(message), user(), NOW).category == "spam"  # the shipped content model
    bulk = raw(
        "Deals <deals@shop.example>",
        "Emergency sale ends immediately",
        LURE,
        List_Unsubscribe="<mailto:u@shop.example>",
    )
    assert triage_email(email(bulk), user(), NOW).priority == "low"


def test_correspondent_urgent_request_with_a_deadline_is_urgent() -> None:
    verdict = triage_email(
        email(raw(f"Jordan Blake <{BOSS}>", "URGENT: Atlas numbers", ASK, auth=PASS)), user(), NOW
    )
    assert verdict.priority == "urgent"
    assert "marked urgent in the subject" in verdict.reasons
    assert not [r for r in verdict.reasons if r.startswith("suspicious")]


def test_vip_urgent_subject_is_urgent_even_unauthenticated_headers_absent() -> None:
    verdict = triage_email(
        email(raw("Dana Whitfield <dana@pepper.example>", "Urgent: board", "See me.")), user(), NOW
    )
    assert verdict.priority == "urgent" and "sender is a VIP" in verdict.reasons


def test_spoofed_frequent_contact_failing_dmarc_ranks_as_a_stranger_and_is_suspicious() -> None:
    message = raw(f"Jordan Blake <{BOSS}>", "URGENT: wire transfer today", ASK, auth=FAIL)
    verdict = triage_email(email(message), user(), NOW)
    assert verdict.priority == "normal"
    assert (
        "suspicious: sender authentication failed (spf=softfail, dmarc=fail) for a contact" in verdict.reasons
    )
    assert "the user often writes to this sender" not in verdict.reasons
    assert "marked urgent in the subject, not raised: the sender is not trusted" in verdict.reasons


def test_forwarded_contact_mail_failing_spf_but_passing_dmarc_is_trusted() -> None:
    forwarded = (
        "mx.pepper.example; spf=fail smtp.mailfrom=fwd.example; dkim=pass header.d={domain}; dmarc=pass"
    )
    verdict = triage_email(
        email(raw(f"Jordan Blake <{BOSS}>", "URGENT: numbers", ASK, auth=forwarded)), user(), NOW
    )
    assert verdict.priority == "urgent"
    assert not [r for r in verdict.reasons if r.startswith("suspicious")]


def test_contacts_name_on_an_unknown_address_is_suspicious_and_a_stranger() -> None:
    message = raw("Jordan Blake <jordan.blake.ceo@gmail.example>", "URGENT: quick favour", ASK, auth=PASS)
    verdict = triage_email(email(message), user(), NOW)
    assert verdict.priority == "normal"
    assert any(
        "uses the name of a contact (Jordan Blake, jordan.blake@pepper.example)" in r for r in verdict.reasons
    )


def test_look_alike_address_of_a_contact_is_suspicious() -> None:
    message = raw(
        "Ben C. <ben.carter@brlghtstack.example>",
        "Updated bank details",
        "Please pay the renewal to the new account.",
    )
    trust = sender_trust(email(message), user())
    assert not trust.known
    assert trust.suspicious == [
        "the address ben.carter@brlghtstack.example resembles ben.carter@brightstack.example, a known address"
    ]


@pytest.mark.parametrize(
    ("address", "known", "alike"),
    [
        ("jordan.blake@pepper.example", "jordan.blake@pepper.example", False),
        ("jordan.blake@pepper-example.com", "jordan.blake@pepper.example", True),  # same first label
        ("jordan.blake@pepper.exampel", "jordan.blake@pepper.example", True),  # two edits away
        ("jordan.bIake@pepper.example", "jordan.blake@pepper.example", True),  # capital I for l
        ("jordanblake@pepper.example", "jordan.blake@pepper.example", True),  # dots dropped
        ("sam.patil@pepper.example", "sam.patel@pepper.example", False),  # another colleague
        ("info@other.example", "info@acme.example", False),  # a common local part elsewhere
    ],
)
def test_resembles_catches_look_alikes_and_not_colleagues(address: str, known: str, alike: bool) -> None:
    assert resembles(address, known) is alike


def test_forged_from_the_users_own_address_in_the_inbox_is_a_suspicious_stranger() -> None:
    message = raw(f"Alex Morgan <{ME}>", "URGENT: Time over, low balance", LURE, auth=FAIL)
    verdict = triage_email(email(message), user(), NOW, TRUST_ONLY)
    assert verdict.priority == "normal"
    assert (
        "suspicious: sender authentication failed (spf=softfail, dmarc=fail) for the user's own address"
        in verdict.reasons
    )
    assert (
        "From is the user's own address, but the mail did not come from Sent: a stranger" in verdict.reasons
    )


def test_users_own_address_from_outside_without_a_failure_is_a_stranger_not_suspicious() -> None:
    verdict = triage_email(email(raw(f"Alex Morgan <{ME}>", "URGENT: note to self", ASK)), user(), NOW)
    assert verdict.priority == "normal"
    assert not [r for r in verdict.reasons if r.startswith("suspicious")]


def test_stranger_using_the_users_own_name_is_suspicious() -> None:
    trust = sender_trust(email(raw("Alex Morgan <alex.morgan.work@mail.example>", "Hi", "Hi")), user())
    assert trust.suspicious == [
        "uses the user's own name on alex.morgan.work@mail.example, an address that is not theirs"
    ]


def test_a_reply_failing_authentication_does_not_answer_a_follow_up() -> None:
    question = raw(f"Alex Morgan <{ME}>", "Atlas numbers?", "Could you send the Atlas numbers?")
    sent = email(
        question.replace(f"To: Alex Morgan <{ME}>".encode(), f"To: Jordan Blake <{BOSS}>".encode()), ("SENT",)
    )
    follow_up = follow_up_for(sent, user())
    assert follow_up is not None and follow_up.recipients == [BOSS]
    answer = {"subject": "Re: Atlas numbers?", "body": "Attached.", "In_Reply_To": sent.message_id}
    genuine = email(raw(f"Jordan Blake <{BOSS}>", auth=PASS, **answer))
    forged = email(raw(f"Jordan Blake <{BOSS}>", auth=FAIL, **answer))
    assert answered_follow_up(genuine, [follow_up]) == follow_up
    assert answered_follow_up(forged, [follow_up]) is None
