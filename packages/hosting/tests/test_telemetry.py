"""OpenTelemetry: a span per channel turn in the caller's trace, the framework's spans under it.

The SDK's in-memory exporter and reader collect what the host emits; the host itself uses
only the OpenTelemetry API.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from agent_framework import Agent, AgentResponse
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from echo_channel import EchoChannel
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


@functools.cache
def providers() -> tuple[InMemorySpanExporter, InMemoryMetricReader]:
    """The process's SDK providers, set once (OpenTelemetry allows one of each)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return exporter, reader


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter, _ = providers()
    exporter.clear()
    yield exporter
    exporter.clear()


def turn_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = [span for span in exporter.get_finished_spans() if span.name.endswith(" echo")]
    return span


def post(host: AgentFrameworkHost, body: dict[str, Any], **headers: str) -> httpx.Response:
    with LoopbackServer(host.app) as server:
        return httpx.post(f"{server.base_url}/echo", json=body, headers=headers)


def echo_host(target: Any = None) -> AgentFrameworkHost:
    return AgentFrameworkHost(target or Agent(client=OfflineChatClient()), channels=[EchoChannel()])


def test_a_turn_is_one_span_named_by_operation_and_channel(spans: InMemorySpanExporter) -> None:
    post(echo_host(), {"text": "hello", "key": "alice"})
    span = turn_span(spans)
    assert span.name == "message.create echo"
    assert span.attributes is not None
    assert span.attributes["hosting.channel"] == "echo"
    assert span.attributes["hosting.operation"] == "message.create"
    assert span.attributes["hosting.stream"] is False


def test_the_turn_continues_the_callers_trace(spans: InMemorySpanExporter) -> None:
    post(
        echo_host(),
        {"text": "hello", "key": "alice"},
        traceparent=f"00-{TRACE_ID}-{PARENT_ID}-01",
    )
    span = turn_span(spans)
    assert span.context is not None
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID


@pytest.mark.parametrize("stream", [False, True])
def test_the_frameworks_agent_span_is_a_child_of_the_turn(
    spans: InMemorySpanExporter, stream: bool
) -> None:
    post(echo_host(), {"text": "hello", "key": "alice", "stream": stream})
    turn = turn_span(spans).context
    assert turn is not None
    children = [
        span
        for span in spans.get_finished_spans()
        if span.parent is not None and span.parent.span_id == turn.span_id
    ]
    assert any(span.name.startswith("invoke_agent") for span in children)


def test_the_partition_is_a_hash_and_no_content_reaches_the_span(
    spans: InMemorySpanExporter,
) -> None:
    post(echo_host(), {"text": "a secret question", "key": "alice@example.com"})
    attributes = dict(turn_span(spans).attributes or {})
    partition = attributes["hosting.partition"]
    assert isinstance(partition, str)
    assert len(partition) == 16
    shown = " ".join(str(value) for value in attributes.values())
    assert "alice" not in shown
    assert "secret" not in shown


class FailingAgent:
    id = "failing"
    name = "failing"
    description = None

    def create_session(self, *, session_id: str | None = None) -> Any:
        from agent_framework import AgentSession

        return AgentSession(session_id=session_id)

    async def run(self, messages: Any = None, **_: Any) -> AgentResponse:
        raise LookupError("the internal reason")


def test_a_failed_turn_has_an_error_status_naming_only_the_type(
    spans: InMemorySpanExporter,
) -> None:
    answer = post(echo_host(FailingAgent()), {"text": "hello", "key": "alice"})
    assert answer.status_code == 500
    span = turn_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "LookupError"
    assert "internal reason" not in str(span.status.description)
    assert not span.events


def metric_points(name: str) -> list[Any]:
    _, reader = providers()
    data = reader.get_metrics_data()
    assert data is not None
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def turns_counted(name: str) -> int:
    return sum(point.value for point in metric_points(name))


def test_turns_and_errors_are_counted(spans: InMemorySpanExporter) -> None:
    before_turns, before_errors = (
        turns_counted("hosting.turns"),
        turns_counted("hosting.turn.errors"),
    )
    post(echo_host(), {"text": "hello", "key": "alice"})
    post(echo_host(FailingAgent()), {"text": "hello", "key": "alice"})
    assert turns_counted("hosting.turns") == before_turns + 2
    assert turns_counted("hosting.turn.errors") == before_errors + 1


def test_durations_and_lease_waits_are_recorded(spans: InMemorySpanExporter) -> None:
    before = sum(point.count for point in metric_points("hosting.turn.duration"))
    waits = sum(point.count for point in metric_points("hosting.conversation.lease_wait"))
    post(echo_host(), {"text": "hello", "key": "alice"})
    assert sum(point.count for point in metric_points("hosting.turn.duration")) == before + 1
    assert sum(point.count for point in metric_points("hosting.conversation.lease_wait")) > waits


def test_a_finished_stream_is_no_longer_active(spans: InMemorySpanExporter) -> None:
    post(echo_host(), {"text": "hello", "key": "alice", "stream": True})
    assert turns_counted("hosting.streams.active") == 0
