"""Test support: an offline chat client and workflow, a loopback server, the conformance kit.

The kit needs ``pytest`` and ``httpx``, and the server needs the ``serve`` extra; they are
imported only when used, so importing :class:`OfflineChatClient` needs neither.
"""

from typing import TYPE_CHECKING, Any

from ._offline_client import OfflineChatClient
from ._review_workflow import ReviewRequest, review_workflow

if TYPE_CHECKING:
    from ._conformance import ChannelConformanceTests, ChannelHooks, ChannelReply, RunningHost
    from ._processes import HostProcess, asgi_workers, host_process
    from ._server import LoopbackServer
    from ._state_conformance import SharedStateStoreConformanceTests, StateStoreConformanceTests

__all__ = [
    "ChannelConformanceTests",
    "ChannelHooks",
    "ChannelReply",
    "HostProcess",
    "LoopbackServer",
    "OfflineChatClient",
    "ReviewRequest",
    "RunningHost",
    "SharedStateStoreConformanceTests",
    "StateStoreConformanceTests",
    "asgi_workers",
    "host_process",
    "review_workflow",
]

_LAZY = {
    "ChannelConformanceTests": "._conformance",
    "ChannelHooks": "._conformance",
    "ChannelReply": "._conformance",
    "RunningHost": "._conformance",
    "HostProcess": "._processes",
    "LoopbackServer": "._server",
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
