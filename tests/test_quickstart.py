"""The quickstart sample, run as a user runs it, driven by the openai SDK."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest
import redis
from agent_framework_hosting_redis.testing import redis_url_for_tests
from openai import OpenAI

from .conftest import REPO, SampleProcess


def sdk(sample: SampleProcess) -> OpenAI:
    return OpenAI(
        base_url=sample.base_url,
        api_key="unused",
        max_retries=0,
        _strict_response_validation=True,
    )


def test_quickstart_answers_create_and_stream(quickstart: SampleProcess) -> None:
    client = sdk(quickstart)
    created = client.responses.create(model="agent", input="Hello")
    assert created.status == "completed"
    assert "Echo: Hello" in created.output_text

    with client.responses.stream(model="agent", input="Stream it") as stream:
        final = stream.get_final_response()
    assert final.status == "completed"
    assert "Echo: Stream it" in final.output_text


def test_quickstart_demo_tool_runs_offline(quickstart: SampleProcess) -> None:
    reply = sdk(quickstart).responses.create(model="agent", input="Call current_time please")
    assert "current_time returned" in reply.output_text
    assert "UTC" in reply.output_text


def test_quickstart_prints_how_to_call_it(quickstart: SampleProcess) -> None:
    output = quickstart.kill()
    base = f"http://127.0.0.1:{quickstart.port}"
    assert f"Serving agent 'quickstart' on {base} (Ctrl+C to stop)" in output
    assert f"  responses  {base}/responses\n" in output
    assert f"  responses  {base}/v1/responses\n" in output
    assert f'OpenAI(base_url="{base}/v1", api_key="unused")' in output
    assert f"A2A agent card: {base}/.well-known/agent-card.json" in output
    assert "trusted" in output
    assert "offline" in output
    assert f"MCP server: {base}/mcp" in output


def test_quickstart_prints_an_access_line_per_request(quickstart: SampleProcess) -> None:
    sdk(quickstart).responses.create(model="agent", input="Hello")
    # The line is written once the response has gone out: wait until it comes.
    posted = quickstart.line(re.compile('"POST /responses'))
    assert posted.startswith("127.0.0.1:")
    assert '"POST /responses 1.1" 200 ' in posted


def test_an_openai_client_with_a_v1_base_url_works_against_it(quickstart: SampleProcess) -> None:
    client = OpenAI(
        base_url=f"{quickstart.base_url}/v1",
        api_key="unused",
        max_retries=0,
        _strict_response_validation=True,
    )
    [model] = client.models.list().data
    first = client.responses.create(model=model.id, input="Hello")
    with client.responses.stream(
        model=model.id, input="Stream it", previous_response_id=first.id
    ) as stream:
        final = stream.get_final_response()
    assert model.id == "quickstart"
    assert first.output_text == "Echo: Hello (turn 1)"
    assert final.output_text == "Echo: Stream it (turn 2)"


def test_the_index_shows_what_the_quickstart_serves(quickstart: SampleProcess) -> None:
    index = httpx.get(f"{quickstart.base_url}/index.json").json()
    assert index["target"] == {"kind": "agent", "name": "quickstart"}
    channels = {channel["name"]: channel for channel in index["channels"]}
    assert channels["ag-ui"] == {"name": "ag-ui", "paths": ["/ag-ui", "/"]}
    responses = channels["responses"]
    assert responses["paths"][:2] == ["/responses", "/v1/responses"]
    assert "/v1/models" in responses["paths"]
    assert channels["mcp"] == {"name": "mcp", "paths": ["/mcp"]}
    assert channels["a2a"]["paths"][0] == "/a2a"


def test_the_root_is_the_web_chat(quickstart: SampleProcess) -> None:
    page = httpx.get(quickstart.base_url)
    assert page.headers["content-type"].startswith("text/html")
    assert '<meta name="ag-ui-endpoint" content="/ag-ui">' in page.text


def test_quickstart_says_first_where_to_open_it_in_a_browser(quickstart: SampleProcess) -> None:
    output = quickstart.kill()
    urls = re.findall(r"http://127\.0\.0\.1:\d+\S*", output)
    assert output.splitlines()[0] == f"Open http://127.0.0.1:{quickstart.port}/ in a browser"
    assert urls[0] == f"http://127.0.0.1:{quickstart.port}/"


def run_caller(script: str, quickstart: SampleProcess) -> str:
    """Run a caller sample against the running quickstart; what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PORT"] = str(quickstart.port)
    done = subprocess.run(
        [sys.executable, str(REPO / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_call_quickstart_sample_runs_against_it(quickstart: SampleProcess) -> None:
    stdout = run_caller("samples/call_quickstart.py", quickstart)
    assert "[completed] Echo: Hello, who are you?" in stdout
    assert "current_time returned" in stdout
    assert "[completed] Echo: Thanks! (turn 3)" in stdout
    assert "[stream] Echo: Tell me a short story" in stdout
    assert "[background] resumed after event 0: Echo: Carry on without me (turn 1)" in stdout
    assert "[compaction] Echo: Where were we? (turn 4)" in stdout
    assert "[retrieve] Echo: Where were we? (turn 4); 7 input items in 4 pages" in stdout
    assert "[delete] 404 not_found" in stdout
    assert "[poll] queued → completed: Echo: Work on this later (turn 1)" in stdout
    # The offline agent may finish before the cancel arrives; then it comes back as it was.
    assert re.search(r"^\[cancel\] (cancelled|completed)$", stdout, re.MULTILINE)
    assert "[conversation] Echo: Do you remember me? (turn 2)" in stdout
    assert "[conversation] 3 items" in stdout


def test_mcp_client_sample_runs_against_it(quickstart: SampleProcess) -> None:
    lines = run_caller("samples/mcp_client.py", quickstart).splitlines()
    assert lines == [
        "[server] quickstart; tools: quickstart, new, reset",
        "[call] Echo: Hello over MCP (turn 1)",
        "[call] Echo: And again (turn 2)",
        "[progress] Echo: Stream this reply (turn 3)",
        "[result] Echo: Stream this reply (turn 3)",
        "[reset] Started a new conversation.",
        "[call] Echo: Fresh start (turn 1)",
        "[conversation] Echo: Back again (turn 2)",
    ]


def test_ag_ui_client_sample_runs_against_it(quickstart: SampleProcess) -> None:
    lines = run_caller("samples/ag_ui_client.py", quickstart).splitlines()
    assert lines[0] == "[turn] Echo: Hello over AG-UI (turn 1)"
    assert lines[1] == "[tool] current_time"
    assert lines[2].startswith("[tool result] ")
    assert lines[3].startswith("[turn] Tool current_time returned: ")
    assert lines[4].startswith("[resumed after event 2] ")
    assert lines[4].endswith("Carry on without me (turn 3) (RUN_FINISHED)")
    assert (
        lines[5]
        == "[history] Hello over AG-UI: user assistant user assistant tool assistant user assistant"
    )


def test_a2a_client_sample_runs_against_it(quickstart: SampleProcess) -> None:
    lines = run_caller("samples/a2a_client.py", quickstart).splitlines()
    assert lines[0] == "[card] quickstart: streaming, push notifications; JSONRPC, HTTP+JSON"
    assert lines[1] == "[send] TASK_STATE_COMPLETED: Echo: Hello over A2A (turn 1)"
    assert lines[2] == "[stream] Echo: And streamed (turn 2)"
    assert lines[3] == "[resubscribe] Echo: Tell me a short story (turn 1)"
    # The offline agent may finish before the cancel arrives; then it comes back as it was.
    assert re.fullmatch(r"\[cancel\] TASK_STATE_(CANCELED|COMPLETED)", lines[4])


def test_function_tools_sample_answers_the_agents_call_against_it(
    quickstart: SampleProcess,
) -> None:
    lines = run_caller("samples/function_tools.py", quickstart).splitlines()
    asked = "What is the weather in Paris? Use get_weather."
    assert lines == [
        f"[call] get_weather({{'city': '{asked}'}}) as call_1_0",
        f"[completed] Tool get_weather returned: Sunny in {asked}",
    ]


def test_websocket_sample_runs_against_it(quickstart: SampleProcess) -> None:
    lines = run_caller("samples/responses_websocket.py", quickstart).splitlines()
    assert [line.split("  (")[0] for line in lines] == [
        "[ws] Echo: Hello over a socket (turn 1)",
        "[ws] Echo: And once more, unstored (turn 2)",
        "[ws] error 404 previous_response_not_found: "
        "Previous response with id 'resp_unknown' not found.",
        "[ws] Echo: Still here (turn 3)",
    ]


def test_state_dir_survives_kill_and_restart(tmp_path: object) -> None:
    state = str(tmp_path) + "/state"
    headers = {"x-agent-chat-isolation-key": "restart-user"}
    first = SampleProcess("samples/quickstart.py", {"STATE_DIR": state})
    try:
        client = sdk(first).with_options(default_headers=headers)
        client.responses.create(model="agent", input="one")
        two = client.responses.create(model="agent", input="two")
        assert "(turn 2)" in two.output_text
    finally:
        first.kill()

    second = SampleProcess("samples/quickstart.py", {"STATE_DIR": state})
    try:
        client = sdk(second).with_options(default_headers=headers)
        three = client.responses.create(model="agent", input="three")
        assert "Echo: three (turn 3)" in three.output_text
    finally:
        second.kill()


def test_a_dropped_stream_stops_its_run_in_the_server_process_and_the_next_turn_works(
    tmp_path: object,
) -> None:
    # A streamed piece every second, 60 of them: the whole reply would outlast the test's
    # time limit, so the next turn of the conversation, which waits for the conversation's
    # run, gets through only if dropping the stream stopped that run.
    env = {"STATE_DIR": f"{tmp_path}/state", "OFFLINE_DELAY": "1", "OFFLINE_CHUNKS": "60"}
    sample = SampleProcess("samples/quickstart.py", env)
    try:
        client = sdk(sample).with_options(default_headers={"x-agent-chat-isolation-key": "drop"})
        first = client.responses.create(model="agent", input="one")
        words = " ".join(f"w{n}" for n in range(80))
        stream = client.responses.create(model="agent", input=words, stream=True)
        dropped_id = ""
        for event in stream:
            if event.type == "response.created":
                dropped_id = event.response.id
            if event.type == "response.output_text.delta":
                break
        stream.close()
        after = client.responses.create(model="agent", input="two")
        # The dropped turn left nothing: not in the session, not stored.
        assert after.output_text == "Echo: two (turn 2)"
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(dropped_id)
        following = client.responses.create(
            model="agent", input="three", previous_response_id=after.id
        )
        assert following.output_text == "Echo: three (turn 3)"
        assert first.output_text == "Echo: one (turn 1)"
    finally:
        output = sample.kill()
    assert "Traceback" not in output


def test_two_quickstarts_with_one_redis_are_replicas_of_one_service() -> None:
    url = redis_url_for_tests()
    env = {"REDIS_URL": url, "REDIS_PREFIX": f"quickstart-test-{os.getpid()}-{id(url)}:"}
    replicas = [SampleProcess("samples/quickstart.py", env) for _ in range(2)]
    try:
        previous: str | None = None
        texts: list[str] = []
        for turn in range(1, 7):
            client = sdk(replicas[turn % 2])
            reply = client.responses.create(
                model="agent", input=f"t{turn}", previous_response_id=previous
            )
            previous = reply.id
            texts.append(reply.output_text)
        outputs = [replica.kill() for replica in replicas]
    finally:
        for replica in replicas:
            if replica.proc.poll() is None:
                replica.kill()
        cleaner = redis.Redis.from_url(url)
        for key in cleaner.scan_iter(match=f"{env['REDIS_PREFIX']}*", count=500):
            cleaner.delete(key)
        cleaner.close()
    assert texts == [f"Echo: t{turn} (turn {turn})" for turn in range(1, 7)]
    assert all(f"State: Redis at {url}" in output for output in outputs)


@pytest.fixture
def keyed_quickstart() -> Iterator[SampleProcess]:
    sample = SampleProcess("samples/quickstart.py", {"QUICKSTART_API_KEYS": "key1=alice,key2=bob"})
    try:
        yield sample
    finally:
        sample.kill()


def keyed_sdk(sample: SampleProcess, key: str) -> OpenAI:
    return OpenAI(
        base_url=sample.base_url, api_key=key, max_retries=0, _strict_response_validation=True
    )


def test_quickstart_with_keys_refuses_a_call_without_one(keyed_quickstart: SampleProcess) -> None:
    answer = httpx.post(
        f"{keyed_quickstart.base_url}/v1/responses", json={"model": "agent", "input": "Hello"}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(openai.AuthenticationError):
        keyed_sdk(keyed_quickstart, "key3").responses.create(model="agent", input="Hello")


def test_quickstart_with_keys_keeps_alice_and_bob_apart(keyed_quickstart: SampleProcess) -> None:
    alice, bob = keyed_sdk(keyed_quickstart, "key1"), keyed_sdk(keyed_quickstart, "key2")
    mine = alice.responses.create(model="agent", input="alice's words")
    assert alice.responses.retrieve(mine.id).output_text == mine.output_text
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.create(model="agent", input="mine now", previous_response_id=mine.id)


def test_quickstart_with_keys_prints_that_it_requires_them(
    keyed_quickstart: SampleProcess,
) -> None:
    keyed_sdk(keyed_quickstart, "key1").responses.create(model="agent", input="Hello")
    output = keyed_quickstart.kill()
    assert "API keys required (QUICKSTART_API_KEYS)" in output
    assert "each key's principal sees only its own responses" in output


def test_quickstart_says_it_is_open_without_keys(quickstart: SampleProcess) -> None:
    assert "Open on loopback: no API key required" in quickstart.kill()
