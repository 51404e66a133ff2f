"""Hypothesis strategies and settings shared by the property tests of bad input."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["FIELDS", "PROFILE", "json_values", "odd_text"]

PROFILE = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Fixed: the same examples every run, no deadline (a loaded machine is not a failure)."""

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

# Strings with what breaks naive code: lone surrogates, NUL, controls, RTL, emoji.
odd_text = (
    st.text(max_size=40)
    | st.text(st.characters(categories=["Cs", "Cc", "Cf", "Lo", "So"]), max_size=10)
    | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u202e", "😀" * 5, "%2F..%2F", "../.."])
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(odd_text | st.sampled_from(FIELDS), children, max_size=4)
    ),
    max_leaves=12,
)
