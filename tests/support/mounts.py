"""Mounting for tests of storage failures: a tiny tmpfs (a disk that fills up) and read-only bind
mounts. Mounting needs root (CI runs as
root, which ignores file modes: a read-only mount is the way to make a directory truly read-only);
elsewhere the test is skipped."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

__all__ = ["mounted"]


@contextlib.contextmanager
def mounted(*arguments: str) -> Iterator[None]:
    """`mount ARGUMENTS`, undone afterwards; skips the test where mounting is not allowed."""
    target = arguments[-1]
    if os.geteuid() != 0 or subprocess.run(["mount", *arguments], capture_output=True).returncode != 0:
        pytest.skip("mounting needs root and a kernel that allows it")
    try:
        yield
    finally:
        subprocess.run(["umount", target], check=True)
