"""A blocking IMAP connection (stdlib `imaplib`) with the few extensions the IMAP store needs.

It logs in (implicit TLS, STARTTLS or plain, certificates verified by `tls`), lists folders with
their SPECIAL-USE roles (names are modified UTF-7 on the wire, decoded everywhere else), and offers
UID FETCH/STORE/MOVE/COPY/EXPUNGE/APPEND with the response parsing done once, here. IMAP
and socket failures become `ProviderUnavailableError` (connection problems, rejected credentials)
or `MailProviderError` (a command the server refused), with what to check. Used from a worker
thread only.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from typing import IO, NamedTuple

from .provider import CredentialsRefused, MailProviderError, ProviderUnavailableError
from .tls import refused_certificate
from .utf7 import decode_mailbox, encode_mailbox

__all__ = ["FETCH_CHUNK", "Folder", "ImapConnection", "Selection", "quote", "uid_set"]

FETCH_CHUNK = 1024 * 1024
_LIST = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')
_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UIDPLUS = re.compile(rb"\[(?:COPYUID|APPENDUID) (\d+) (?:[\d:,]+ )?([\d:,]+)\]")
_ROLES = {
    b"\\sent": "SENT",
    b"\\drafts": "DRAFT",
    b"\\trash": "TRASH",
    b"\\junk": "SPAM",
    b"\\archive": "ARCHIVE",
}
_NAMES = {
    "sent": "SENT", "sent items": "SENT", "sent messages": "SENT", "[gmail]/sent mail": "SENT",
    "drafts": "DRAFT", "[gmail]/drafts": "DRAFT", "trash": "TRASH", "deleted items": "TRASH",
    "deleted messages": "TRASH", "[gmail]/trash": "TRASH", "junk": "SPAM", "spam": "SPAM",
    "[gmail]/spam": "SPAM", "archive": "ARCHIVE",
}  # fmt: skip


def quote(name: str) -> str:
    """An IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Folder:
    """A selectable mailbox and the Gmail label it stands for (None: archive, no label)."""

    name: str
    role: str | None  # INBOX, SENT, DRAFT, TRASH, SPAM, ARCHIVE, or None for a user folder

    @property
    def label(self) -> str | None:
        if self.role == "ARCHIVE":
            return None
        return self.role or self.name


class Selection(NamedTuple):
    """What SELECT says about a folder; `modseq` is its HIGHESTMODSEQ (None without CONDSTORE)."""

    validity: int
    exists: int  # messages in the folder
    uidnext: int | None
    modseq: int | None


def uid_set(uids: list[int]) -> str:
    """The UIDs as a compact IMAP sequence set: runs of consecutive UIDs become ranges
    (`[7, 3, 4, 5, 9]` is `3:5,7,9`), so a page of a folder costs one short FETCH command."""
    runs: list[str] = []
    ordered = sorted(set(uids))
    start = 0
    for end in range(len(ordered)):
        if end + 1 == len(ordered) or ordered[end + 1] != ordered[end] + 1:
            first, last = ordered[start], ordered[end]
            runs.append(str(first) if first == last else f"{first}:{last}")
            start = end + 1
    return ",".join(runs)


def _said(error: imaplib.IMAP4.error) -> str:
    """What the server answered, as text (imaplib raises with the server's bytes as they came)."""
    said = error.args[0] if error.args else error
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith('"') and text.endswith('"'):
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


