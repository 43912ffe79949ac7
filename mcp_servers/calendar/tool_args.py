"""What the calendar's tools share: the event id argument and the one place where the calendar's
own errors become `ToolError`s (each with its message, which says what to do)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastmcp.exceptions import ToolError
from pydantic import Field

from mcp_servers.calendar.errors import CalendarError

__all__ = ["EventId", "tool_errors"]

EventId = Annotated[str, Field(description="Event id from list_events, search_events or upcoming")]


@contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except CalendarError as exc:
        raise ToolError(str(exc)) from exc
