"""An example Pepper extension: `server` is a small chat-like MCP server (channels of messages, each
channel a subscribable resource), and `feed.ChatMentions` is a feed plugin (entry point
`pepper.feeds: chat_mentions`) that turns messages mentioning the user into signals."""
