"""`Identify`: how each route of the channel learns who calls, before it does anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

from agent_framework_hosting import Caller
from starlette.requests import HTTPConnection

__all__ = ["Identify"]

Identify: TypeAlias = Callable[[HTTPConnection], Awaitable[Caller]]
"""Authenticates a request (or a WebSocket handshake): the caller, whose partition holds
everything it creates or reaches. Raises ``AuthenticationFailed`` or ``PermissionDenied``
for a refused caller, which the host answers in the channel's error shape.
"""
