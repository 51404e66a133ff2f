"""The channel's OpenAPI document: served at the channel's paths, and true of the server.

Schemathesis generates requests from the document, valid and invalid, for every
operation and sends them to a real server on a loopback port: no answer is a 5xx, every
status and content type is one the document lists for the operation, every error is in
the OpenAI shape, and every success (each event of a stream too) is valid against the
document. The document's links make sequences too (create, then read, list, change and
delete what was created). The number of examples per operation is small enough for
every run; ``SCHEMATHESIS_EXAMPLES=2000`` (say) runs a larger search.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from agent_framework import Agent, Content
from agent_framework_hosting import AgentFrameworkHost
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ._schema import document, sse_events, validate

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))

# A longer search runs longer: the suite's hang guard grows with it.
pytestmark = pytest.mark.timeout(60 + EXAMPLES // 2)

schema = schemathesis.openapi.from_dict(document())
schema.config.max_stream_events = 100_000  # every event of a stream, through [DONE]


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    image = Content.from_data(b"\x89PNG\r\n\x1a\n", "image/png")
    agent = Agent(client=OfflineChatClient(reasoning="Thinking", image=image))
    with LoopbackServer(AgentFrameworkHost(agent, channels=[ResponsesChannel()]).app) as running:
        yield running


def openai_error_shape(_ctx: Any, response: Any, _case: Any) -> bool | None:
    """Every error answer is ``{"error": {"message", "type", "param", "code"}}``."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json")
    validate(response.json(), "Error")
    return True


def events_in_the_document(_ctx: Any, response: Any, _case: Any) -> bool | None:
    """Every event of a stream is valid against the document, and the stream ends."""
    if not response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        return None
    sse_events(response.content.decode())
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    openai_error_shape,
    events_in_the_document,
]
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@schema.parametrize()  # pyright: ignore[reportUntypedFunctionDecorator]
@PROFILE
def test_generated_requests_get_answers_the_document_describes(
    case: Any, server: LoopbackServer
) -> None:
    case.call_and_validate(base_url=server.base_url, timeout=30, checks=CHECKS)


def test_generated_sequences_following_the_documents_links_too(server: LoopbackServer) -> None:
    """Created responses and conversations are read, listed, changed and deleted by id."""

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server.base_url, "timeout": 30}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Sequences.run(settings=settings(PROFILE, stateful_step_count=6))


def test_the_document_is_served_under_the_channels_path(server: LoopbackServer) -> None:
    served = httpx.get(f"{server.base_url}/responses/openapi.json")
    assert served.headers["content-type"] == "application/json"
    assert served.json() == document()


def test_the_served_document_names_the_paths_the_channel_is_mounted_at() -> None:
    channel = ResponsesChannel(path="/v1/responses")
    host = AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=[channel])
    with LoopbackServer(host.app) as running:
        paths = httpx.get(f"{running.base_url}/v1/responses/openapi.json").json()["paths"]
    assert sorted(paths) == sorted("/v1" + path for path in document()["paths"])
