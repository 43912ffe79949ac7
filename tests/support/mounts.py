"""Mounting for tests of storage failures: a tiny tmpfs (a disk that fills up), read-only bind
mounts, and an ext4 image that can be made to fail the way a disk does at run time (the kernel
remounts it read-only under the processes using it: `errors=remount-ro`). Mounting needs root (CI
runs as root, which ignores file modes: a read-only mount is the way to make a directory truly
read-only); elsewhere the test is skipped."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["ext4_failing_on_demand", "mounted"]


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


@contextlib.contextmanager
def ext4_failing_on_demand(image: Path, target: Path) -> Iterator[Path]:
    """An ext4 filesystem in the file `image`, mounted at `target` with errors=remount-ro; yields the
    sysfs file that, written to, makes the kernel record an error and turn it read-only at once
    (as after a failing disk), under every process that has files open on it."""
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed")
    with image.open("wb") as sink:
        sink.truncate(32 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    with mounted("-o", "loop,errors=remount-ro", str(image), str(target)):
        device = subprocess.run(
            ["findmnt", "-n", "-o", "SOURCE", str(target)], check=True, capture_output=True, text=True
        ).stdout.strip()
        trigger = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
        if not trigger.exists():
            pytest.skip("this kernel has no ext4 trigger_fs_error")
        yield trigger