class ImapConnection:
    """One logged-in IMAP session."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        timeout: float = 30,
        *,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.where = f"{host}:{port}"
        context = context or ssl.create_default_context()
        self.imap: imaplib.IMAP4
        try:
            if security == "tls":
                self.imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
            else:
                self.imap = imaplib.IMAP4(host, port, timeout=timeout)
                if security == "starttls":
                    self._starttls(context)
        except ssl.SSLCertVerificationError as exc:
            raise refused_certificate(exc, f"IMAP server {self.where}") from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderUnavailableError(
                f"cannot reach IMAP server {self.where}: {exc}; check the host, port and security setting"
            ) from exc
        try:
            self.imap.login(username, password)
            self.capabilities = set(self._ok(self.imap.capability())[0].decode().upper().split())
            if self.condstore:  # so that SELECT reports HIGHESTMODSEQ (RFC 7162)
                self._ok(self.imap.enable("CONDSTORE"))
        except imaplib.IMAP4.abort as exc:
            self.imap.shutdown()
            raise ProviderUnavailableError(f"IMAP server {self.where} dropped the connection: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            self.imap.shutdown()
            raise CredentialsRefused(
                f"IMAP server {self.where} rejected the login of {username!r}: {_said(exc)}; "
                "check PEPPER_GMAIL_IMAP_USERNAME and PEPPER_GMAIL_IMAP_PASSWORD (an app password for Gmail)"
            ) from exc
        except OSError as exc:
            self.imap.shutdown()
            raise ProviderUnavailableError(f"IMAP server {self.where} dropped the connection: {exc}") from exc
        self.selected: str | None = None
        self._wire: dict[str, str] = {}  # folder name → its name on the wire, as LIST gave it

    def _starttls(self, context: ssl.SSLContext) -> None:
        try:
            self.imap.starttls(context)
        except BaseException:
            with contextlib.suppress(OSError):  # the socket may already be gone
                self.imap.shutdown()
            raise

    def close(self) -> None:
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):  # already dropped: logout could not say goodbye
            try:
                self.imap.shutdown()
            except OSError:
                pass

    def _ok(self, result: tuple[str, list]) -> list:
        typ, data = result
        if typ != "OK":
            raise MailProviderError(f"IMAP server {self.where} refused a command: {data!r}")
        return data

    def mailbox(self, name: str) -> str:
        """The quoted wire name of folder `name` (as listed, else in modified UTF-7)."""
        return quote(self._wire.get(name) or encode_mailbox(name))

    def folders(self) -> list[Folder]:
        """Selectable folders under the names users see (modified UTF-7 decoded)."""
        found = []
        for line in self._ok(self.imap.list()):
            if isinstance(line, tuple):  # the name came as a literal
                head, name_bytes = line[0], line[1]
                match = _LIST.match(head + b'""')
                name = name_bytes.decode("utf-8", "replace")
            else:
                match = _LIST.match(line or b"")
                name = _unquote(match.group("name")) if match else ""
            if not match:
                continue
            name = self._remember(name)
            flags = match.group("flags").lower().split()
            if b"\\noselect" in flags or b"\\nonexistent" in flags or b"\\all" in flags:
                continue
            role = (
                "INBOX" if name.upper() == "INBOX" else next((_ROLES[f] for f in flags if f in _ROLES), None)
            )
            found.append(Folder(name, role or _NAMES.get(name.lower())))
        return found

    def _remember(self, wire: str) -> str:
        try:
            name = decode_mailbox(wire)
        except ValueError:  # raw UTF-8 or a broken name: use it as the server spells it
            name = wire
        self._wire[name] = wire
        return name

    @property
    def condstore(self) -> bool:
        """Whether the server keeps modification sequences (CONDSTORE, or QRESYNC which implies it)."""
        return bool({"CONDSTORE", "QRESYNC"} & self.capabilities) and "ENABLE" in self.capabilities

    def select(self, folder: str, readonly: bool = True) -> Selection:
        """Select `folder`; returns its UIDVALIDITY, message count, UIDNEXT and HIGHESTMODSEQ."""
        data = self._ok(self.imap.select(self.mailbox(folder), readonly=readonly))
        self.selected = folder
        _, validity = self.imap.response("UIDVALIDITY")
        _, uidnext = self.imap.response("UIDNEXT")
        _, modseq = self.imap.response("HIGHESTMODSEQ")
        return Selection(
            int(validity[0]),
            int(data[0] or 0),
            int(uidnext[0]) if uidnext and uidnext[0] else None,
            int(modseq[0]) if modseq and modseq[0] else None,
        )

    def uids(self, criteria: tuple[str, ...] = ("ALL",)) -> set[int]:
        """The UIDs of the selected folder's messages that match UID SEARCH `criteria` (all by default)."""
        data = self._ok(self.imap.uid("SEARCH", *criteria))
        return {int(uid) for uid in (data[0] or b"").split()}

    def flags(
        self, count: int, changed_since: int | None = None, uids: str = "1:*"
    ) -> dict[int, tuple[list[str], int]]:
        """UID → (flags, size in bytes) of every message in the selected folder (or in UID set
        `uids`), or with CONDSTORE only of those added or changed after modification sequence
        `changed_since`."""
        if count == 0:
            return {}
        modifier = [f"(CHANGEDSINCE {changed_since})"] if changed_since is not None else []
        result: dict[int, tuple[list[str], int]] = {}
        for line in self._ok(self.imap.uid("FETCH", uids, "(UID FLAGS RFC822.SIZE)", *modifier)):
            raw = line[0] if isinstance(line, tuple) else line
            uid, flags, size = (
                _FETCH_UID.search(raw or b""),
                _FETCH_FLAGS.search(raw or b""),
                _SIZE.search(raw or b""),
            )
            if uid:
                names = flags.group(1).decode().split() if flags else []
                result[int(uid.group(1))] = (names, int(size.group(1)) if size else 0)
        return result

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """Raw messages by UID, whole, in one UID FETCH over their compact UID set (for huge ones:
        see `fetch_into`); UIDs the folder no longer has are missing from the answer."""
        if not uids:
            return {}
        found: dict[int, bytes] = {}
        for item in self._ok(self.imap.uid("FETCH", uid_set(uids), "(UID BODY.PEEK[])")):
            if isinstance(item, tuple):
                uid = _FETCH_UID.search(item[0])
                if uid:
                    found[int(uid.group(1))] = item[1]
        return found

    def fetch_into(self, uid: int, sink: IO[bytes], chunk: int = FETCH_CHUNK) -> bool:
        """Copy a whole message into `sink`, `chunk` bytes per FETCH (BODY.PEEK[]<offset.chunk>), so
        that a huge one never sits in memory; False when there is no message `uid`."""
        offset = 0
        while True:
            part = f"BODY.PEEK[]<{offset}.{chunk}>"
            data = self._ok(self.imap.uid("FETCH", str(uid), f"(UID {part})"))
            piece = next(
                (item[1] for item in data if isinstance(item, tuple) and _FETCH_UID.search(item[0])), None
            )
            if piece is None:
                return offset > 0
            sink.write(piece)
            offset += len(piece)
            if len(piece) < chunk:
                return True

    def store(self, uid: int, add: list[str], remove: list[str]) -> None:
        if add:
            self._ok(self.imap.uid("STORE", str(uid), "+FLAGS.SILENT", f"({' '.join(add)})"))
        if remove:
            self._ok(self.imap.uid("STORE", str(uid), "-FLAGS.SILENT", f"({' '.join(remove)})"))

    def move(self, uid: int, target: str) -> tuple[int, int] | None:
        """Move a message of the selected folder; returns (UIDVALIDITY, UID) in `target` when the server
        says (UIDPLUS)."""
        if "MOVE" in self.capabilities:
            self._ok(self.imap._simple_command("UID", "MOVE", str(uid), self.mailbox(target)))
            _, codes = self.imap.response("COPYUID")  # sent untagged, before the expunge
            return _last_uid(b"[COPYUID " + codes[-1] + b"]" if codes and codes[-1] else b"")
        data = self._ok(self.imap.uid("COPY", str(uid), self.mailbox(target)))
        self.expunge(uid)
        return _last_uid(data[0] or b"")

    def expunge(self, uid: int) -> None:
        self.store(uid, ["\\Deleted"], [])
        if "UIDPLUS" in self.capabilities:
            self._ok(self.imap._simple_command("UID", "EXPUNGE", str(uid)))
        else:
            self._ok(self.imap.expunge())

    def create_folder(self, name: str) -> None:
        self._ok(self.imap.create(self.mailbox(name)))

    def rename_folder(self, name: str, new_name: str) -> None:
        self._ok(self.imap.rename(self.mailbox(name), self.mailbox(new_name)))

    def delete_folder(self, name: str) -> None:
        if self.selected == name:  # some servers refuse to delete the selected folder
            self.select("INBOX")
        self._ok(self.imap.delete(self.mailbox(name)))

    def append(self, folder: str, raw: bytes, flags: str) -> tuple[int, int] | None:
        """Append a message; returns its (UIDVALIDITY, UID) when the server says (UIDPLUS)."""
        data = self._ok(self.imap.append(self.mailbox(folder), flags or None, None, raw))
        return _last_uid(data[0] if data and data[0] else b"")


def _last_uid(code: bytes) -> tuple[int, int] | None:
    match = _UIDPLUS.search(code)
    return (int(match.group(1)), int(match.group(2).split(b",")[-1].split(b":")[-1])) if match else None
