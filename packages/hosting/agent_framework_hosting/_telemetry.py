"""OpenTelemetry for channel turns: a span each, the caller's trace context, a few metrics.

Only the OpenTelemetry API is used: without an SDK configured by the app every call here
is a no-op. A turn's span is the parent of the framework's own agent and model spans,
because the span is current around each step of the run (the framework starts its spans
in the current context). Nothing a caller wrote reaches a span: the conversation is
named by a hash of its isolation key, and an error by its type.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Span, Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from ._types import ChannelRequest
from ._version import __version__

__all__ = ["INSTRUMENTATION_SCOPE", "TraceContextMiddleware", "TurnTelemetry", "lease_wait"]

INSTRUMENTATION_SCOPE = "agent_framework_hosting"
"""The tracer's and meter's name."""

_tracer = trace.get_tracer(INSTRUMENTATION_SCOPE, __version__)
_meter = metrics.get_meter(INSTRUMENTATION_SCOPE, __version__)
_turns = _meter.create_counter(
    "hosting.turns", unit="{turn}", description="Turns a channel ran on the target."
)
_errors = _meter.create_counter(
    "hosting.turn.errors", unit="{turn}", description="Turns that ended in an error."
)
_duration = _meter.create_histogram(
    "hosting.turn.duration", unit="s", description="How long a turn ran, queueing included."
)
_active_streams = _meter.create_up_down_counter(
    "hosting.streams.active", unit="{stream}", description="Streamed turns still running."
)
_lease_wait = _meter.create_histogram(
    "hosting.conversation.lease_wait",
    unit="s",
    description="How long a turn waited for its conversation's lease.",
)

_ID_ATTRIBUTES = {"response_id": "hosting.response_id", "task_id": "hosting.task_id"}
"""Ids a channel announces in ``ChannelRequest.attributes``, and their span attributes."""


def partition_hash(isolation_key: str) -> str:
    """The isolation key as a span may show it: enough of its SHA-256 to tell keys apart."""
    return hashlib.sha256(isolation_key.encode()).hexdigest()[:16]


class TurnTelemetry:
    """The span and metrics of one channel turn, from its start to its end.

    The span is started in the context current when the turn starts (the request's,
    which carries the caller's trace context) and made current around each :meth:`step`.
    """

    __slots__ = ("_labels", "_span", "_started", "_stream")

    def __init__(self, request: ChannelRequest, *, channel: str) -> None:
        self._labels = {
            "hosting.channel": channel,
            "hosting.operation": request.operation,
            "hosting.stream": request.stream,
        }
        attributes: dict[str, Any] = dict(self._labels)
        for name, attribute in _ID_ATTRIBUTES.items():
            value = request.attributes.get(name)
            if isinstance(value, str) and value:
                attributes[attribute] = value
        key = request.isolation_key
        if key is not None:
            attributes["hosting.partition"] = partition_hash(key)
        self._stream = request.stream
        self._started = time.perf_counter()
        self._span: Span = _tracer.start_span(
            f"{request.operation} {channel}", attributes=attributes
        )
        if self._stream:
            _active_streams.add(1, self._labels)

    @contextmanager
    def step(self) -> Generator[None]:
        """Make the turn's span current while a step of the run executes."""
        token = otel_context.attach(trace.set_span_in_context(self._span))
        try:
            yield
        finally:
            otel_context.detach(token)

    def end(self, error: BaseException | None = None) -> None:
        """End the span and count the turn (and its error, by type only)."""
        if error is not None:
            kind = type(error).__qualname__
            self._span.set_attribute("error.type", kind)
            self._span.set_status(Status(StatusCode.ERROR, kind))
            _errors.add(1, {**self._labels, "error.type": kind})
        _turns.add(1, self._labels)
        _duration.record(time.perf_counter() - self._started, self._labels)
        if self._stream:
            _active_streams.add(-1, self._labels)
        self._span.end()


@contextmanager
def lease_wait() -> Generator[None]:
    """Measure how long the block waits for a conversation's lease."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _lease_wait.record(time.perf_counter() - started)


class TraceContextMiddleware:
    """Continues the caller's trace: W3C ``traceparent``/``tracestate`` headers, read once.

    The app's configured propagator reads them (W3C trace context by default). When a
    span is current already (an ASGI instrumentation in front did this), it is kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _span_is_current():
            await self.app(scope, receive, send)
            return
        carrier = _headers(scope)
        token = otel_context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def _span_is_current() -> bool:
    return trace.get_current_span().get_span_context().is_valid


def _headers(scope: Scope) -> Mapping[str, str]:
    raw: list[tuple[bytes, bytes]] = scope.get("headers") or []
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
