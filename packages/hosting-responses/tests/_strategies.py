"""The kit's bad-input strategies and settings, with the Responses API's request fields."""

from __future__ import annotations

from agent_framework_hosting.testing import BAD_INPUT_PROFILE, odd_text
from agent_framework_hosting.testing import json_values as shared_json_values

__all__ = ["FIELDS", "PROFILE", "json_values", "odd_text"]

PROFILE = BAD_INPUT_PROFILE

FIELDS = [
    "model",
    "input",
    "instructions",
    "stream",
    "previous_response_id",
    "conversation",
    "metadata",
    "temperature",
    "top_p",
    "max_output_tokens",
    "store",
    "user",
    "parallel_tool_calls",
    "tools",
    "tool_choice",
    "background",
    "text",
    "include",
    "reasoning",
    "truncation",
    "stream_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "presence_penalty",
    "frequency_penalty",
]

json_values = shared_json_values(FIELDS)
