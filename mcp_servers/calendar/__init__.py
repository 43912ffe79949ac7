"""Pepper's calendar MCP server: events from local ICS files or CalDAV, free slots and meeting alerts.

`pepper-calendar` serves tools to list, search, create, update and delete events, to answer
invitations, to find free slots, and a subscribable `calendar://upcoming` resource that fires when
the next day's view changes and at configurable lead times before each event starts.
"""
