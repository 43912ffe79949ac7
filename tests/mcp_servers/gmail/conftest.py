"""Fixtures for the gmail server's tests: CPython's own sample messages, and message builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _cpython_email_data() -> Path | None:
    try:
        import test  # the CPython test package, shipped with most installations
    except ImportError:
        return None
    candidate = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def cpython_messages() -> list[Path]:
    directory = _cpython_email_data()
    if directory is None:
        pytest.skip("CPython's test/test_email/data is not installed with this Python")
    return sorted(directory.glob("msg_*.txt"))
