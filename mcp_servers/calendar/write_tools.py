"""The calendar's write tools: create (also from a line of text), change, move, delete, answer.

Each is gated by the server's flags (mcp_servers.common.write_flags): a change to the user's own
events needs --allow-write; anything another person hears of (an invitation, an update, a
cancellation, an answer) needs --allow-send too. Every write may reach other people, so each tool
is annotated open-world.
"""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import BaseModel, Field

from mcp_servers.calendar.models import Event, ResponseStatus
from mcp_servers.calendar.provider import CalendarProvider, EventDraft, EventPatch, Scope
from mcp_servers.calendar.quick_add import MAX_QUICK_ADD_CHARS, read_quick_add
from mcp_servers.calendar.settings import CalendarSettings
from mcp_servers.calendar.tool_args import EventId, tool_errors
from mcp_servers.calendar.upcoming import Clock
from mcp_servers.common.write_flags import Needs, WriteGate

__all__ = ["register_writes"]

INVITING = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True}
CHANGING = {**INVITING, "destructiveHint": True}
DELETING = {**CHANGING, "idempotentHint": True}  # a second delete finds nothing left to delete
ANSWERING = CHANGING  # replaces the previous answer and mails the organizer each time


class Deleted(BaseModel):
    deleted: str


def register_writes(
    server: FastMCP, provider: CalendarProvider, settings: CalendarSettings, clock: Clock
) -> None:
    """The write tools, each behind the server's write flags (see the module docstring)."""
    gate = WriteGate(settings.allow_write, settings.allow_send, "PEPPER_CALENDAR_")

    def require(action: str, people: list[str]) -> None:
        """Own events need --allow-write; anything another person hears of needs --allow-send."""
        own = (settings.user_email or "").lower()
        if any(email.lower() != own for email in people):
            gate.require(Needs.SEND, f"{action} on an event with other people")
        gate.require(Needs.WRITE, action)

    def people_of(event: Event) -> list[str]:
        people = [a.email for a in event.attendees if a.email]
        return people + ([event.organizer.email] if event.organizer and event.organizer.email else [])

    @server.tool(annotations=INVITING)
    async def create_event(draft: Annotated[EventDraft, Field(description="The new event")]) -> Event:
        """Create an event. Needs --allow-write; inviting other people sends invitations and needs --allow-send."""
        require("create_event", draft.attendees)
        with tool_errors():
            return await provider.create_event(draft)

    @server.tool(annotations=INVITING)
    async def quick_add_event(
        text: Annotated[
            str,
            Field(
                max_length=MAX_QUICK_ADD_CHARS,
                description="One line, e.g. 'Lunch with Dana tomorrow at 1pm at Cafe Roma', 'Dentist Friday "
                "10-11am', 'Offsite on Dec 14 for 2 days'; read in the user's timezone",
            ),
        ],
        calendar: Annotated[
            str | None, Field(description="Calendar id; the first writable one if omitted")
        ] = None,
    ) -> Event:
        """Create an event from a line of text: its day, time or range, length and place; the rest is its
        title. A day without a time makes an all-day event; an hour when no length is said. Nobody is
        invited (use create_event for that). Needs --allow-write."""
        require("quick_add_event", [])
        with tool_errors():
            found = read_quick_add(text, clock.now().astimezone(settings.zone()))
            draft = EventDraft(
                title=found.title,
                start=found.start,
                end=found.end,
                location=found.location,
                calendar=calendar,
            )
            return await provider.create_event(draft)

    @server.tool(annotations=CHANGING)
    async def move_event(
        event_id: EventId,
        calendar: Annotated[str, Field(description="Id of the calendar to move it to (list_calendars)")],
    ) -> Event:
        """Move an event, or the whole series an occurrence belongs to, to another calendar; attendees
        are not told. Needs --allow-write (and --allow-send when other people are invited)."""
        with tool_errors():
            require("move_event", people_of(await provider.get_event(event_id)))
            return await provider.move_event(event_id, calendar)

    @server.tool(annotations=CHANGING)
    async def update_event(
        event_id: EventId,
        changes: Annotated[EventPatch, Field(description="Only the fields to change")],
        scope: Annotated[
            Scope | None,
            Field(
                description="For a recurring event: 'instance' (this occurrence only), 'following' "
                "(this occurrence and later ones: the series is split), 'series' (all occurrences). "
                "Default: the occurrence for an occurrence id, the series for a series id"
            ),
        ] = None,
    ) -> Event:
        """Change an event, one occurrence, it and the following ones, or a whole series (its rule too).

        Needs --allow-write; when other people are (or become) invited, it needs --allow-send.
        """
        with tool_errors():
            current = await provider.get_event(event_id)
            require("update_event", people_of(current) + (changes.attendees or []))
            return await provider.update_event(event_id, changes, scope)

    @server.tool(annotations=DELETING)
    async def delete_event(event_id: EventId) -> Deleted:
        """Delete a single event, a whole series, or one occurrence.

        Needs --allow-write; when other people are invited (they get a cancellation), --allow-send.
        """
        with tool_errors():
            require("delete_event", people_of(await provider.get_event(event_id)))
            await provider.delete_event(event_id)
        return Deleted(deleted=event_id)

    @server.tool(annotations=ANSWERING)
    async def respond_to_invite(
        event_id: EventId,
        response: Annotated[ResponseStatus, Field(description="accepted, declined or tentative")],
    ) -> Event:
        """Answer an invitation as the user (PEPPER_CALENDAR_USER_EMAIL); the organizer is told by
        e-mail. Needs --allow-send."""
        gate.require(Needs.SEND, "respond_to_invite")
        if not settings.user_email:
            raise ToolError(
                "set PEPPER_CALENDAR_USER_EMAIL to your address so that I know which attendee you are"
            )
        with tool_errors():
            return await provider.respond_to_invite(event_id, settings.user_email, response)
