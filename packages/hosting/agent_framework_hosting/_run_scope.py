"""`RunScope`: what surrounds each step of a run — isolation keys, request context, the span.

A run's steps are its start, each update it streams and its end. Around each one the
trusted isolation keys are current for tools, the target's context providers are bound
to the request (``bind_request_context``), and the turn's span is the current span.
Nothing is left set between steps: a stream's consumer may run in another task.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any, cast

from ._isolation import IsolationKeys, reset_current_isolation_keys, set_current_isolation_keys
from ._telemetry import TurnTelemetry
from ._types import ChannelRequest

__all__ = ["ISOLATION_KEYS_ATTRIBUTE", "RunScope"]

ISOLATION_KEYS_ATTRIBUTE = "isolation_keys"
"""``ChannelRequest.attributes`` key under which a channel passes trusted `IsolationKeys`."""


class RunScope:
    """Entered around each step of one run (never while already entered)."""

    __slots__ = ("_keys", "_previous_response_id", "_response_id", "_target", "_telemetry")

    def __init__(self, request: ChannelRequest, target: object, telemetry: TurnTelemetry) -> None:
        keys = request.attributes.get(ISOLATION_KEYS_ATTRIBUTE)
        self._keys = keys if isinstance(keys, IsolationKeys) else None
        response_id = request.attributes.get("response_id")
        previous = request.attributes.get("previous_response_id")
        self._response_id = response_id if isinstance(response_id, str) and response_id else None
        self._previous_response_id = previous if isinstance(previous, str) else None
        self._target = target
        self._telemetry = telemetry

    @contextmanager
    def step(self) -> Generator[None]:
        """Make the run's keys, request context and span current for one step."""
        token = None if self._keys is None else set_current_isolation_keys(self._keys)
        try:
            with self._telemetry.step(), self._bound():
                yield
        finally:
            if token is not None:
                reset_current_isolation_keys(token)

    @contextmanager
    def _bound(self) -> Generator[None]:
        """Each context provider's ``bind_request_context``, entered, when the run has ids."""
        with ExitStack() as stack:
            if self._response_id is not None:
                for bind in _binders(self._target):
                    binding = bind(
                        response_id=self._response_id,
                        previous_response_id=self._previous_response_id,
                    )
                    stack.enter_context(cast("AbstractContextManager[Any]", binding))
            yield


def _binders(target: object) -> list[Callable[..., Any]]:
    """The ``bind_request_context`` of each of the target's context providers that has one."""
    providers: object = getattr(target, "context_providers", None)
    if not isinstance(providers, Sequence):
        return []
    found = (getattr(p, "bind_request_context", None) for p in cast("Sequence[Any]", providers))
    return [bind for bind in found if callable(bind)]
