"""Supervision: Pepper keeps running while any of its servers is down.

`ServerConnection` (orchestrator.mcp_clients) notices a lost server at once and respawns or
reconnects it; this package holds what the rest of the orchestrator uses to live with that:
`retry.until_available` and `retry.PatientConnection` (a call that waits out an outage and is made
again once the server is back), `retry.supervised` (a loop that stopped because a server was missing
is started again, and resumes from its cursor), `status.wait_for_change` (the UI's live server status),
`paced.Paced` (progress written at a pace: at once after a quiet spell, then at most every few
seconds, so an outage or a burst costs few calls), `together.together` (calls run at once, a failure
raised as itself, not as a group) and `stdio.WatchedStdioTransport` (the stdio spawn that reports its
child's death). The submodules are
imported by name: `mcp_clients` imports `stdio`, and `retry` imports `mcp_clients`.
"""
