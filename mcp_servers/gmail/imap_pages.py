"""IMAP reads by UID range: a folder's messages are fetched a page at a time, one UID FETCH over a
compact UID set (`1000:1199`) per page of at most `PAGE` messages and `PAGE_BYTES` of mail, and
a message over `SLIM_THRESHOLD` is spooled in chunks and slimmed (attachment bodies dropped,
sizes kept) so that it never sits whole in memory. Used by the IMAP store from a worker thread.
"""

from __future__ import annotations

import tempfile

from .imap_connection import FETCH_CHUNK, ImapConnection
from .journal import IndexRow
from .parsing import SLIM_THRESHOLD
from .provider import MailProviderError, NotFoundError
from .slim import slim_message

__all__ = ["PAGE", "PAGE_BYTES", "fetch_page", "fetch_rows", "pages", "slimmed"]

PAGE = 200  # messages per UID FETCH at a first sync or catch-up
PAGE_BYTES = 8 * 1024 * 1024  # and at most this much mail per FETCH answer (sizes from RFC822.SIZE)


def slimmed(conn: ImapConnection, uid: int) -> bytes | None:
    """A huge message with its binary parts dropped (sizes kept), read through a spool file."""
    with tempfile.SpooledTemporaryFile(FETCH_CHUNK) as spool:
        if not conn.fetch_into(uid, spool):
            return None
        spool.seek(0)
        return slim_message(spool)  # type: ignore[arg-type]


def pages(uids: list[int], sizes: dict[int, int]) -> list[list[int]]:
    """`uids` in order, cut into pages of at most `PAGE` messages and `PAGE_BYTES` of small mail
    (a huge message is spooled apart, so it does not count)."""
    cut: list[list[int]] = []
    page: list[int] = []
    weight = 0
    for uid in uids:
        size = sizes.get(uid, 0) if sizes.get(uid, 0) <= SLIM_THRESHOLD else 0
        if page and (len(page) == PAGE or weight + size > PAGE_BYTES):
            cut.append(page)
            page, weight = [], 0
        page.append(uid)
        weight += size
    return cut + [page] if page else cut


def fetch_page(conn: ImapConnection, sizes: dict[int, int]) -> dict[int, bytes | None]:
    """Raw messages of the selected folder by UID: the small ones in one UID FETCH, each huge one
    spooled in chunks and slimmed; None for a UID the folder no longer has."""
    small = [uid for uid, size in sizes.items() if size <= SLIM_THRESHOLD]
    raws: dict[int, bytes | None] = dict(conn.fetch(small))
    for uid in sizes.keys() - set(small):
        raws[uid] = slimmed(conn, uid)
    return raws


def fetch_rows(
    conn: ImapConnection, folder: str, rows: list[IndexRow]
) -> dict[str, bytes | MailProviderError | None]:
    """The raw messages of indexed `rows` of one folder, by id, a page per FETCH; None for one the
    folder no longer has, an error for one whose folder was rebuilt (UIDVALIDITY changed)."""
    validity = str(conn.select(folder).validity)
    raws: dict[str, bytes | MailProviderError | None] = {}
    wanted: dict[int, IndexRow] = {}
    for row in rows:
        row_validity, _, uid = row.path.partition(":")
        if row_validity == validity:
            wanted[int(uid)] = row
        else:
            raws[row.id] = NotFoundError(
                f"message {row.id} is gone (the folder was rebuilt): call list_changes to resync"
            )
    sizes = {uid: (row.summary or {}).get("size", 0) for uid, row in wanted.items()}
    for page in pages(sorted(wanted, reverse=True), sizes):
        fetched = fetch_page(conn, {uid: sizes[uid] for uid in page})
        raws.update({wanted[uid].id: fetched.get(uid) for uid in page})
    return raws
