"""Which bind addresses are loopback: the line between "open on this machine" and "needs a token".

A module of its own, free of heavy imports, so that the orchestrator can ask before it loads the MCP
stack."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback ranges (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
