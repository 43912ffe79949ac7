"""Pepper's gmail MCP server: a mailbox behind one `MailProvider` interface, exposed over MCP.

It normalizes hostile real-world mail into one pydantic `Message` model, keeps a durable change feed
(`list_changes(since=cursor)`), pushes `notifications/resources/updated` on `gmail://inbox`, and
refuses every action that cannot be undone unless started with `--allow-send`.
"""
