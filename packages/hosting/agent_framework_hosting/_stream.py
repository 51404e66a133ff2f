"""`HostedRunStream`: a streamed run's hooked updates, then its final result."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from typing import TYPE_CHECKING, Any

from agent_framework import AgentResponse, AgentResponseUpdate

from ._types import ChannelRequest, HostedRunResult

__all__ = ["HostedRunStream", "UpdateStreamStarted"]

UpdateStreamStarted = Callable[[object], None]
"""Told the target's own update stream once the run has started."""

_Items = AsyncGenerator[AgentResponseUpdate | HostedRunResult[AgentResponse], None]


class HostedRunStream:
    """The updates of a streamed run, then its final result.

    Iterating yields each update that passed the stream-update hook;
    ``await stream.get_final_response()`` (or ``await stream``) drains what is left and
    gives the response-hooked :class:`HostedRunResult`. The session lock is held until
    the stream ends; ``aclose()`` (or leaving ``async with``) stops the run. Once the run
    has started, an attribute this object lacks is read on the target's own stream (the
    framework's ``ResponseStream`` for an agent).
    """

    def __init__(
        self, items: Callable[[UpdateStreamStarted], _Items], request: ChannelRequest
    ) -> None:
        self._inner: object | None = None
        self._items = items(self._started)
        self.request = request
        self._final: HostedRunResult[AgentResponse] | None = None

    def _started(self, inner: object) -> None:
        self._inner = inner

    def __aiter__(self) -> AsyncIterator[AgentResponseUpdate]:
        return self

    async def __anext__(self) -> AgentResponseUpdate:
        if self._final is not None:
            raise StopAsyncIteration
        item = await self._items.__anext__()
        if isinstance(item, HostedRunResult):
            self._final = item
            raise StopAsyncIteration
        return item

    async def get_final_response(self) -> HostedRunResult[AgentResponse]:
        """Finish the stream (draining what is left) and return the hooked final result."""
        async for _ in self:
            pass
        if self._final is None:  # pragma: no cover - the generator always ends with one
            raise RuntimeError("The stream ended without a final result")
        return self._final

    def __await__(self) -> Generator[Any, None, HostedRunResult[AgentResponse]]:
        return self.get_final_response().__await__()

    async def aclose(self) -> None:
        """Stop the run and release its session."""
        await self._items.aclose()

    async def __aenter__(self) -> HostedRunStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    if not TYPE_CHECKING:  # at run time only: typed code uses the names above

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            inner = self.__dict__.get("_inner")
            if inner is None:
                raise AttributeError(
                    f"HostedRunStream has no attribute {name!r}; the target's own stream "
                    "answers it once the run has started (after the first update)"
                )
            return getattr(inner, name)
