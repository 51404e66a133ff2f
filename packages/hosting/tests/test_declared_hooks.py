"""A channel's hooks are declared: the host checks them when it is built."""

from __future__ import annotations

from typing import Any

import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, ChannelHooks, StreamRedactor
from agent_framework_hosting.testing import OfflineChatClient
from echo_channel import EchoChannel, echo_turn


def keep(result: Any, **_: Any) -> Any:
    return result


class MisspelledHookChannel(EchoChannel):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.respone_hook = keep


def host_of(*channels: Any) -> AgentFrameworkHost:
    return AgentFrameworkHost(Agent(client=OfflineChatClient()), channels=channels)


def test_a_hook_attribute_the_host_never_calls_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"'respone_hook', which the host never calls"):
        host_of(MisspelledHookChannel())


def test_a_hook_that_cannot_be_called_is_an_error() -> None:
    with pytest.raises(TypeError, match="response_hook of channel 'echo' must be callable"):
        host_of(EchoChannel(response_hook="redact"))


def test_a_stream_run_hook_is_a_stream_update_hook() -> None:
    redactor = StreamRedactor(r"secret")
    host = host_of(EchoChannel(stream_update_hook=redactor))
    assert host.app is not None


async def test_the_context_holds_the_declared_hooks() -> None:
    def hook(request: Any, **_: Any) -> Any:
        return request

    channel = EchoChannel(run_hook=hook)
    assert host_of(channel).app is not None
    assert channel.context is not None
    assert channel.context.hooks == ChannelHooks(run_hook=hook)


async def test_a_hook_passed_for_a_run_is_checked_too() -> None:
    channel = EchoChannel()
    assert host_of(channel).app is not None
    assert channel.context is not None
    strip: Any = "strip"
    with pytest.raises(TypeError, match="run_hook of the run must be callable"):
        await channel.context.run(echo_turn("hi", "k"), run_hook=strip)
