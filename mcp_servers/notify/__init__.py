"""The notify MCP server: the one way Pepper reaches the user.

Notifications and reminders live in the server's own SQLite store and survive restarts. Every
notification lands in the inbox (`notify://inbox`, subscribable in both MCP protocol eras) and is
pushed, through a durable outbox with retries, to the channels the settings enable: desktop
(`notify-send`), a webhook (ntfy, Slack or plain JSON) and an SMTP digest.
"""
