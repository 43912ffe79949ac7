"""The context store's resource URIs: building them, parsing them, and matching them to writes.

`context://item/{namespace}/{id}` names one item (the id percent-encoded, so it may hold `/`);
`context://namespace/{pattern}` names every item whose namespace matches the glob. A subscription to
either is woken by a write to a matching item.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import quote, unquote

from .errors import InvalidInput
from .models import check_glob, check_id, check_namespace

__all__ = ["ITEM_PREFIX", "NAMESPACE_PREFIX", "Target", "item_uri", "namespace_uri", "parse"]

ITEM_PREFIX = "context://item/"
NAMESPACE_PREFIX = "context://namespace/"


@dataclass(frozen=True)
class Target:
    """What a URI designates: one item (`item_id` set) or a namespace pattern."""

    pattern: str
    item_id: str | None = None

    def matches(self, namespace: str, item_id: str) -> bool:
        if self.item_id is not None:
            return namespace == self.pattern and item_id == self.item_id
        return fnmatchcase(namespace, self.pattern)


def item_uri(namespace: str, item_id: str) -> str:
    return f"{ITEM_PREFIX}{namespace}/{quote(item_id, safe='')}"


def namespace_uri(pattern: str) -> str:
    return f"{NAMESPACE_PREFIX}{pattern}"


def parse(uri: str) -> Target:
    """The target of a context URI; `InvalidInput` says what is wrong with a malformed one."""
    if uri.startswith(ITEM_PREFIX):
        namespace, slash, encoded_id = uri[len(ITEM_PREFIX) :].partition("/")
        if not slash or not encoded_id:
            raise InvalidInput(f"malformed item URI {uri!r}: use context://item/{{namespace}}/{{id}}")
        return Target(check_namespace(namespace), check_id(unquote(encoded_id)))
    if uri.startswith(NAMESPACE_PREFIX):
        return Target(check_glob(unquote(uri[len(NAMESPACE_PREFIX) :])))
    raise InvalidInput(
        f"malformed context URI {uri!r}: use context://item/{{namespace}}/{{id}} or context://namespace/{{pattern}}"
    )
