"""What the content model reads in a stored email: word tokens and header features, as strings.

Everything comes from the feeds' `Email` (what Pepper stores for each message), so the model scores
mail in Pepper exactly as in the bench. Words come from the subject (prefixed `subj:`) and from the
sender's new text and signature (each word once per message, lower case, 3 to 15 letters); links
give their domains (`url:`) and a count bucket. Header features (prefixed `h:`) describe what a
message's words do not: list and precedence headers, the SPF/DKIM/DMARC verdicts, the shape of the
sender's address and domain, the recipients, the share of capitals, money and percent signs,
exclamation marks, the share of non-ASCII characters (and pairs of CJK characters, which have no
spaces to split words at), replies and references, attachments. Counts are put in coarse buckets so
that one feature stands for a kind of message, not for one message.
"""

from __future__ import annotations

import re

from orchestrator.feeds.mail import Email

__all__ = ["TEXT_LIMIT", "features"]

TEXT_LIMIT = 20_000  # characters of text read: spam says what it is early, and scoring stays cheap
WORD = re.compile(r"[a-z][a-z'-]{1,13}[a-z]")
URL = re.compile(r"(?:https?://|www\.)([a-z0-9.-]+)", re.I)
MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:usd|dollars|eur)\b", re.I)
PERCENT = re.compile(r"\d\s?%")
LETTERS = re.compile(r"[A-Za-z]")
CAPS = re.compile(r"[A-Z]")
CJK = re.compile(r"(?=([\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{2}))")
STOP = frozenset("the and for you your are with this that from have not but was all can our".split())


def features(email: Email) -> set[str]:
    """The message's tokens and header features (each once)."""
    text = f"{email.text}\n{email.signature}"[:TEXT_LIMIT]
    found = {f"subj:{word}" for word in _words(email.subject)}
    found |= _words(text)
    found |= _link_features(text)
    found |= _shape_features(email.subject, text)
    found |= _header_features(email)
    return found


def _words(text: str) -> set[str]:
    return {word for word in WORD.findall(text.lower()) if word not in STOP}


def _bucket(count: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if count <= edge:
            return str(edge)
    return f"{edges[-1]}+"


def _link_features(text: str) -> set[str]:
    domains = [match.lower().strip(".") for match in URL.findall(text)]
    found = {f"h:links:{_bucket(len(domains), (0, 1, 3, 10))}"}
    for domain in domains:
        labels = domain.split(".")
        found.add("url:" + ".".join(labels[-2:]))
        if re.fullmatch(r"[\d.]+", domain):
            found.add("h:link-to-ip")
    return found


def _shape_features(subject: str, text: str) -> set[str]:
    """How the message is written: capitals, money, percents, exclamation marks, length."""
    found = set()
    letters = len(LETTERS.findall(text))
    if letters:
        caps = len(CAPS.findall(text)) / letters
        found.add(f"h:caps:{_bucket(int(caps * 100), (5, 10, 20, 40))}")
    subject_letters = LETTERS.findall(subject)
    if len(subject_letters) >= 6 and all(c.isupper() for c in subject_letters):
        found.add("h:subject-all-caps")
    found.add(f"h:money:{_bucket(len(MONEY.findall(text)), (0, 1, 3))}")
    found.add(f"h:percent:{_bucket(len(PERCENT.findall(text)), (0, 2))}")
    found.add(f"h:exclaim:{_bucket(text.count('!'), (0, 2, 5))}")
    found.add(f"h:subject-exclaim:{_bucket(subject.count('!'), (0, 1))}")
    found.add(f"h:length:{_bucket(len(text), (0, 200, 1000, 4000))}")
    for name, part in (("subject", subject), ("text", text)):
        if part:
            foreign = sum(not c.isascii() for c in part) * 100 // len(part)
            found.add(f"h:{name}-non-ascii:{_bucket(foreign, (0, 5, 30))}")
    found |= {f"cjk:{pair}" for pair in CJK.findall(f"{subject} {text}"[:2000])}
    if subject.lower().startswith(("re:", "aw:", "sv:")):
        found.add("h:subject-re")
    return found


def _header_features(email: Email) -> set[str]:
    found = set()
    headers = email.list_headers
    if headers.list_id:
        found.add("h:list-id")
    if headers.list_unsubscribe:
        found.add("h:list-unsubscribe")
    if headers.precedence:
        found.add(f"h:precedence:{headers.precedence.strip().lower()[:10]}")
    auth = email.authentication
    for method in ("spf", "dkim", "dmarc"):
        found.add(f"h:{method}:{(getattr(auth, method) or 'unknown').lower()[:10]}")
    found |= _sender_features(email)
    found.add(f"h:to:{_bucket(len(email.to), (0, 1, 3))}")
    if email.cc:
        found.add("h:cc")
    if email.in_reply_to or email.references:
        found.add("h:reply")
    if email.quoted.strip():
        found.add("h:quotes")
    found.add(f"h:attachments:{_bucket(len(email.attachments), (0, 1))}")
    return found


def _sender_features(email: Email) -> set[str]:
    """The shape of the From: digits and length of the local part, the domain's labels and TLD."""
    if email.sender is None or "@" not in email.sender.email:
        return {"h:from:none"}
    local, _, domain = email.sender.email.lower().rpartition("@")
    labels = domain.split(".")
    found = {
        f"h:from-tld:{labels[-1][:8]}",
        f"h:from-labels:{_bucket(len(labels), (2, 3))}",
        f"h:from-local-len:{_bucket(len(local), (4, 8, 14))}",
        "from:" + ".".join(labels[-2:]),
    }
    if re.search(r"\d", local):
        found.add("h:from-local-digits")
    if re.search(r"\d", domain):
        found.add("h:from-domain-digits")
    if domain.count("-") >= 2:
        found.add("h:from-domain-hyphens")
    if not email.sender.name:
        found.add("h:from-no-name")
    elif "@" in email.sender.name:
        found.add("h:from-name-is-address")
    reply_domains = {m.email.lower().rpartition("@")[2] for m in email.reply_to}
    if reply_domains and domain not in reply_domains:
        found.add("h:reply-to-elsewhere")
    return found
