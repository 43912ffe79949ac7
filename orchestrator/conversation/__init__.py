"""Rules-mode conversation: everyday requests understood and acted on without a language model.

`intents.read` turns a message into an intent with slots (dates and times resolved in the user's
timezone by `dates`, words from the per-language tables in `lang/`); `actions.Conversation` runs it
through the same MCP operations the LLM mode's tools use, or asks one short question when unsure.
"""
