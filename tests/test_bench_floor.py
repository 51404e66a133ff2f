"""The benchmark's floor answers with the host's wire objects: its ratios compare like with like."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest
from agent_framework_hosting.testing import LoopbackServer

BENCH_APPS = Path(__file__).resolve().parent.parent / "bench" / "apps.py"


def load_apps() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_apps", BENCH_APPS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    apps = load_apps()
    with LoopbackServer(apps.host_app()) as host, LoopbackServer(apps.floor_app()) as floor:
        yield {"host": host, "floor": floor, "prompt": apps.PROMPT}


def shape(value: Any) -> Any:
    """The field names of a wire object, all the way down (lists by their first entry)."""
    if isinstance(value, dict):
        return {key: shape(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def events(base_url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", f"{base_url}/responses", json=body, timeout=30) as answer:
        assert answer.status_code == 200
        lines = [line for line in answer.iter_lines() if line.startswith("data: {")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


async def test_the_floor_body_is_a_response_the_sdk_accepts(servers: dict[str, Any]) -> None:
    floor: LoopbackServer = servers["floor"]
    client = openai.AsyncOpenAI(
        base_url=floor.base_url, api_key="unused", max_retries=0, _strict_response_validation=True
    )
    response = await client.responses.create(model="m", input=servers["prompt"])
    assert response.status == "completed"
    assert response.output_text.startswith("Echo: ")
    stream = await client.responses.create(model="m", input=servers["prompt"], stream=True)
    kinds = [event.type async for event in stream]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    await client.close()


def test_the_floor_answers_with_the_fields_of_the_host(servers: dict[str, Any]) -> None:
    body = {"model": "m", "input": servers["prompt"]}
    answers = {
        side: httpx.post(f"{servers[side].base_url}/responses", json=body, timeout=30).json()
        for side in ("host", "floor")
    }
    assert shape(answers["floor"]) == shape(answers["host"])
    texts = [answers[side]["output"][0]["content"][0]["text"] for side in ("host", "floor")]
    assert texts[0] == texts[1]


def test_the_floor_streams_the_events_of_the_host(servers: dict[str, Any]) -> None:
    body = {"model": "m", "input": servers["prompt"], "stream": True}
    host, floor = (events(servers[side].base_url, body) for side in ("host", "floor"))
    assert len(floor) == len(host) == 28
    assert [shape(event) for event in floor] == [shape(event) for event in host]
