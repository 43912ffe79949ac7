"""Outbound data rules: one rule set over every call's arguments, whatever the tool's class.

Text from mail and calendars is tainted. It may reach the user on their own channels (the notify
server's inbox, desktop, webhook and e-mail, all configured by the user) as plain text, but a link in
it is never made live: `inert_links` rewrites every URL that does not point at Pepper's own UI or an
item's provider link (`gmail://`, `calendar://`, Gmail's and Google Calendar's web pages) into a
visibly dead form (`hxxps://evil[.]example/path (link not opened)`) that no renderer turns back into a
link. In a worker run that has read mail or calendar content, an argument that carries data out (a
notification's foreign link, a URL handed to a tool of a server Pepper does not know) makes the call
outward, so it waits for approval; outside such a run the same notification is rewritten inert
instead (`sanitize_notification`). E-mail to other people, invitations and answers to invitations are
outward by the capability table already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from orchestrator.accounts.names import server_kind
from orchestrator.trust.capabilities import TABLE, Verdict

__all__ = [
    "OWN_PREFIXES",
    "find_urls",
    "inert_links",
    "is_own_link",
    "outbound_verdict",
    "sanitize_notification",
]

OWN_PREFIXES = (
    "gmail://",
    "calendar://",
    "notify://",
    "context://",
    "https://mail.google.com/",
    "https://calendar.google.com/",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MARKDOWN_LINK = re.compile(r"!?\[(?P<label>[^\]\n]{0,500})\]\((?P<url>[^)\s]{1,2000})(?:\s+\"[^\"]*\")?\)")
URL = re.compile(
    r"<?(?P<url>(?:(?:https?|ftp|file|javascript|data|mailto):(?://)?|www\.)[^\s<>\"'`]+"
    r"|\b[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}/[^\s<>\"'`]*)>?",
    re.I,
)
TRAILING = ".,;:!?)]}'\""
NOT_OPENED = " (link not opened)"
LINK_KEYS = {"url", "uri", "link", "links", "href", "webhook", "endpoint", "callback"}


def is_own_link(url: str, ui_hosts: Iterable[str] = ()) -> bool:
    """A link to Pepper itself (its UI on a loopback or configured host) or to an item's provider."""
    lowered = url.strip().lower()
    if lowered.startswith(OWN_PREFIXES):
        return True
    try:
        parts = urlsplit(lowered)
    except ValueError:
        return False
    hosts = LOOPBACK | {host.lower() for host in ui_hosts}
    return parts.scheme in ("http", "https") and parts.hostname in hosts and parts.path.startswith("/pepper/")


def find_urls(text: str) -> list[str]:
    """Every URL-like piece of `text` (markdown targets included), trailing punctuation trimmed."""
    found = [m.group("url") for m in MARKDOWN_LINK.finditer(text)]
    found += [m.group("url").rstrip(TRAILING) for m in URL.finditer(MARKDOWN_LINK.sub(" ", text))]
    return [url for url in found if url]


def _defang(url: str) -> str:
    """The URL as dead text: `hxxps://evil[.]example/path (link not opened)`."""
    scheme, colon, rest = url.partition(":")
    if colon and scheme.isalpha():
        head = f"hxxp{scheme[4:]}:" if scheme.lower() in ("http", "https") else f"{scheme}[:]"
    else:
        head, rest = "", url
    body = rest.lstrip("/")
    host, slash, path = body.partition("/")
    return f"{head}{rest[: len(rest) - len(body)]}{host.replace('.', '[.]')}{slash}{path}{NOT_OPENED}"


def inert_links(text: str, ui_hosts: Iterable[str] = ()) -> str:
    """`text` with every foreign link (markdown, autolink or bare) turned into dead, readable text."""

    def markdown(match: re.Match[str]) -> str:
        url, label = match.group("url"), match.group("label")
        return match.group(0) if is_own_link(url, ui_hosts) else f"{label} ({_defang(url)})"

    def bare(match: re.Match[str]) -> str:
        url = match.group("url")
        core = url.rstrip(TRAILING)
        if is_own_link(core, ui_hosts):
            return match.group(0)
        return _defang(core) + url[len(core) :]

    return URL.sub(bare, MARKDOWN_LINK.sub(markdown, text)) if text else text


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, text) for every string inside `value`, with the nearest dict key."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for inner_key, inner in value.items():
            yield from _strings(inner, str(inner_key).lower())
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner, key)


def _foreign_links(arguments: dict[str, Any], ui_hosts: Iterable[str]) -> list[str]:
    links: list[str] = []
    for key, text in _strings(arguments):
        candidates = [text] if key in LINK_KEYS else find_urls(text)
        links += [url for url in candidates if url.strip() and not is_own_link(url, ui_hosts)]
    return list(dict.fromkeys(links))


def _host(url: str) -> str:
    return (urlsplit(url if "://" in url else f"//{url}").hostname or url)[:80]


def outbound_verdict(
    server: str, tool: str, arguments: dict[str, Any], *, tainted: bool, ui_hosts: Iterable[str] = ()
) -> Verdict | None:
    """An outward verdict when the call would carry tainted data away; None when the rules allow it.

    Notifications (and reminders) go to the user's own channels, so only their foreign links count;
    a tool of a server Pepper does not know counts every link it is handed (it may fetch it)."""
    if not tainted:
        return None
    server = server_kind(server)
    carries = server not in TABLE or tool not in TABLE[server] or server == "notify"
    if not carries:
        return None
    links = _foreign_links(arguments, ui_hosts)
    if not links:
        return None
    hosts = ", ".join(dict.fromkeys(_host(url) for url in links))
    return Verdict(
        kind="outward",
        reason=f"carries a link to {hosts} after reading mail or calendar text: data could leave through it",
    )


def sanitize_notification(arguments: dict[str, Any], ui_hosts: Iterable[str] = ()) -> dict[str, Any]:
    """A notification (`title`, `body`, `links` or `link`) as plain text with foreign links inert:
    they leave the link list and are listed, dead, at the end of the body."""
    clean = dict(arguments)
    for key in ("title", "body", "message"):
        if isinstance(clean.get(key), str):
            clean[key] = inert_links(clean[key], ui_hosts)
    single = "link" in clean
    given = [clean.pop("link")] if clean.get("link") else []
    given += list(clean.pop("links", None) or [])
    own = [url for url in given if is_own_link(url, ui_hosts)]
    foreign = [url for url in given if not is_own_link(url, ui_hosts)]
    if single:
        clean["link"] = own[0] if own else None
    else:
        clean["links"] = own
    if foreign:
        dead = "\n".join(f"Link: {_defang(url)}" for url in foreign)
        clean["body"] = f"{clean.get('body') or ''}\n\n{dead}".strip()
    return clean
