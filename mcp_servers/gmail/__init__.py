"""Pepper's gmail MCP server: a mailbox behind one `MailProvider` interface, exposed over MCP.

It normalizes hostile real-world mail into one pydantic `Message` model, keeps a durable change feed
(`list_changes(since=cursor)`), pushes `notifications/resources/updated` on `gmail://inbox`, and
and is read-only unless started with `--allow-write` (labels, read state, archive, drafts) or
`--allow-send` (also send, reply, forward, trash, spam).
"""
