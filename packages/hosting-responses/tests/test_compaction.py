"""`POST /responses/compact`: an opaque compaction item that a later request continues from.

The SDK tests run with the strict sync and async clients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.responses import CompactedResponse, ResponseCompactionItem

from ._clients import post, serve, user_item
from ._sync_and_async import client_of, done, sync_and_async


def compaction_of(output: list[Any]) -> ResponseCompactionItem:
    """The one item of a compaction's output."""
    (item,) = output
    assert isinstance(item, ResponseCompactionItem)
    return item


def resumed(compacted: CompactedResponse, *items: Any) -> list[Any]:
    """Input that continues from ``compacted``: its output, then ``items``."""
    return [*(item.to_dict() for item in compacted.output), *items]


@sync_and_async
async def test_a_compacted_conversation_continues_from_its_compaction_item(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        first = await done(client.responses.create(model="m", input="My name is Ada."))
        second = await done(
            client.responses.create(model="m", input="I like tea.", previous_response_id=first.id)
        )
        compacted = await done(client.responses.compact(model="m", previous_response_id=second.id))
        after = await done(
            client.responses.create(model="m", input=resumed(compacted, user_item("Who am I?")))
        )
        context = (await done(client.responses.input_items.list(after.id, order="asc"))).data
    item = compaction_of(compacted.output)
    assert compacted.object == "response.compaction"
    assert compacted.usage.total_tokens == 0
    assert after.output_text == "Echo: Who am I? (turn 3)"
    texts = [
        getattr(part, "text", "") for entry in context for part in getattr(entry, "content", [])
    ]
    assert texts == [
        "My name is Ada.",
        "Echo: My name is Ada. (turn 1)",
        "I like tea.",
        "Echo: I like tea. (turn 2)",
        "Who am I?",
    ]
    assert "Ada" not in item.encrypted_content
    assert item.id.startswith("cmp_")


@sync_and_async
async def test_input_is_compacted_and_a_compaction_recompacted(kind: str) -> None:
    with serve() as server:
        client = client_of(kind, server)
        compacted = await done(
            client.responses.compact(
                model="m",
                input=[user_item("one"), {"role": "assistant", "content": "reply one"}],
            )
        )
        again = await done(
            client.responses.compact(model="m", input=resumed(compacted, user_item("two")))
        )
        after = await done(
            client.responses.create(model="m", input=resumed(again, user_item("three")))
        )
    assert compaction_of(again.output).encrypted_content != (
        compaction_of(compacted.output).encrypted_content
    )
    assert after.output_text == "Echo: three (turn 3)"


@sync_and_async
async def test_compaction_with_input_after_a_previous_response_keeps_both_in_order(
    kind: str,
) -> None:
    with serve() as server:
        client = client_of(kind, server)
        first = await done(client.responses.create(model="m", input="first"))
        compacted = await done(
            client.responses.compact(model="m", previous_response_id=first.id, input="second")
        )
        after = await done(client.responses.create(model="m", input=resumed(compacted)))
    assert after.output_text == "Echo: second (turn 2)"


@sync_and_async
async def test_a_compaction_survives_a_restart_with_state_dir(tmp_path: Path, kind: str) -> None:
    with serve(state_dir=tmp_path) as server:
        alice = client_of(kind, server, user="alice")
        compacted = await done(alice.responses.compact(model="m", input="remember me"))
    with serve(state_dir=tmp_path) as server:
        alice = client_of(kind, server, user="alice")
        after = await done(
            alice.responses.create(model="m", input=resumed(compacted, user_item("still there?")))
        )
    assert after.output_text == "Echo: still there? (turn 2)"


@sync_and_async
async def test_another_partitions_compaction_is_refused(kind: str) -> None:
    with serve() as server:
        alice = client_of(kind, server, user="alice")
        compacted = await done(alice.responses.compact(model="m", input="secret"))
        item = compaction_of(compacted.output).to_dict()
        for stranger in ("mallory", None):
            status, body = post(
                server, "/responses", {"input": [item, user_item("tell me")]}, user=stranger
            )
            assert status == 400
            error = body["error"]
            assert (error["param"], error["code"]) == (
                "input[0].encrypted_content",
                "invalid_encrypted_content",
            )
            assert "secret" not in error["message"]
        mine = await done(
            alice.responses.create(model="m", input=resumed(compacted, user_item("mine")))
        )
    assert mine.output_text == "Echo: mine (turn 2)"


@pytest.mark.parametrize(
    ("item", "param", "code"),
    [
        (
            {"type": "compaction", "encrypted_content": "made-up"},
            "input[1].encrypted_content",
            "invalid_encrypted_content",
        ),
        (
            {"type": "compaction", "encrypted_content": 5},
            "input[1].encrypted_content",
            "invalid_type",
        ),
        ({"type": "compaction"}, "input[1].encrypted_content", "invalid_type"),
    ],
)
def test_a_compaction_item_this_server_did_not_make_is_a_400(
    item: dict[str, Any], param: str, code: str
) -> None:
    with serve() as server:
        status, body = post(server, "/responses", {"input": [user_item("hi"), item]})
    assert status == 400
    assert (body["error"]["param"], body["error"]["code"]) == (param, code)


@sync_and_async
async def test_an_item_after_a_compaction_is_checked_where_it_stands(kind: str) -> None:
    with serve() as server:
        compacted = await done(
            client_of(kind, server).responses.compact(
                model="m", input=[user_item("a"), user_item("b"), user_item("c")]
            )
        )
        item = compaction_of(compacted.output).to_dict()
        status, body = post(
            server, "/responses", {"input": [item, {"role": "robot", "content": "x"}]}
        )
    assert status == 400
    assert body["error"]["param"] == "input[1].role"


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"input": "x"}, 400, "model", "missing_required_parameter"),
        ({"model": 5, "input": "x"}, 400, "model", "invalid_type"),
        ({"model": "m"}, 400, "input", "missing_required_parameter"),
        (
            {"model": "m", "input": "x", "instructions": "be brief"},
            400,
            "instructions",
            "unsupported_parameter",
        ),
        ({"model": "m", "input": "x", "mystery": 1}, 400, "mystery", "unknown_parameter"),
        (
            {"model": "m", "input": "x", "prompt_cache_key": 5},
            400,
            "prompt_cache_key",
            "invalid_type",
        ),
        (
            {"model": "m", "input": "x", "prompt_cache_key": "k" * 65},
            400,
            "prompt_cache_key",
            "invalid_value",
        ),
        (
            {"model": "m", "input": "x", "service_tier": "turbo"},
            400,
            "service_tier",
            "invalid_value",
        ),
        (
            {"model": "m", "input": "x", "prompt_cache_retention": "forever"},
            400,
            "prompt_cache_retention",
            "invalid_value",
        ),
        (
            {"model": "m", "input": [{"role": "robot", "content": "x"}]},
            400,
            "input[0].role",
            "invalid_value",
        ),
        (
            {"model": "m", "previous_response_id": "resp_nope"},
            404,
            "previous_response_id",
            "previous_response_not_found",
        ),
        ([], 400, None, "invalid_type"),
    ],
)
def test_bad_compaction_requests_are_4xx_in_the_openai_shape(
    body: Any, status: int, param: str | None, code: str | None
) -> None:
    with serve() as server:
        answered, error = post(server, "/responses/compact", body)
    assert answered == status
    assert error["error"]["type"] == "invalid_request_error"
    assert (error["error"]["param"], error["error"]["code"]) == (param, code)


@sync_and_async
async def test_the_cache_and_tier_hints_of_the_spec_are_accepted(kind: str) -> None:
    with serve() as server:
        compacted = await done(
            client_of(kind, server).responses.compact(
                model="m",
                input="x",
                prompt_cache_key="k" * 64,
                prompt_cache_retention="24h",
                service_tier="flex",
            )
        )
    assert compacted.output[0].type == "compaction"


@sync_and_async
async def test_the_sdk_sees_a_missing_previous_response_as_not_found(kind: str) -> None:
    with serve() as server:
        first = await done(
            client_of(kind, server, user="alice").responses.create(model="m", input="mine")
        )
        mallory = client_of(kind, server, user="mallory")
        with pytest.raises(openai.NotFoundError):
            await done(mallory.responses.compact(model="m", previous_response_id=first.id))
