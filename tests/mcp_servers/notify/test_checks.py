"""The limits on what send_notification accepts."""

from __future__ import annotations

import pytest

from mcp_servers.notify.checks import NotifyInputError, check_notification
from mcp_servers.notify.settings import MAX_BODY_BYTES


def test_check_notification_strips_title_and_source() -> None:
    assert check_notification("  Hi  ", "", " gmail ", [], None) == ("Hi", "gmail")


@pytest.mark.parametrize("title", ["", "   ", "\n"])
def test_check_notification_rejects_empty_title(title: str) -> None:
    with pytest.raises(NotifyInputError, match="title is empty"):
        check_notification(title, "body", "s", [], None)


def test_check_notification_rejects_one_megabyte_body_naming_the_limit() -> None:
    with pytest.raises(NotifyInputError, match=r"body is 1,048,576 bytes; the limit is 65,536 bytes"):
        check_notification("t", "x" * (1024 * 1024), "s", [], None)


def test_check_notification_counts_body_in_utf8_bytes() -> None:
    check_notification("t", "x" * MAX_BODY_BYTES, "s", [], None)
    with pytest.raises(NotifyInputError):
        check_notification("t", "é" * (MAX_BODY_BYTES // 2 + 1), "s", [], None)


@pytest.mark.parametrize("link", ["javascript:alert(1)", "not a url", "ftp://x", "file:///etc/passwd"])
def test_check_notification_rejects_non_web_links(link: str) -> None:
    with pytest.raises(NotifyInputError, match="not an http"):
        check_notification("t", "", "s", [link], None)


@pytest.mark.parametrize(
    "link", ["https://example.org/x", "mailto:a@b.org", "gmail://message/m1", "calendar://event/e1"]
)
def test_check_notification_accepts_web_mail_and_pepper_links(link: str) -> None:
    check_notification("t", "", "s", [link], None)


def test_check_notification_rejects_long_title_and_empty_dedupe_key() -> None:
    with pytest.raises(NotifyInputError, match="title is 201 characters"):
        check_notification("t" * 201, "", "s", [], None)
    with pytest.raises(NotifyInputError, match="dedupe_key"):
        check_notification("t", "", "s", [], "")
