"""Extending Pepper without forking it: servers, workers, feeds and priorities the user adds in the config.

`config` holds the `[workers.NAME]` and `[feeds.NAME]` tables and the checks of `[servers.NAME]`;
`servers` turns a server table into a connection; `tool_trust` decides how the tools of a server the
user added are classified (outward unless the config says they only read); `feeds` holds the `Feed`
protocol, the declarative feed (URI or URI template, cursor paging) and the `pepper.feeds`
entry-point lookup, and `feed_triage` the model's judgment of a feed entry; `priority` holds the
`[[priority]]` rules, which `priority_triage` applies after the mail's triage. Custom workers run in
`orchestrator.workers.pool`. Worked examples: examples/README.md.
"""
