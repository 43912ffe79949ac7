"""Act: worker agents. A worker is an LLM tool loop over the MCP servers' tools; whatever cannot be
undone (send, forward, trash, invite, delete) is turned into a pending action for the user to approve,
by code, whatever the model or the mail it read says."""
