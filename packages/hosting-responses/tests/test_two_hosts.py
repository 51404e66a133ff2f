"""One configured channel object serves two hosts, each with responses of its own."""

from __future__ import annotations

import openai
import pytest
from agent_framework_hosting.testing import LoopbackServer
from agent_framework_hosting_responses import ResponsesChannel

from ._clients import host_for, sdk
from ._sync_and_async import wait_for


def test_a_response_made_on_one_host_is_not_found_on_the_other() -> None:
    channel = ResponsesChannel()
    with (
        LoopbackServer(host_for(channel).app) as first,
        LoopbackServer(host_for(channel).app) as second,
    ):
        on_first, on_second = sdk(first), sdk(second)
        made_first = on_first.responses.create(model="m", input="first")
        made_second = on_second.responses.create(model="m", input="second")
        assert on_first.responses.retrieve(made_first.id).output_text == made_first.output_text
        assert on_second.responses.retrieve(made_second.id).output_text == made_second.output_text
        with pytest.raises(openai.NotFoundError):
            on_second.responses.retrieve(made_first.id)
        with pytest.raises(openai.NotFoundError):
            on_first.responses.retrieve(made_second.id)
        with pytest.raises(openai.NotFoundError):
            on_second.responses.create(model="m", input="x", previous_response_id=made_first.id)


async def test_a_background_response_runs_and_is_recorded_on_the_host_it_was_made_on() -> None:
    channel = ResponsesChannel()
    with (
        LoopbackServer(host_for(channel, delay=0.2).app) as first,
        LoopbackServer(host_for(channel).app) as second,
    ):
        on_first, on_second = sdk(first), sdk(second)
        queued = on_first.responses.create(model="m", input="later", background=True)
        on_second.responses.create(model="m", input="meanwhile")
        finished = await wait_for(on_first, queued.id, {"completed", "failed"})
        assert finished.status == "completed"
        with pytest.raises(openai.NotFoundError):
            on_second.responses.retrieve(queued.id)
