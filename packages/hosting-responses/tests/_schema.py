"""Validation against the Open Responses OpenAPI document (skipped when it is absent)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SPEC = (
    Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "openresponses-openapi.json"
)


@cache
def _components() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"Open Responses spec not found at {SPEC}")
    return json.loads(SPEC.read_text())["components"]


@cache
def _event_schemas() -> dict[str, str]:
    """Stream event ``type`` → schema name."""
    names: dict[str, str] = {}
    for name, schema in _components()["schemas"].items():
        enum = schema.get("properties", {}).get("type", {}).get("enum")
        if name.endswith("StreamingEvent") and enum and len(enum) == 1:
            names[enum[0]] = name
    return names


def validate(instance: Any, schema_name: str) -> None:
    """Raise if ``instance`` does not satisfy ``#/components/schemas/<schema_name>``."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    jsonschema.validate(instance, root)


def validate_response(instance: Any) -> None:
    """A Response object."""
    validate(instance, "ResponseResource")


def validate_event(event: dict[str, Any]) -> None:
    """A streaming event, by its ``type``."""
    validate(event, _event_schemas()[event["type"]])
