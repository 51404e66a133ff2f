"""Calling user hooks that may be sync or async, and a run's stream-update hook."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, cast

from agent_framework import AgentResponseUpdate

from ._types import (
    ChannelRequest,
    ChannelStreamRun,
    ChannelStreamRunHook,
    ChannelStreamUpdateHook,
)

__all__ = ["StreamHook", "call_hook"]


async def call_hook(hook: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``hook`` and await its result when it returns an awaitable."""
    result = hook(*args, **kwargs)
    if inspect.isawaitable(result):
        return await cast("Any", result)
    return result


class StreamHook:
    """A streamed run's stream-update hook, whichever kind the channel was given.

    A plain hook is called per update; a :class:`ChannelStreamRunHook` is opened for the
    run, and its run also gets the end of the updates.
    """

    __slots__ = ("_hook", "_run")

    def __init__(self, hook: ChannelStreamUpdateHook | None, request: ChannelRequest) -> None:
        self._hook = hook
        self._run: ChannelStreamRun | None = (
            hook.open_run(request) if isinstance(hook, ChannelStreamRunHook) else None
        )

    async def update(self, update: AgentResponseUpdate) -> Sequence[AgentResponseUpdate]:
        """What to send for ``update``."""
        if self._run is not None:
            return cast("Sequence[AgentResponseUpdate]", await call_hook(self._run.update, update))
        if self._hook is None:
            return (update,)
        shown = await call_hook(self._hook, update)
        return () if shown is None else (shown,)

    async def end(self) -> Sequence[AgentResponseUpdate]:
        """What to send once the run's updates have ended."""
        if self._run is None:
            return ()
        return cast("Sequence[AgentResponseUpdate]", await call_hook(self._run.end))
