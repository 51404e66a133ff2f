"""Calling user hooks that may be sync or async."""

from __future__ import annotations

import inspect
from typing import Any, cast


async def call_hook(hook: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``hook`` and await its result when it returns an awaitable."""
    result = hook(*args, **kwargs)
    if inspect.isawaitable(result):
        return await cast("Any", result)
    return result
