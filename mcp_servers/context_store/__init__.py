"""Pepper's context store: an MCP server over one SQLite file holding items, an event log and search.

Items live in namespaces (`raw.email`, `signals.email`, ...), every write appends to an event log
that named consumers read with a cursor, and clients subscribe to `context://namespace/{pattern}` to be
woken on matching writes. Search is lexical (FTS5), semantic (sqlite-vec) or hybrid.
"""
