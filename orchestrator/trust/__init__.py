"""Pepper's trust boundary: nothing leaves, changes or disappears without the user, whatever an
email says.

- `capabilities`: `classify(server, tool, arguments)` → read, local write or outward;
- `outbound`: the outbound data rules and `inert_links`;
- `scope`: the context-store namespaces a worker may touch;
- `provenance`: who asked, after reading what, and a readable preview;
- `actions`: signed pending actions in the context store; `ledger`: the latest version of each,
  kept outside it (an older signed copy written back is a replay); `desk`: the only code that runs them;
- `gate`: the runner every worker call goes through; `cards`: the JSON and text the UI, chat and
  CLI show.
"""
