"""Extending Pepper without forking it: servers, workers (and feeds) the user adds in the config.

`config` holds the `[servers.NAME]` checks and the `[workers.NAME]` table; `tool_trust` decides how
the tools of a server the user added are classified (outward unless the config says they only
read); `workers` runs the custom workers the scheduler's `delegate` tool offers in LLM mode.
"""
