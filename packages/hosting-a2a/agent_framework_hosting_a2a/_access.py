"""Who calls: the caller's proof, partition and protocol version, checked before any method."""

from __future__ import annotations

from a2a.server.context import ServerCallContext
from a2a.utils.constants import VERSION_HEADER
from a2a.utils.errors import VersionNotSupportedError
from agent_framework_hosting import (
    AuthenticationFailed,
    Authenticator,
    ChannelContext,
    PermissionDenied,
    partition_key,
)
from starlette.requests import Request

from ._errors import Forbidden, Unauthenticated
from ._service import caller_context

__all__ = ["Access"]

SUPPORTED_MAJOR = "1"
"""The A2A protocol's major version this channel speaks (the SDK's ``1.0``)."""


class Access:
    """Authenticates a request (the channel's ``auth``, else the host's) and names its caller."""

    def __init__(self, context: ChannelContext, auth: Authenticator | None) -> None:
        self._context = context
        self._auth = auth

    @property
    def authenticator(self) -> Authenticator | None:
        """What proves callers here, or ``None`` when the agent is open."""
        return self._auth or self._context.authenticator

    async def caller(self, request: Request) -> ServerCallContext:
        """The call context of the request's caller.

        Raises:
            Unauthenticated: Authentication is required and the request proves nothing.
            Forbidden: The caller may not use the agent.
            VersionNotSupportedError: ``A2A-Version`` names another major version.

        """
        version = request.headers.get(VERSION_HEADER)
        if version and version.strip().split(".", 1)[0] != SUPPORTED_MAJOR:
            raise VersionNotSupportedError(
                f"A2A version {version!r} is not supported; this agent speaks 1.0."
            )
        try:
            principal = await self._context.authenticate(request, auth=self._auth)
        except AuthenticationFailed as error:
            raise Unauthenticated(error.message, challenge=error.challenge) from None
        except PermissionDenied as error:
            raise Forbidden(error.message) from None
        keys = self._context.isolation_keys(request.headers)
        call = caller_context(partition_key(principal, keys) or "", principal, keys)
        call.state["base_url"] = str(request.base_url)
        return call
