"""Extending Pepper without forking it: servers, workers and feeds the user adds in the config.

`config` holds the `[workers.NAME]` and `[feeds.NAME]` tables and the checks of `[servers.NAME]`;
`servers` turns a server table into a connection; `tool_trust` decides how the tools of a server the
user added are classified (outward unless the config says they only read); `feeds` holds the `Feed`
protocol, the declarative feed and the `pepper.feeds` entry-point lookup. Custom workers run in
`orchestrator.workers.pool`. Worked examples: examples/README.md.
"""
