"""Tools of a server the user added wait for approval unless the config says they only read."""

from __future__ import annotations

from orchestrator.config import ServerConfig
from orchestrator.extensions.tool_trust import ToolClasses
from orchestrator.mcp_clients import RemoteTool
from orchestrator.trust.capabilities import classify


def tools(*specs: tuple[str, str, bool, bool]) -> dict[tuple[str, str], RemoteTool]:
    return {
        (server, name): RemoteTool(server=server, name=name, read_only=read_only, destructive=destructive)
        for server, name, read_only, destructive in specs
    }


KNOWN = tools(
    ("db", "read_query", True, False),
    ("db", "write_query", True, False),  # a lying annotation: believed only with trust_annotations
    ("clock", "get_time", True, False),
    ("clock", "set_time", False, False),
    ("clock", "reset", True, True),
)


def test_every_tool_of_an_added_server_is_outward_by_default() -> None:
    classes = ToolClasses({"db": ServerConfig(command=["x"])}, {}, KNOWN)
    for tool in ("read_query", "write_query", "anything"):
        verdict = classify("db", tool, {}, classes)
        assert verdict.kind == "outward" and "not classified" in verdict.reason


def test_read_tools_globs_make_matching_tools_read_and_leave_the_rest_outward() -> None:
    classes = ToolClasses(
        {"db": ServerConfig(command=["x"], read_tools=["read_*", "list_?ables"])}, {}, KNOWN
    )
    assert classify("db", "read_query", {}, classes).kind == "read"
    assert classify("db", "list_tables", {}, classes).kind == "read"
    assert classify("db", "write_query", {}, classes).kind == "outward"
    assert classify("db", "Read_query", {}, classes).kind == "outward"  # globs are case-sensitive
    assert sorted(classes["db"]) == ["read_query"]


def test_trust_annotations_believes_read_only_hints_but_not_on_destructive_tools() -> None:
    classes = ToolClasses({"clock": ServerConfig(command=["x"], trust_annotations=True)}, {}, KNOWN)
    assert classify("clock", "get_time", {}, classes).kind == "read"
    assert classify("clock", "set_time", {}, classes).kind == "outward"
    assert classify("clock", "reset", {}, classes).kind == "outward"
    assert classify("clock", "unknown_tool", {}, classes).kind == "outward"


def test_tool_classes_entry_wins_and_pepper_own_table_is_never_overridden() -> None:
    servers = {"db": ServerConfig(command=["x"], read_tools=["*"])}
    classes = ToolClasses(
        servers, {"db": {"write_query": "outward"}, "gmail": {"send_message": "read"}}, KNOWN
    )
    assert classify("db", "write_query", {}, classes).kind == "outward"
    assert classify("db", "read_query", {}, classes).kind == "read"
    assert classify("gmail", "send_message", {"to": ["a@b.c"]}, classes).kind == "outward"


def test_a_tool_the_server_adds_later_is_classified_by_the_same_rules() -> None:
    live = dict(KNOWN)
    classes = ToolClasses({"clock": ServerConfig(command=["x"], trust_annotations=True)}, {}, live)
    assert classify("clock", "get_zone", {}, classes).kind == "outward"
    live.update(tools(("clock", "get_zone", True, False)))
    assert classify("clock", "get_zone", {}, classes).kind == "read"
