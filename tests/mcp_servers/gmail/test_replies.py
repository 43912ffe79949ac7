"""The new text of a reply found wherever it sits, from raw mail as real clients write it."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_servers.gmail.parsing import parse_message
from mcp_servers.gmail.replies import _QUOTED, split_reply

from . import reply_messages as mail


def parsed(raw: bytes):
    return parse_message(raw, id="m1", labels=["INBOX"])


def test_split_reply_finds_a_gmail_top_post_above_a_wrapped_attribution() -> None:
    message = parsed(mail.GMAIL_TOP_POST)
    assert message.text == "Thursday at 3 works for me. I'll bring the Q1 figures."
    assert message.quoted.startswith("On Tue, Mar 4, 2025 at 9:30 AM Ada Lovelace <ada@example.org>\nwrote:")
    assert "> Can we go through the budget on Thursday afternoon?" in message.quoted


def test_split_reply_finds_a_gmail_bottom_post_under_the_quote() -> None:
    message = parsed(mail.GMAIL_BOTTOM_POST)
    assert message.text.startswith("Yes. I'll move it on Wednesday evening")
    assert "Can you warn the team that builds stop from 18:00 to 20:00?" in message.text
    assert message.text.endswith("Bob")
    assert message.quoted.startswith("On Tue, 4 Mar 2025 at 09:30, Ada Lovelace <ada@example.org> wrote:")
    assert "failing its disk checks" in message.quoted and "failing" not in message.text


def test_split_reply_keeps_the_answers_of_an_inline_reply_and_quotes_the_questions() -> None:
    message = parsed(mail.INLINE_MUTT)
    assert message.text == (
        "Yes, I have booked the flights already.\n\n"
        "Happy to. Send me the time slot when you have it.\n\n"
        "Count me in."
    )
    assert message.signature == "Carol"
    assert "> And could you give the keynote on the second day?" in message.quoted
    assert message.quoted.startswith("* Ada Lovelace <ada@example.org> [2025-03-04 09:30 +0000]:")


def test_split_reply_files_outlooks_unprefixed_original_as_quoted() -> None:
    message = parsed(mail.OUTLOOK_TOP_POST)
    assert (
        message.text
        == "Ada,\n\nThe signed contract is attached. Please countersign by March 14.\n\nRegards,\nDan"
    )
    assert message.quoted.startswith("-----Original Message-----\nFrom: Ada Lovelace")
    assert message.quoted.endswith("Dan, is the contract ready to sign?")


def test_split_reply_reads_an_outlook_html_reply_and_its_header_block() -> None:
    message = parsed(mail.OUTLOOK_HTML_ONLY)
    assert message.text == "Approved. The café order can go ahead too."
    assert message.quoted.startswith("* * *\n\nFrom: Ada Lovelace <ada@example.org>")
    assert message.quoted.endswith("Please approve the budget for the café.")


def test_split_reply_finds_an_apple_mail_bottom_post_and_its_signature_line() -> None:
    message = parsed(mail.APPLE_MAIL_BOTTOM_POST)
    assert message.text == "No, they are in my desk drawer. I can bring them tomorrow morning."
    assert message.signature == "Sent from my iPhone"
    assert "office keys with reception" in message.quoted


def test_split_reply_reads_a_german_bottom_post_under_am_schrieb() -> None:
    message = parsed(mail.GERMAN_BOTTOM_POST)
    assert message.text == (
        "Ja, das Angebot für März schicke ich Ihnen bis Donnerstag.\n\nMit freundlichen Grüßen\nJürgen Müller"
    )
    assert message.quoted.startswith("Am 04.03.25 um 09:30 schrieb Ada Lovelace:")
    assert message.signature == "Jürgen Müller · Beispiel GmbH · Tel. 030 1234567"


def test_split_reply_reads_a_french_bottom_post_under_a_ecrit() -> None:
    message = parsed(mail.FRENCH_BOTTOM_POST)
    assert message.text == (
        "Oui, je confirme la réunion de jeudi à 14 h. J'apporterai le compte rendu.\n\nRenée"
    )
    assert message.quoted.startswith("Le mar. 4 mars 2025 à 09:30, Ada Lovelace <ada@example.org> a écrit :")


def test_split_reply_reads_a_bottom_post_under_an_outlook_express_header_block() -> None:
    message = parsed(mail.OUTLOOK_EXPRESS_BOTTOM_POST)
    assert message.text == "The technician replaced the fuser this afternoon; it prints again."
    assert message.quoted.startswith('----- Original Message -----\nFrom: "Ada Lovelace"')
    assert "> Is the printer on the second floor fixed yet?" in message.quoted


def test_split_reply_takes_the_signature_and_list_footer_off_a_bottom_post() -> None:
    message = parsed(mail.LIST_REPLY_WITH_FOOTER)
    assert message.text == "Tag it on Monday. The installer fixes went in yesterday."
    assert message.signature.startswith("Gary Hall, Example University")
    assert message.signature.endswith("https://lists.example.org/mailman/listinfo/dev")


def test_split_reply_keeps_a_forwarded_message_as_the_text() -> None:
    message = parsed(mail.GMAIL_FORWARD)
    assert "Invoice 2025-031 for 1,200 EUR is due on March 31." in message.text
    assert message.text.startswith("---------- Forwarded message ---------\nFrom: Billing")
    assert message.quoted == ""


def test_split_reply_reads_a_reply_made_only_of_quotes_as_its_text() -> None:
    message = parsed(mail.QUOTE_ONLY)
    assert message.text == "Lunch at the usual place on Friday?\nAda"
    assert message.quoted == ""


def test_split_reply_keeps_a_signature_above_a_top_posted_quote() -> None:
    body = (
        "Sounds good.\n\n-- \nAda Lovelace\nAnalytical Engines\n\nOn Mon, 3 Feb 2025, Bob wrote:\n> Lunch?\n"
    )
    assert split_reply(body) == (
        "Sounds good.",
        "On Mon, 3 Feb 2025, Bob wrote:\n> Lunch?",
        "Ada Lovelace\nAnalytical Engines",
    )


def test_split_reply_keeps_short_answers_between_short_quoted_lines() -> None:
    text, quoted, signature = split_reply("> Can you come?\nYes.\n> At noon?\nBetter at one.")
    assert text == "Yes.\n\nBetter at one."
    assert quoted == "> Can you come?\n\n> At noon?"
    assert signature == ""


def test_split_reply_treats_a_fragment_wrapped_out_of_a_long_quoted_line_as_quote() -> None:
    body = (
        "On Mon, 3 Feb 2025, Bob wrote:\n"
        "> The auditors want every invoice from the third quarter scanned and filed\n"
        "today.\n"
        "> Can you do that?\n\n"
        "Done, they are in the shared folder."
    )
    text, quoted, _ = split_reply(body)
    assert text == "Done, they are in the shared folder."
    assert "today." in quoted


@pytest.mark.parametrize(
    "body",
    [
        "Supercite style:\n\nJM> Is the build green?\n\nIt is now.",
        "On Mon, 3 Feb 2025, Bob wrote:\n| Is the build green?\n\nIt is now.",
        "Bob Example (bob@example.org) wrote*:\n>Is the build green?\n\nIt is now.",
        "On Mon, 3 Feb 2025 at 10:00, Bob wrote:\n[...]\n\nIt is now.",
    ],
)
def test_split_reply_recognizes_other_quote_styles(body: str) -> None:
    text, quoted, _ = split_reply(body)
    assert text.endswith("It is now.")
    assert "Is the build green?" not in text
    assert quoted


def test_split_reply_leaves_a_colon_line_of_the_new_text_alone() -> None:
    body = "Here is the plan:\n\n1. Tag the release\n2. Publish it\n\nThanks, Bob"
    assert split_reply(body) == (body, "", "")


@pytest.mark.parametrize(
    "header",
    [
        "Von: Ada Lovelace <ada@example.org>\nGesendet: Dienstag, 4. März 2025 09:30\nAn: Bob\nBetreff: Budget",
        "De : Ada Lovelace <ada@example.org>\nEnvoyé : mardi 4 mars 2025 09:30\nÀ : Bob\nObjet : Budget",
        "________________________________\nFrom: Ada Lovelace <ada@example.org>\nSent: Tuesday, March 4, 2025 9:30 AM\n"
        "To: Bob\nSubject: Budget",
        "El mar, 4 mar 2025 a las 9:30, Ada Lovelace (<ada@example.org>) escribió:",
    ],
)
def test_split_reply_files_localized_unprefixed_originals_under_a_top_post(header: str) -> None:
    text, quoted, _ = split_reply(f"Approved.\n\n{header}\n\nPlease approve the budget.\n")
    assert text == "Approved."
    assert quoted.endswith("Please approve the budget.")


LINES = [
    "On Mon, 3 Feb 2025 at 10:00, Bob <bob@example.org> wrote:",
    "Am 03.02.25 um 10:00 schrieb Bob:",
    "-----Original Message-----",
    "From: Bob <bob@example.org>",
    "Sent: Monday, February 3, 2025 10:00 AM",
    "To: Ada",
    "Subject: Lunch",
    "> Lunch on Friday?",
    ">> Earlier question",
    "JM> supercite line",
    "| piped quote",
    "-- ",
    "Sent from my iPhone",
    "_______________________________________________",
    "[...]",
    "Yes, Friday works.",
    "",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=60)), max_size=25))
def test_split_reply_loses_no_line_of_the_body(lines: list[str]) -> None:
    body = "\n".join(lines)
    text, quoted, signature = split_reply(body)
    kept = "\n".join([text, quoted, signature])
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        words = line.split()
        if re.fullmatch(r"\s*(--|_{10,})\s*", line):  # the delimiters themselves are not content
            continue
        if words and not _QUOTED.match(line):
            assert " ".join(words) in " ".join(kept.split())
        elif words:  # a quoted line is kept whole, or without its prefix when it is all there is
            assert " ".join(words[1:]) in " ".join(kept.split())
