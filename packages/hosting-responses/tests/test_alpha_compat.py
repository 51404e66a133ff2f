"""Apps written for the 1.0.0a260625 alpha's Responses channel, through the public API.

Each call shape the alpha's apps use is exercised here: the response id factory, the
parsing helpers, ``input_file`` parts and bare content items, ``truncation``, and hosted
MCP calls surfaced as ``mcp_call`` items. Requests go to a real server on loopback,
through the ``openai`` SDK in strict mode (every body and event also validated against
the channel's OpenAPI document).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import openai
import pytest
from agent_framework import (
    Agent,
    BaseChatClient,
    ChatOptions,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    Message,
    ResponseStream,
    tool,
)
from agent_framework_hosting import ChannelSession
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import (
    ResponsesChannel,
    ResponsesError,
    messages_from_responses_input,
    parse_responses_identity,
    parse_responses_request,
    previous_response_key,
)
from openai.types.responses import ResponseOutputMessage
from openai.types.responses.response_output_item import McpCall

from ._clients import post, sdk, serve

PDF = b"%PDF-1.4 a tiny document"
PDF_BASE64 = base64.b64encode(PDF).decode()


# response_id_factory


def test_an_alpha_factory_is_called_with_the_previous_response_id() -> None:
    asked: list[str | None] = []

    def factory(previous_response_id: str | None) -> str:
        asked.append(previous_response_id)
        return f"resp_alpha_{len(asked)}"

    with serve(ResponsesChannel(response_id_factory=factory)) as server:
        client = sdk(server)
        first = client.responses.create(model="m", input="hello")
        second = client.responses.create(model="m", input="again", previous_response_id=first.id)
    assert (first.id, second.id) == ("resp_alpha_1", "resp_alpha_2")
    assert asked == [None, "resp_alpha_1"]
    assert second.output_text == "Echo: again (turn 2)"


def test_a_factory_taking_no_argument_is_called_without_one() -> None:
    with serve(ResponsesChannel(response_id_factory=lambda: "resp_fixed")) as server:
        response = sdk(server).responses.create(model="m", input="hello")
    assert response.id == "resp_fixed"


def _two_arguments(previous_response_id: str | None, conversation: str) -> str:
    return "resp_x"


def _keyword_only(*, previous_response_id: str | None) -> str:
    return "resp_x"


@pytest.mark.parametrize(
    "factory",
    [_two_arguments, _keyword_only, "resp_x"],
    ids=["two arguments", "keyword only", "not callable"],
)
def test_a_factory_of_neither_shape_is_a_type_error_at_construction(factory: Any) -> None:
    with pytest.raises(TypeError, match="response_id_factory"):
        ResponsesChannel(response_id_factory=factory)


# The parsing helpers


def test_parse_responses_request_gives_messages_options_and_session() -> None:
    body = {
        "model": "m",
        "input": [{"role": "user", "content": "hi"}, {"type": "input_text", "text": "there"}],
        "instructions": "Be brief.",
        "temperature": 0.5,
        "max_output_tokens": 64,
        "previous_response_id": "resp_1",
    }
    messages, options, session = parse_responses_request(body)
    assert [(m.role, m.text) for m in messages] == [("user", "hi"), ("user", "there")]
    assert options == {"temperature": 0.5, "max_tokens": 64, "instructions": "Be brief."}
    assert session == ChannelSession(isolation_key=previous_response_key("resp_1"))


def test_parse_responses_request_without_previous_response_has_no_session() -> None:
    messages, options, session = parse_responses_request({"input": "hello"})
    assert [m.text for m in messages] == ["hello"]
    assert (options, session) == ({}, None)


def test_a_previous_response_id_never_names_another_channels_conversation() -> None:
    _, _, session = parse_responses_request({"input": "x", "previous_response_id": "telegram:1"})
    assert session is not None
    assert session.isolation_key == "responses:previous:telegram:1"


def test_parse_responses_request_raises_a_value_error_naming_the_field() -> None:
    with pytest.raises(ValueError, match="temperature") as raised:
        parse_responses_request({"input": "x", "temperature": 3})
    assert isinstance(raised.value, ResponsesError)
    assert (raised.value.param, raised.value.code) == ("temperature", "invalid_value")


def test_parse_responses_identity_prefers_the_safety_identifier() -> None:
    identity = parse_responses_identity({"user": "u", "safety_identifier": "s"}, "responses")
    assert identity is not None
    assert (identity.channel, identity.native_id) == ("responses", "s")
    by_user = parse_responses_identity({"user": "u"}, "api")
    assert by_user is not None
    assert (by_user.channel, by_user.native_id) == ("api", "u")


def test_parse_responses_identity_is_none_when_the_body_names_no_one() -> None:
    assert parse_responses_identity({"input": "x"}, "responses") is None
    assert parse_responses_identity({"user": ""}, "responses") is None


def test_messages_from_responses_input_takes_bare_content_items_and_files() -> None:
    messages = messages_from_responses_input(
        [
            {"type": "input_text", "text": "read this"},
            {"type": "input_image", "image_url": "https://example.com/a.png"},
            {"type": "input_file", "file_data": PDF_BASE64, "filename": "a.pdf"},
            {"role": "user", "content": [{"type": "input_file", "file_url": "https://x/b.pdf"}]},
        ]
    )
    assert [m.role for m in messages] == ["user"] * 4
    text, image, data, url = (m.contents[0] for m in messages)
    assert text.text == "read this"
    assert (image.type, image.uri) == ("uri", "https://example.com/a.png")
    assert (data.type, data.media_type, data.uri) == (
        "data",
        "application/pdf",
        f"data:application/pdf;base64,{PDF_BASE64}",
    )
    assert (url.type, url.uri, url.media_type) == ("uri", "https://x/b.pdf", "application/pdf")


@pytest.mark.parametrize(
    ("value", "param", "code"),
    [
        (
            [{"type": "input_file", "file_data": "not base64!"}],
            "input[0].file_data",
            "invalid_value",
        ),
        (
            [{"type": "input_file", "file_id": "file_1"}],
            "input[0].file_id",
            "unsupported_parameter",
        ),
        ([{"type": "input_file"}], "input[0].file_data", "missing_required_parameter"),
        ([{"type": "input_text"}], "input[0].text", "invalid_type"),
        ("", "input", "empty_input"),
    ],
)
def test_messages_from_responses_input_raises_a_value_error_on_bad_input(
    value: Any, param: str, code: str
) -> None:
    with pytest.raises(ValueError, match="input") as raised:
        messages_from_responses_input(value)
    assert isinstance(raised.value, ResponsesError)
    assert (raised.value.param, raised.value.code) == (param, code)


def test_file_data_longer_than_the_specification_allows_is_refused() -> None:
    with pytest.raises(ResponsesError) as raised:
        messages_from_responses_input([{"type": "input_file", "file_data": "A" * 33_554_436}])
    assert raised.value.code == "string_above_max_length"


# Files and bare content items over HTTP


@pytest.fixture(scope="module")
def offline() -> OfflineChatClient:
    return OfflineChatClient()


@pytest.fixture(scope="module")
def server(offline: OfflineChatClient) -> Iterator[LoopbackServer]:
    with serve(agent=Agent(client=offline)) as running:
        yield running


def test_a_file_as_base64_reaches_the_agent_as_named_data(
    server: LoopbackServer, offline: OfflineChatClient
) -> None:
    part: Any = {"type": "input_file", "file_data": PDF_BASE64, "filename": "report.pdf"}
    response = sdk(server).responses.create(model="m", input=[{"role": "user", "content": [part]}])
    assert response.status == "completed"
    (data,) = offline.last_messages[-1].contents
    assert (data.type, data.media_type) == ("data", "application/pdf")
    assert data.uri == f"data:application/pdf;base64,{PDF_BASE64}"
    assert data.to_dict().get("name", (data.additional_properties or {}).get("name")) == (
        "report.pdf"
    )


def test_a_file_as_a_data_url_keeps_its_media_type(
    server: LoopbackServer, offline: OfflineChatClient
) -> None:
    url = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,2\n").decode()
    part: Any = {"type": "input_file", "file_data": url, "filename": "t.csv"}
    sdk(server).responses.create(model="m", input=[{"role": "user", "content": [part]}])
    (data,) = offline.last_messages[-1].contents
    assert (data.type, data.media_type) == ("data", "text/csv")


def test_a_file_by_url_reaches_the_agent_as_uri_content(
    server: LoopbackServer, offline: OfflineChatClient
) -> None:
    part: Any = {"type": "input_file", "file_url": "https://example.com/doc.pdf"}
    sdk(server).responses.create(model="m", input=[{"role": "user", "content": [part]}])
    (uri,) = offline.last_messages[-1].contents
    assert (uri.type, uri.uri) == ("uri", "https://example.com/doc.pdf")


def test_a_file_id_is_refused_since_this_host_has_no_files_api(server: LoopbackServer) -> None:
    part: Any = {"type": "input_file", "file_id": "file_123"}
    with pytest.raises(openai.BadRequestError) as raised:
        sdk(server).responses.create(model="m", input=[{"role": "user", "content": [part]}])
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["code"] == "unsupported_parameter"
    assert error["param"] == "input[0].content[0].file_id"


def test_bad_base64_is_a_400_in_the_openai_error_shape(server: LoopbackServer) -> None:
    part = {"type": "input_file", "file_data": "%%%", "filename": "x.pdf"}
    status, body = post(server, "/responses", {"input": [part]})
    assert status == 400
    assert body["error"]["code"] == "invalid_value"
    assert body["error"]["param"] == "input[0].file_data"
    assert body["error"]["type"] == "invalid_request_error"


def test_oversized_file_data_is_a_400_in_the_openai_error_shape() -> None:
    channel = ResponsesChannel(max_body_bytes=40 * 1024 * 1024)
    part = {"type": "input_file", "file_data": "A" * 33_554_436, "filename": "big.bin"}
    with serve(channel) as running:
        status, body = post(running, "/responses", {"input": [part]})
    assert status == 400
    assert body["error"]["code"] == "string_above_max_length"
    assert body["error"]["param"] == "input[0].file_data"


def test_a_bare_content_item_is_a_user_message(
    server: LoopbackServer, offline: OfflineChatClient
) -> None:
    client = sdk(server)
    # The SDK's input type has no bare content items; the SDK sends them as given.
    bare: Any = [
        {"type": "input_text", "text": "hello"},
        {"type": "input_file", "file_data": PDF_BASE64, "filename": "a.pdf"},
    ]
    response = client.responses.create(model="m", input=bare)
    assert [m.role for m in offline.last_messages[-2:]] == ["user", "user"]
    listed = client.responses.input_items.list(response.id, order="asc").data
    assert [item.type for item in listed] == ["message", "message"]
    first, second = listed
    assert first.model_dump(exclude_none=True)["content"] == [
        {"type": "input_text", "text": "hello"}
    ]
    assert second.model_dump(exclude_none=True)["content"] == [
        {"type": "input_file", "file_data": PDF_BASE64, "filename": "a.pdf"}
    ]


def test_a_response_with_a_file_can_be_continued(server: LoopbackServer) -> None:
    client = sdk(server)
    part: Any = {"type": "input_file", "file_data": PDF_BASE64, "filename": "a.pdf"}
    first = client.responses.create(model="m", input=[part])
    second = client.responses.create(model="m", input="and now?", previous_response_id=first.id)
    assert second.output_text == "Echo: and now? (turn 2)"


# truncation


def test_truncation_disabled_is_accepted(server: LoopbackServer) -> None:
    response = sdk(server).responses.create(model="m", input="hi", truncation="disabled")
    assert response.truncation == "disabled"


def test_truncation_auto_is_refused_as_unsupported(server: LoopbackServer) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        sdk(server).responses.create(model="m", input="hi", truncation="auto")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["code"] == "unsupported_parameter"
    assert raised.value.body["param"] == "truncation"


@pytest.mark.parametrize(
    ("value", "code"), [("middle", "invalid_value"), (3, "invalid_type")], ids=["word", "number"]
)
def test_other_truncation_values_are_invalid(server: LoopbackServer, value: Any, code: str) -> None:
    status, body = post(server, "/responses", {"input": "hi", "truncation": value})
    assert status == 400
    assert (body["error"]["param"], body["error"]["code"]) == ("truncation", code)


# Hosted MCP calls


class HostedMcpClient(BaseChatClient[ChatOptions[None]]):
    """A chat client whose service ran a hosted MCP tool before answering.

    Each reply is an ``mcp_server_tool_call`` (call ``mcp_1``, tool ``search`` on server
    ``docs``), its ``mcp_server_tool_result`` (unless ``with_result`` is off), then the
    text ``Found it.``: streamed as three updates, the way the framework's OpenAI client
    streams a hosted MCP call.
    """

    def __init__(self, *, with_result: bool = True) -> None:
        super().__init__()
        self.with_result = with_result
        self.last_messages: list[Message] = []

    def _updates(self) -> list[ChatResponseUpdate]:
        call = Content.from_mcp_server_tool_call(
            "mcp_1", "search", server_name="docs", arguments={"query": "hosting"}
        )
        result = Content.from_mcp_server_tool_result("mcp_1", output=[Content.from_text("3 pages")])
        contents = [call, result] if self.with_result else [call]
        updates = [
            ChatResponseUpdate(role="assistant", contents=[content], message_id="msg-mcp")
            for content in contents
        ]
        text = Content.from_text("Found it.")
        updates.append(ChatResponseUpdate(role="assistant", contents=[text], message_id="msg-2"))
        return updates

    def _inner_get_response(
        self,
        *,
        messages: Sequence[Message],
        stream: bool,
        options: Mapping[str, Any],
        **kwargs: Any,
    ) -> Awaitable[ChatResponse] | ResponseStream[ChatResponseUpdate, ChatResponse]:
        self.last_messages = list(messages)
        updates = self._updates()
        if stream:

            async def streamed() -> AsyncIterator[ChatResponseUpdate]:
                for update in updates:
                    yield update

            return self._build_response_stream(streamed())

        async def whole() -> ChatResponse:
            return ChatResponse.from_updates(updates)

        return whole()


@pytest.fixture(scope="module")
def mcp_client() -> HostedMcpClient:
    return HostedMcpClient()


@pytest.fixture(scope="module")
def mcp_server(mcp_client: HostedMcpClient) -> Iterator[LoopbackServer]:
    with serve(agent=Agent(client=mcp_client)) as running:
        yield running


def _check_mcp_call(item: object, *, status: str = "completed") -> McpCall:
    assert isinstance(item, McpCall), item
    assert (item.server_label, item.name, item.status) == ("docs", "search", status)
    assert item.arguments == '{"query":"hosting"}'
    assert item.id.startswith("mcp_")
    return item


def test_a_hosted_mcp_call_is_an_mcp_call_item(mcp_server: LoopbackServer) -> None:
    response = sdk(mcp_server).responses.create(model="m", input="look it up")
    call, message = response.output
    assert _check_mcp_call(call).output == "3 pages"
    assert isinstance(message, ResponseOutputMessage)
    assert response.output_text == "Found it."


def test_a_stored_response_keeps_its_mcp_call(mcp_server: LoopbackServer) -> None:
    client = sdk(mcp_server)
    created = client.responses.create(model="m", input="look it up")
    stored = client.responses.retrieve(created.id)
    assert [item.model_dump() for item in stored.output] == [
        item.model_dump() for item in created.output
    ]


def test_a_streamed_mcp_call_has_its_item_and_progress_events(
    mcp_server: LoopbackServer,
) -> None:
    with sdk(mcp_server).responses.stream(model="m", input="look it up") as stream:
        events = list(stream)
        final = stream.get_final_response()
    call = _check_mcp_call(final.output[0])
    lifecycle = [
        (event.type, getattr(event, "item_id", None) or getattr(event, "item", call).id)
        for event in events
        if getattr(event, "output_index", None) == 0
    ]
    assert lifecycle == [
        ("response.output_item.added", call.id),
        ("response.mcp_call.in_progress", call.id),
        ("response.mcp_call.completed", call.id),
        ("response.output_item.done", call.id),
    ]
    added = next(e for e in events if e.type == "response.output_item.added")
    assert _check_mcp_call(added.item, status="in_progress").output is None
    done = next(e for e in events if e.type == "response.output_item.done")
    assert done.item.model_dump() == call.model_dump()
    assert final.output_text == "Found it."


def test_a_streamed_response_is_stored_with_its_mcp_call(mcp_server: LoopbackServer) -> None:
    client = sdk(mcp_server)
    with client.responses.stream(model="m", input="look it up") as stream:
        final = stream.get_final_response()
    stored = client.responses.retrieve(final.id)
    assert stored.output[0].model_dump() == final.output[0].model_dump()


def test_a_call_whose_result_never_came_is_incomplete() -> None:
    with serve(agent=Agent(client=HostedMcpClient(with_result=False))) as running:
        client = sdk(running)
        whole = client.responses.create(model="m", input="look it up")
        with client.responses.stream(model="m", input="look it up") as stream:
            done = [
                event.item
                for event in stream
                if event.type == "response.output_item.done" and event.item.type == "mcp_call"
            ]
            streamed = stream.get_final_response()
    assert _check_mcp_call(whole.output[0], status="incomplete").output is None
    final = _check_mcp_call(streamed.output[0], status="incomplete")
    assert final.output is None
    (closed,) = done  # at the end of the stream, after the text that followed it
    assert _check_mcp_call(closed, status="incomplete").id == final.id


def test_a_response_with_an_mcp_call_is_continued(
    mcp_server: LoopbackServer, mcp_client: HostedMcpClient
) -> None:
    client = sdk(mcp_server)
    first = client.responses.create(model="m", input="look it up")
    client.responses.create(model="m", input="thanks", previous_response_id=first.id)
    kinds = [c.type for m in mcp_client.last_messages for c in m.contents]
    assert kinds.count("mcp_server_tool_call") == 1
    assert kinds.count("mcp_server_tool_result") == 1


def test_an_mcp_call_output_item_can_be_sent_back_as_input(
    mcp_server: LoopbackServer, mcp_client: HostedMcpClient
) -> None:
    client = sdk(mcp_server)
    first = client.responses.create(model="m", input="look it up")
    transcript: Any = [item.model_dump(exclude_none=True) for item in first.output]
    second = client.responses.create(
        model="m", input=[*transcript, {"role": "user", "content": "thanks"}]
    )
    assert second.status == "completed"
    (replayed,) = [m for m in mcp_client.last_messages if m.contents[0].type.startswith("mcp")]
    call, result = replayed.contents
    assert (call.call_id, call.tool_name, call.server_name) == (
        first.output[0].id,
        "search",
        "docs",
    )
    assert result.output == "3 pages"
    listed = client.responses.input_items.list(second.id, order="asc").data
    assert listed[0].model_dump() == first.output[0].model_dump()


def test_a_conversation_lists_the_mcp_call_among_its_items(mcp_server: LoopbackServer) -> None:
    client = sdk(mcp_server)
    conversation = client.conversations.create()
    response = client.responses.create(model="m", input="look it up", conversation=conversation.id)
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [item.type for item in items] == ["message", "mcp_call", "message"]
    assert items[1].model_dump() == response.output[0].model_dump()


def test_an_mcp_call_asking_for_approval_is_refused(mcp_server: LoopbackServer) -> None:
    item = {
        "type": "mcp_call",
        "id": "mcp_1",
        "server_label": "docs",
        "name": "search",
        "arguments": "{}",
        "approval_request_id": "mcpr_1",
    }
    status, body = post(mcp_server, "/responses", {"input": [item]})
    assert status == 400
    assert body["error"]["code"] == "unsupported_parameter"
    assert body["error"]["param"] == "input[0].approval_request_id"


@tool(description="The current time.")
def current_time() -> str:
    return "noon"


def test_the_agents_own_function_tools_are_still_not_output() -> None:
    agent = Agent(client=OfflineChatClient(), tools=[current_time])
    with serve(agent=agent) as running:
        response = sdk(running).responses.create(model="m", input="current_time please")
    assert [item.type for item in response.output] == ["message"]
    assert response.output_text == "Tool current_time returned: noon"


def test_the_openapi_document_is_served_with_the_new_items(server: LoopbackServer) -> None:
    schemas = httpx.get(f"{server.base_url}/responses/openapi.json").json()["components"]
    assert {"McpCall", "McpCallItemParam", "InputFilePart"} <= set(schemas["schemas"])
