"""Isolation keys from a trusted front end, carried in the run's request context."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "ISOLATION_HEADER_CHAT",
    "ISOLATION_HEADER_USER",
    "TRUSTED_PLATFORM_ENV",
    "IsolationHeadersMiddleware",
    "IsolationKeys",
    "get_current_isolation_keys",
    "isolation_keys_from_headers",
    "reset_current_isolation_keys",
    "set_current_isolation_keys",
    "trusted_platform_detected",
]

ISOLATION_HEADER_USER = "x-agent-user-isolation-key"
ISOLATION_HEADER_CHAT = "x-agent-chat-isolation-key"
TRUSTED_PLATFORM_ENV = "FOUNDRY_HOSTING_ENVIRONMENT"
"""When this variable is set, a hosting platform in front of the app sets the headers."""


@dataclass(frozen=True, slots=True)
class IsolationKeys:
    """The user and chat partition keys a trusted front end assigned to a request."""

    user_key: str | None = None
    chat_key: str | None = None

    @property
    def is_empty(self) -> bool:
        """Whether neither key is set."""
        return not self.user_key and not self.chat_key

    @property
    def partition(self) -> str:
        """Both keys in one string that no other pair of keys produces.

        Each key is percent-encoded (``:`` and ``%`` included) and the two are joined
        by ``:``, with a trailing empty chat key left out: ``alice``, ``alice:team-1``,
        ``:team-1``. So ``user=a, chat=b:c`` and ``user=a:b, chat=c`` differ, and so do
        a user key and a chat key of the same value.
        """
        user = _component(self.user_key)
        return user if not self.chat_key else f"{user}:{_component(self.chat_key)}"


_current: ContextVar[IsolationKeys | None] = ContextVar(
    "agent_framework_hosting_isolation_keys", default=None
)


def get_current_isolation_keys() -> IsolationKeys | None:
    """Return the isolation keys of the request being handled; ``None`` when none are set.

    A host that trusts the isolation headers sets them for every request it serves
    (custom routes included); a channel's run sets those it passes in
    ``ChannelRequest.attributes`` around the run's steps.
    """
    return _current.get()


def set_current_isolation_keys(keys: IsolationKeys | None) -> Token[IsolationKeys | None]:
    """Set the isolation keys for the current context; pass the token to reset them."""
    return _current.set(keys)


def reset_current_isolation_keys(token: Token[IsolationKeys | None]) -> None:
    """Restore the isolation keys that were current before :func:`set_current_isolation_keys`."""
    _current.reset(token)


def _component(key: str | None) -> str:
    return quote(key, safe="") if key else ""


def trusted_platform_detected() -> bool:
    """Whether the process runs behind the hosting platform that sets the headers."""
    return bool(os.environ.get(TRUSTED_PLATFORM_ENV))


def isolation_keys_from_headers(headers: Mapping[str, str]) -> IsolationKeys:
    """Read the isolation headers (the caller decides whether they are trusted)."""
    return IsolationKeys(
        user_key=headers.get(ISOLATION_HEADER_USER) or None,
        chat_key=headers.get(ISOLATION_HEADER_CHAT) or None,
    )


class IsolationHeadersMiddleware:
    """Makes a trusted front end's isolation headers current for each request they come with.

    Installed only on a host that trusts the headers; the keys are set for the request's
    whole handling (any route's), and reset after it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        keys = isolation_keys_from_headers(Headers(scope=scope))
        if keys.is_empty:
            await self.app(scope, receive, send)
            return
        token = set_current_isolation_keys(keys)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_current_isolation_keys(token)
