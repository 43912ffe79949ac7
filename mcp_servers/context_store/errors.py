"""The context store's exceptions, as one tree: the server turns each into a `ToolError` message.

`ContextStoreError` is the root; `InvalidInput` means the caller sent something the store refuses
(bad namespace, oversized item, non-JSON data), `NotFound` an unknown item, `SemanticSearchOff` a
semantic or hybrid search on a store that has no embedder.
"""

from __future__ import annotations

__all__ = ["ContextStoreError", "InvalidInput", "NotFound", "SemanticSearchOff"]


class ContextStoreError(Exception):
    """Base of every error the context store raises on purpose."""


class InvalidInput(ContextStoreError, ValueError):
    """The caller's input breaks a documented rule; the message says which and how to fix it."""


class NotFound(ContextStoreError, LookupError):
    """No live item has that namespace and id."""


class SemanticSearchOff(ContextStoreError):
    """Semantic search needs an embedder and this store runs without one."""
