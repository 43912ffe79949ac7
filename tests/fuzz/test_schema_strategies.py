"""The JSON Schema strategies of the fuzzer: valid-ish draws keep the schema's shape, invalid ones break it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from .schema_strategies import invalid_arguments, valid_arguments

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "priority": {"enum": ["low", "high"], "type": "string"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500},
        "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        "start": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "priority"],
}
QUICK = settings(
    max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


@QUICK
@given(valid_arguments(SCHEMA, {"id": ["known-id"]}))
def test_valid_arguments_keep_the_required_keys_the_enums_and_the_types(drawn: dict[str, Any]) -> None:
    assert set(drawn) >= {"id", "priority"} and set(drawn) <= set(SCHEMA["properties"])
    assert isinstance(drawn["id"], str) and len(drawn["id"]) >= 1
    assert drawn["priority"] in ("low", "high")
    assert isinstance(drawn.get("limit", 1), int)
    assert drawn.get("tags") is None or all(isinstance(tag, str) for tag in drawn["tags"])


STRICT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "priority": {"enum": ["low", "high"], "type": "string"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    },
    "required": ["priority"],
}


def _obeys(drawn: Any) -> bool:
    """`drawn` is valid for STRICT (no value of the invalid strategy's wrong ones fits either key)."""
    if not isinstance(drawn, dict) or set(drawn) - {"priority", "limit"} or "priority" not in drawn:
        return False
    limit = drawn.get("limit", 1)
    return drawn["priority"] in ("low", "high") and type(limit) is int and 1 <= limit <= 500


@QUICK
@given(invalid_arguments(STRICT))
def test_invalid_arguments_always_break_the_schema(drawn: Any) -> None:
    assert not _obeys(drawn)
