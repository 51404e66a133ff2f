"""Hypothesis strategies and settings for property tests that send a channel bad input.

Needs ``hypothesis``. Every channel's bad-input properties draw from these, so each is
held to the same odd strings, the same random JSON and the same bounded, fixed run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "BAD_INPUT_PROFILE",
    "header_text",
    "json_values",
    "not_utf8",
    "odd_text",
    "path_segment",
    "unsendable_json",
    "url_text",
]

BAD_INPUT_PROFILE = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Fixed: the same examples every run, no deadline (a loaded machine is not a failure)."""

odd_text: st.SearchStrategy[str] = (
    st.text(max_size=40)
    | st.text(st.characters(categories=["Cs", "Cc", "Cf", "Lo", "So"]), max_size=10)
    | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u202e", "😀" * 5, "%2F..%2F", "../.."])
)
"""Strings with what breaks naive code: lone surrogates, NUL, controls, RTL, emoji."""

url_text: st.SearchStrategy[str] = odd_text.map(
    lambda text: text.encode("utf-8", "replace").decode()
)
"""Odd strings a URL can carry: a lone surrogate, which no URL encodes, becomes ``?``."""

header_text: st.SearchStrategy[str] = odd_text.map(
    lambda text: "".join(character for character in text if " " <= character <= "~").strip()
)
"""Odd strings a header can carry: their visible ASCII, without line breaks."""


def json_values(keys: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """Random JSON values, whose objects' keys are odd strings or one of ``keys``."""
    names = odd_text | st.sampled_from(list(keys)) if keys else odd_text
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(names, children, max_size=4)
        ),
        max_leaves=12,
    )


not_utf8: st.SearchStrategy[bytes] = st.binary(max_size=64).filter(
    lambda raw: not _is_utf8(raw)
) | st.binary(min_size=1, max_size=64).map(lambda raw: b'{"a": "' + raw + b'\xff"}')
"""Bodies that are not UTF-8: random bytes, and an object holding a byte no text has."""

unsendable_json: st.SearchStrategy[bytes] = st.sampled_from(
    [
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1e400}',
        b'{"a": "\\ud800"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 1000 + b"1" + b"}" * 1000,
        b"",
        b"{",
        b"\xef\xbb\xbf{}",
    ]
)
"""JSON that no JSON parser should take as a value: non-finite numbers, deep nesting, …"""


def path_segment(text: str) -> str:
    """``text`` as one segment of a URL path, its dots escaped too.

    A client resolves a segment ``..`` or ``.`` before sending it; escaped, the server
    receives the id as it was drawn.
    """
    return quote(text, safe="").replace(".", "%2E")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True
