"""Test support: an offline chat client and workflow, a loopback server, the conformance kit.

The kit needs ``pytest`` and ``httpx``, the server the ``serve`` extra and the bad-input
strategies ``hypothesis``; they are imported only when used, so importing
:class:`OfflineChatClient` needs none of them.
"""

from typing import TYPE_CHECKING, Any

from ._offline_client import OfflineChatClient
from ._review_workflow import ReviewRequest, review_workflow

if TYPE_CHECKING:
    from ._bad_input import (
        BAD_INPUT_PROFILE,
        header_text,
        json_values,
        not_utf8,
        odd_text,
        path_segment,
        unsendable_json,
        url_text,
    )
    from ._conformance import ChannelConformanceTests, ChannelHooks, ChannelReply, RunningHost
    from ._processes import HostProcess, asgi_workers, host_process
    from ._server import LoopbackServer
    from ._sse import ServerSentEvent, server_sent_events
    from ._state_conformance import SharedStateStoreConformanceTests, StateStoreConformanceTests

__all__ = [
    "BAD_INPUT_PROFILE",
    "ChannelConformanceTests",
    "ChannelHooks",
    "ChannelReply",
    "HostProcess",
    "LoopbackServer",
    "OfflineChatClient",
    "ReviewRequest",
    "RunningHost",
    "ServerSentEvent",
    "SharedStateStoreConformanceTests",
    "StateStoreConformanceTests",
    "asgi_workers",
    "header_text",
    "host_process",
    "json_values",
    "not_utf8",
    "odd_text",
    "path_segment",
    "review_workflow",
    "server_sent_events",
    "unsendable_json",
    "url_text",
]

_LAZY = {
    "BAD_INPUT_PROFILE": "._bad_input",
    "header_text": "._bad_input",
    "json_values": "._bad_input",
    "not_utf8": "._bad_input",
    "odd_text": "._bad_input",
    "path_segment": "._bad_input",
    "unsendable_json": "._bad_input",
    "url_text": "._bad_input",
    "ChannelConformanceTests": "._conformance",
    "ChannelHooks": "._conformance",
    "ChannelReply": "._conformance",
    "RunningHost": "._conformance",
    "HostProcess": "._processes",
    "LoopbackServer": "._server",
    "ServerSentEvent": "._sse",
    "server_sent_events": "._sse",
    "asgi_workers": "._processes",
    "host_process": "._processes",
    "SharedStateStoreConformanceTests": "._state_conformance",
    "StateStoreConformanceTests": "._state_conformance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
