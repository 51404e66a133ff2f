"""A workflow that asks for input: the task waits input-required, the next message answers."""

from __future__ import annotations

import pytest
from a2a.types.a2a_pb2 import GetTaskRequest, Part, TaskState
from a2a.utils.errors import InvalidParamsError
from a2a_harness import JSONRPC, REST, artifact_text, collect, send_request, serving, user_message
from agent_framework_hosting.testing import review_workflow
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import Value


@pytest.mark.parametrize("transport", [JSONRPC, REST])
async def test_an_input_required_task_resumes_with_the_answer(transport: str) -> None:
    async with serving(review_workflow) as served, served.client(transport=transport) as client:
        first = await collect(client.send_message(send_request(user_message("ship it"))))
        waiting = first[-1].status_update
        task_id = waiting.task_id
        answer = user_message("true", task_id=task_id)
        second = await collect(client.send_message(send_request(answer)))
        final = await client.get_task(GetTaskRequest(id=task_id))
    assert waiting.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    [request] = MessageToDict(waiting.status.message.parts[1].data)["requests"]
    assert request["type"] == "ReviewRequest"
    assert request["data"] == {"draft": "Draft 1: ship it", "reviewer": 1}
    assert second[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert final.status.state == TaskState.TASK_STATE_COMPLETED
    assert "Approved by reviewer 1: Draft 1: ship it" in artifact_text(final)
    assert [m.parts[0].text for m in final.history if m.parts[0].text in {"ship it", "true"}] == [
        "ship it",
        "true",
    ]


async def test_answers_to_several_requests_are_one_data_part() -> None:
    async with serving(lambda: review_workflow(reviewers=2)) as served, served.client() as client:
        first = await collect(client.send_message(send_request(user_message("two eyes"))))
        data = MessageToDict(first[-1].status_update.status.message.parts[1].data)
        ids = [request["id"] for request in data["requests"]]
        answers = Part(data=Value())
        answers.data.struct_value.update({ids[0]: True, ids[1]: False})
        reply = user_message(task_id=first[0].task.id, parts=[answers])
        second = await collect(client.send_message(send_request(reply)))
    text = "".join(
        part.text
        for event in second
        if event.HasField("artifact_update")
        for part in event.artifact_update.artifact.parts
    )
    assert "Approved by reviewer 1" in text
    assert "Rejected by reviewer 2" in text


async def test_an_answer_of_the_wrong_type_leaves_the_task_waiting() -> None:
    async with serving(review_workflow) as served, served.client(streaming=False) as client:
        [first] = await collect(client.send_message(send_request(user_message("draft"))))
        wrong = user_message("not a boolean", task_id=first.task.id)
        with pytest.raises(InvalidParamsError):
            await collect(client.send_message(send_request(wrong)))
        read = await client.get_task(GetTaskRequest(id=first.task.id))
    assert read.status.state == TaskState.TASK_STATE_INPUT_REQUIRED


async def test_a_new_message_in_a_waiting_context_is_refused() -> None:
    async with serving(review_workflow) as served, served.client(streaming=False) as client:
        [first] = await collect(client.send_message(send_request(user_message("draft"))))
        fresh = user_message("something else", context_id=first.task.context_id)
        with pytest.raises(InvalidParamsError):
            await collect(client.send_message(send_request(fresh)))
