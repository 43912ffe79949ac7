"""What the receiving mail servers recorded about a message's sender authentication.

`authentication_of(mime)` reads the `Authentication-Results` headers (RFC 8601) and `Received-SPF`
(RFC 7208) into an `Authentication`: the SPF, DKIM and DMARC result for each method. Receiving
servers prepend their headers, so the topmost header that names a method is the one written by the
server nearest the user; lower ones may have been written by whoever sent the message, so a method
already decided by a header above is never overridden by one below. Within one header, several DKIM
signatures may be reported: one that passes is enough, the way DMARC reads them. Nothing is
verified here: these are the receiving server's words, good for noticing a failure, never for
vouching for a sender.
"""

from __future__ import annotations

import re
from email.message import Message as MimeMessage

from .models import Authentication
from .text import decode_header_value

__all__ = ["authentication_of", "parse_authentication_results", "parse_received_spf"]

METHODS = ("spf", "dkim", "dmarc")
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.I)
_SPF_RESULTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}


def authentication_of(mime: MimeMessage) -> Authentication:
    """The authentication results of `mime`, nearest receiving server first."""
    found: dict[str, str] = {}
    for value in mime.get_all("Authentication-Results") or []:
        for method, result in parse_authentication_results(decode_header_value(value)).items():
            found.setdefault(method, result)
    if "spf" not in found:
        for value in mime.get_all("Received-SPF") or []:
            if (result := parse_received_spf(decode_header_value(value))) is not None:
                found["spf"] = result
                break
    return Authentication(**found)


def parse_authentication_results(value: str) -> dict[str, str]:
    """{method: result} for the SPF, DKIM and DMARC results of one Authentication-Results header,
    e.g. `mx.example.org; spf=softfail smtp.mailfrom=x.example; dmarc=fail header.from=x.example`."""
    text = value
    while _COMMENT.search(text):  # comments may nest: strip the innermost until none remain
        text = _COMMENT.sub(" ", text)
    results: dict[str, list[str]] = {}
    for clause in text.split(";")[1:]:  # the first part is the server's id (and a version)
        match = _RESULT.match(clause)
        if match and (method := match.group(1).lower()) in METHODS:
            results.setdefault(method, []).append(match.group(2).lower())
    return {method: _combined(found) for method, found in results.items()}


def parse_received_spf(value: str) -> str | None:
    """The result word that opens a Received-SPF header (`fail (domain of ...) client-ip=...`)."""
    words = value.strip().split(None, 1)
    result = words[0].lower() if words else ""
    return result if result in _SPF_RESULTS else None


def _combined(results: list[str]) -> str:
    """One result for a method reported several times: pass if any passed, else the first failure,
    else the first result."""
    if "pass" in results:
        return "pass"
    return next((r for r in results if r in ("fail", "softfail")), results[0])
