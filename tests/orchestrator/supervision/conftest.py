"""Tests that kill servers: abandoned server processes are collected within each test
(see tests/support/reaping.py)."""

from tests.support.reaping import collect_abandoned_processes

__all__ = ["collect_abandoned_processes"]
