"""Untrusted JSON at the boundary: bodies read within a size, decoded within a depth.

Nothing a client sends reaches a target, a store or an encoder before it passes here:
a body larger than its limit is refused while it is read, a document nested deeper
than ``max_depth`` or holding a number JSON cannot carry (``NaN``, ``Infinity``, a
float that overflows, such as ``1e400``) or a string that is not Unicode (a lone
surrogate escape) is refused when it is decoded. Every channel maps a
:class:`WireError` to its protocol's error shape; :func:`encode_json` refuses
non-finite numbers too, so a bug elsewhere is a caught error, never invalid JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal, cast

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "WireError",
    "check_json_content_type",
    "decode_json",
    "encode_json",
    "json_response",
    "read_body",
]

DEFAULT_MAX_DEPTH = 64
"""How deeply objects and arrays may nest in a decoded document, by default."""

WireFault = Literal["too_large", "invalid_json", "too_deep", "not_json"]


class WireError(ValueError):
    """Input refused at the boundary; ``fault`` says why, ``status`` what to answer."""

    def __init__(self, message: str, *, fault: WireFault) -> None:
        super().__init__(message)
        self.message = message
        self.fault: WireFault = fault

    @property
    def status(self) -> int:
        """``413`` past the size limit, ``415`` for a type that is not JSON, else ``400``."""
        return {"too_large": 413, "not_json": 415}.get(self.fault, 400)


def check_json_content_type(request: Request) -> None:
    """Refuse a body declared as something other than JSON (no declared type passes).

    Raises:
        WireError: The ``content-type`` is neither ``application/json`` nor a
            ``+json`` type (``not_json``).

    """
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise WireError(
            f"The request body must be JSON (content-type: application/json), not {media_type!r}.",
            fault="not_json",
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it grows past ``limit`` bytes.

    Raises:
        WireError: The declared or the received length is over ``limit`` (``too_large``).

    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> WireError:
    """The error for a body (or message) larger than ``limit`` bytes."""
    return WireError(f"The request body is larger than {limit} bytes.", fault="too_large")


def decode_json(
    raw: bytes | str, *, limit: int | None = None, max_depth: int = DEFAULT_MAX_DEPTH
) -> Any:
    """Decode an untrusted JSON document.

    Raises:
        WireError: ``raw`` is longer than ``limit`` bytes (``too_large``); is not JSON,
            holds a number JSON cannot carry or a string that is not valid Unicode
            (``invalid_json``); or nests objects and arrays deeper than ``max_depth``
            (``too_deep``).

    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if limit is not None and len(data) > limit:
        raise too_large(limit)
    # Each level opens a bracket: a document with fewer brackets than the limit is
    # shallow enough without walking it.
    deep = data.count(b"[") + data.count(b"{") > max_depth
    try:
        text = data.decode(json.detect_encoding(data), "surrogatepass")
        value = _decode(text)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except (ValueError, UnicodeDecodeError):
        raise WireError("The request body is not valid JSON.", fault="invalid_json") from None
    # Only a \u escape can make a lone surrogate: valid UTF-8 bytes never do.
    surrogates = b"\\u" in data
    if deep or surrogates:
        _check_tree(value, max_depth=max_depth if deep else None, unicode=surrogates)
    return value


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value``.

    Raises:
        ValueError: ``value`` holds a non-finite number (JSON has none).

    """
    return _encode(value).encode()


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An ``application/json`` response of ``content``, encoded by :func:`encode_json`.

    Raises:
        ValueError: ``content`` holds a non-finite number.

    """
    return Response(
        encode_json(content), status_code, headers=headers, media_type="application/json"
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


_decode = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float).decode
"""One decoder for every document: ``json.loads`` with options builds one per call."""

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _too_deep(max_depth: int) -> WireError:
    return WireError(
        f"The request body nests objects and arrays more than {max_depth} levels deep.",
        fault="too_deep",
    )


def _check_tree(value: Any, *, max_depth: int | None, unicode: bool) -> None:
    """Walk ``value`` once: its depth against ``max_depth``, its strings when ``unicode``."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, str):
            if unicode and not current.isascii() and not _encodes(current):
                raise WireError(
                    "The request body holds a string that is not valid Unicode (a lone surrogate).",
                    fault="invalid_json",
                )
            continue
        if isinstance(current, list):
            children: list[Any] = cast("list[Any]", current)
        elif isinstance(current, dict):
            entries = cast("dict[str, Any]", current)
            children = [*entries.keys(), *entries.values()] if unicode else list(entries.values())
        else:
            continue
        if max_depth is not None and depth >= max_depth:
            raise _too_deep(max_depth)
        pending.extend((child, depth + 1) for child in children)


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
