"""Reading a large message without holding its attachments in memory.

`slim_message(stream)` copies a raw message line by line, tracking MIME boundaries, and replaces
the body of every binary leaf part (anything not text/* or message/*) with nothing, adding an
`X-Pepper-Omitted-Size` header that carries the decoded size estimated from the encoded bytes. Text
parts are capped at `max_text` bytes. The result is a small, well-formed message that the standard
parser handles as usual, so a 200 MB attachment costs a few kilobytes of memory, not 200 MB.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from typing import BinaryIO

__all__ = ["OMITTED_HEADER", "slim_message"]

OMITTED_HEADER = "X-Pepper-Omitted-Size"
_CHUNK = 64 * 1024


class _Part:
    """A part being copied: its header bytes, then how its body is handled."""

    def __init__(self, header: bytes) -> None:
        parsed = BytesHeaderParser().parsebytes(header)
        self.header = header
        self.content_type = parsed.get_content_type()
        self.boundary = parsed.get_boundary() if parsed.get_content_maintype() == "multipart" else None
        self.base64 = str(parsed.get("Content-Transfer-Encoding", "")).strip().lower() == "base64"
        self.binary = parsed.get_content_maintype() not in ("text", "message", "multipart")
        self.is_message = self.content_type == "message/rfc822"
        self.kept = 0
        self.omitted = 0


class _Slimmer:
    def __init__(self, max_text: int) -> None:
        self.max_text = max_text
        self.out = bytearray()
        self.boundaries: list[bytes] = []
        self.header = bytearray()
        self.in_header = True
        self.part: _Part | None = None

    def feed_line(self, line: bytes, at_line_start: bool) -> None:
        if at_line_start and self.boundaries and line.startswith(b"--"):
            stripped = line.rstrip(b"\r\n \t")
            for depth in range(len(self.boundaries) - 1, -1, -1):
                marker = b"--" + self.boundaries[depth]
                if stripped in (marker, marker + b"--"):
                    opens_part = stripped == marker
                    self.close_part()
                    # A delimiter closes the deeper multiparts; a close-delimiter closes this one too.
                    del self.boundaries[depth + 1 if opens_part else depth :]
                    self.out += line
                    self.in_header, self.part = opens_part, None
                    return
        if self.in_header:
            self.header += line
            if at_line_start and line in (b"\n", b"\r\n"):
                self.start_body()
            return
        self.body(line)

    def start_body(self) -> None:
        self.in_header = False
        self.part = _Part(bytes(self.header))
        self.header.clear()
        if self.part.boundary:
            self.boundaries.append(self.part.boundary.encode("utf-8", "surrogateescape"))
        if self.part.is_message:
            self.out += self.part.header
            self.in_header, self.part = True, None
        elif not self.part.binary:
            self.out += self.part.header

    def body(self, line: bytes) -> None:
        part = self.part
        if part is None or part.boundary:
            self.out += line
        elif part.binary:
            part.omitted += len(line.strip()) - line.count(b"=") if part.base64 else len(line)
        elif part.kept + len(line) <= self.max_text:
            part.kept += len(line)
            self.out += line
        else:
            part.omitted += len(line)

    def close_part(self) -> None:
        part = self.part
        if part is None:
            if self.in_header and self.header:
                self.out += self.header
                self.header.clear()
            return
        if part.binary:
            size = part.omitted * 3 // 4 if part.base64 else part.omitted
            head = part.header.rstrip(b"\r\n")
            self.out += head + f"\n{OMITTED_HEADER}: {size}\n\n".encode()
        elif part.omitted and not part.boundary:
            self.out += f"\n[... {part.omitted} more bytes of text omitted]\n".encode()


def slim_message(stream: BinaryIO, max_text: int = 1024 * 1024) -> bytes:
    """A copy of the message on `stream` with binary part bodies dropped and sizes recorded."""
    slimmer = _Slimmer(max_text)
    at_line_start = True
    while True:
        line = stream.readline(_CHUNK)
        if not line:
            break
        slimmer.feed_line(line, at_line_start)
        at_line_start = line.endswith(b"\n")
    slimmer.close_part()
    return bytes(slimmer.out)
