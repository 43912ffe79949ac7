"""Pepper runs in these tests stop their servers by cancelling: a server the SDK's stdio client gave
up waiting for leaves its subprocess transport and its output pipe to the garbage collector (see
tests/support/reaping.py). `PEPPER_SHUTDOWN_WARNINGS` ignores exactly those, in the modules that use
it together with `collect_abandoned_processes`, which collects them within each test."""

from __future__ import annotations

import pytest

from tests.support.reaping import ABANDONED_PROCESS_WARNINGS

PEPPER_SHUTDOWN_WARNINGS = [
    *ABANDONED_PROCESS_WARNINGS,
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <(function _UnixReadPipeTransport\.__del__|_io\.FileIO name=)"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]
