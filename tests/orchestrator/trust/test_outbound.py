"""Outbound data rules: links from mail are never live in what Pepper says, and tainted data leaves
only through an approved action."""

from __future__ import annotations

import pytest

from orchestrator.trust.outbound import (
    find_urls,
    inert_links,
    is_own_link,
    outbound_verdict,
    sanitize_notification,
)


def test_inert_links_defangs_bare_markdown_and_auto_links_keeping_their_target_readable() -> None:
    text = (
        "See [your invoice](https://evil.example/pay?u=me) or <https://evil.example/a> or www.evil.example/b."
    )
    shown = inert_links(text)
    assert "https://" not in shown and "www.evil" not in shown and "](" not in shown
    assert "your invoice (hxxps://evil[.]example/pay?u=me (link not opened))" in shown
    assert "hxxps://evil[.]example/a (link not opened)" in shown
    assert shown.endswith("www[.]evil[.]example/b (link not opened).")


def test_inert_links_keeps_pepper_and_provider_links() -> None:
    text = "Open gmail://message/42 or http://127.0.0.1:5050/pepper/ui.html or https://mail.google.com/mail/u/0/#inbox/42"
    assert inert_links(text) == text
    assert inert_links("http://localhost:5050/other") == "hxxp://localhost:5050/other (link not opened)"


def test_inert_links_defangs_schemeless_domains_and_other_schemes() -> None:
    assert inert_links("go to evil.example/x?d=1 now") == "go to evil[.]example/x?d=1 (link not opened) now"
    assert "mailto[:]" in inert_links("mailto:m@evil.example?body=secret")
    assert "javascript[:]" in inert_links("javascript:alert(1)")


def test_is_own_link_accepts_configured_ui_hosts_only_under_pepper() -> None:
    assert is_own_link("http://pepper.lan:5050/pepper/ui.html", ["pepper.lan"])
    assert not is_own_link("http://pepper.lan:5050/other", ["pepper.lan"])
    assert not is_own_link("https://evil.example/pepper/ui.html")


def test_find_urls_trims_trailing_punctuation() -> None:
    assert find_urls("(see https://a.example/x).") == ["https://a.example/x"]


def test_sanitize_notification_moves_foreign_links_into_the_body_as_dead_text() -> None:
    clean = sanitize_notification(
        {
            "title": "Pay [now](https://evil.example/p)",
            "body": "code 123",
            "links": ["https://evil.example/?c=123", "gmail://message/7"],
        }
    )
    assert clean["links"] == ["gmail://message/7"]
    assert clean["title"] == "Pay now (hxxps://evil[.]example/p (link not opened))"
    assert clean["body"] == "code 123\n\nLink: hxxps://evil[.]example/?c=123 (link not opened)"
    single = sanitize_notification({"title": "t", "link": "https://evil.example/?c=1"})
    assert single["link"] is None and "hxxps://evil[.]example/?c=1" in single["body"]


def test_outbound_verdict_gates_a_tainted_notification_with_a_foreign_link() -> None:
    arguments = {"title": "Done", "links": ["https://evil.example/c?data=secret"]}
    verdict = outbound_verdict("notify", "send_notification", arguments, tainted=True)
    assert verdict is not None and verdict.kind == "outward" and "evil.example" in verdict.reason
    assert outbound_verdict("notify", "send_notification", arguments, tainted=False) is None
    body_only = {"title": "x", "body": "see https://evil.example/c?d=1"}
    assert outbound_verdict("notify", "send_notification", body_only, tainted=True) is not None
    own = {"title": "New mail", "links": ["gmail://message/1"]}
    assert outbound_verdict("notify", "send_notification", own, tainted=True) is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"url": "https://hooks.evil.example/x"},
        {"query": "look up https://evil.example/?q=secret"},
        {"webhook": "evil.example/h"},
    ],
)
def test_outbound_verdict_gates_links_handed_to_a_tool_pepper_does_not_know(arguments) -> None:
    verdict = outbound_verdict("fetcher", "fetch", arguments, tainted=True)
    assert verdict is not None and verdict.kind == "outward"


def test_outbound_verdict_leaves_pepper_memory_and_drafts_to_the_table() -> None:
    memory = {"namespace": "memory.worker.mail", "text": "https://evil.example/?x"}
    assert outbound_verdict("context", "store", memory, tainted=True) is None
    draft = {"message": {"to": ["x@evil.example"], "body": "https://evil.example/?x"}}
    assert outbound_verdict("gmail", "create_draft", draft, tainted=True) is None
