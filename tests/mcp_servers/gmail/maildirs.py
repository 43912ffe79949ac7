"""Writing test messages into a Maildir the way a delivery agent does (tmp/, then rename into new/)."""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path

_keys = count(1)


def deliver(root: Path, raw: bytes, folder: str = "", flags: str | None = None) -> str:
    """Drop `raw` into `folder` of the Maildir at `root`; returns the key (the provider's id)."""
    base = root / f".{folder}" if folder else root
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    key = f"1700000000.M{next(_keys)}P{os.getpid()}.testhost"
    tmp = base / "tmp" / key
    tmp.write_bytes(raw)
    final = base / "new" / key if flags is None else base / "cur" / f"{key}:2,{flags}"
    os.rename(tmp, final)
    return key
