"""How the tools of a server the user added are classified: outward (approval first) unless the
config says they only read.

`ToolClasses` is the `extra` mapping that `trust.capabilities.classify` consults for tools missing
from its own table. For a server and tool it answers, in order: the user's `[tool_classes.NAME]`
entry; `read` when the tool's name matches one of the server's `read_tools` globs; `read` when the
server's table has `trust_annotations = true` and the server marks the tool readOnlyHint (and not
destructive). Otherwise it has no answer, and the capability model makes the call a pending action.
It reads the live tool list, so a tool the server adds later is classified the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from orchestrator.config import ServerConfig
from orchestrator.extensions.config import matches_any
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.capabilities import Kind

__all__ = ["ToolClasses"]


class ToolClasses(Mapping[str, Mapping[str, Kind]]):
    """{server: {tool: kind}} for the tools Pepper's own table does not know."""

    def __init__(
        self,
        servers: Mapping[str, ServerConfig],
        tool_classes: Mapping[str, Mapping[str, Kind]],
        tools: Mapping[tuple[str, str], RemoteTool],
    ) -> None:
        self._servers = servers
        self._tool_classes = tool_classes
        self._tools = tools

    def __getitem__(self, server: str) -> Mapping[str, Kind]:
        return _ServerClasses(
            server, self._servers.get(server), self._tool_classes.get(server, {}), self._tools
        )

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._servers) | set(self._tool_classes)))

    def __len__(self) -> int:
        return len(set(self._servers) | set(self._tool_classes))


class _ServerClasses(Mapping[str, Kind]):
    def __init__(
        self,
        server: str,
        config: ServerConfig | None,
        explicit: Mapping[str, Kind],
        tools: Mapping[tuple[str, str], RemoteTool],
    ) -> None:
        self._server = server
        self._config = config
        self._explicit = explicit
        self._tools = tools

    def __getitem__(self, tool: str) -> Kind:
        if tool in self._explicit:
            return self._explicit[tool]
        if self._config is None:
            raise KeyError(tool)
        if matches_any(tool, self._config.read_tools):
            return "read"
        known = self._tools.get((self._server, tool))
        if self._config.trust_annotations and known is not None and known.read_only and not known.destructive:
            return "read"
        raise KeyError(tool)

    def __iter__(self) -> Iterator[str]:
        names = {name for server, name in self._tools if server == self._server} | set(self._explicit)
        return iter(sorted(name for name in names if name in self))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, tool: object) -> bool:
        try:
            self[str(tool)]
        except KeyError:
            return False
        return True
