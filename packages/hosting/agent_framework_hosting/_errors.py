"""Errors the host answers itself, in the error shape of the channel that owns the path.

Routing (no route: ``404``; a route without the method: ``405``), an ``HTTPException``
raised by the framework underneath, a caller refused by a channel's route (missing or
invalid credentials: ``401``; a missing scope: ``403``; too many runs: ``429``), and a
request that failed unexpectedly (``500``) are answered by the host, not by a channel's
code. Each channel says how its errors
look (:attr:`ChannelContribution.error_response`); the host answers with the renderer
of the channel whose path, or one of whose mounts, holds the request path (a channel at
the root answers for paths nobody claims), and with its own plain JSON
``{"error": {"code", "message"}}`` where no channel does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, TypeAlias

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope
from starlette.websockets import WebSocket

from ._auth import AuthenticationFailed, PermissionDenied
from ._limits import TooManyRuns
from ._wire import json_response

__all__ = [
    "ErrorShapes",
    "HostError",
    "HostErrorCode",
    "HostErrorRenderer",
    "host_error_response",
]

HostErrorCode: TypeAlias = Literal[
    "not_found",
    "method_not_allowed",
    "request_too_large",
    "invalid_request",
    "unauthorized",
    "forbidden",
    "too_many_requests",
    "server_error",
    "service_unavailable",
]

_CODES: dict[int, HostErrorCode] = {
    401: "unauthorized",
    403: "forbidden",
    429: "too_many_requests",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


@dataclass(frozen=True, slots=True)
class HostError:
    """An error the host answers on a channel's behalf.

    Attributes:
        status: The HTTP status (``401``, ``403``, ``404``, ``405``, ``413``, ``429``,
            another ``4xx``, ``500``).
        code: What went wrong, channel-neutral.
        message: A sentence for the caller; never holds internals.
        method: The request's method.
        path: The request's path.
        headers: Headers the answer must carry (``Allow`` for a ``405``,
            ``WWW-Authenticate`` for a ``401``, ``Retry-After`` for a ``429``); the host
            adds them to whatever the renderer returns.

    """

    status: int
    code: HostErrorCode
    message: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict[str, str])


HostErrorRenderer: TypeAlias = Callable[[HostError], Response]
"""Renders a :class:`HostError` as a channel's protocol shows errors."""


def host_error_response(error: HostError) -> Response:
    """The host's own shape: ``{"error": {"code", "message"}}`` with the error's status."""
    return json_response(
        {"error": {"code": error.code, "message": error.message}}, status_code=error.status
    )


class ErrorShapes:
    """Which renderer answers for a path: the owning channel's, else the host's own."""

    def __init__(self) -> None:
        self._prefixes: list[tuple[str, HostErrorRenderer]] = []
        self._root: HostErrorRenderer = host_error_response

    def claim(self, paths: Iterable[str], renderer: HostErrorRenderer | None) -> None:
        """Answer errors under each of ``paths`` with ``renderer`` (``None``: the host's)."""
        if renderer is None:
            return
        for path in paths:
            stripped = path.strip("/")
            if stripped:
                self._prefixes.append(("/" + stripped, renderer))
            else:
                self._root = renderer
        # Longest first: a nested mount wins over the path it sits in.
        self._prefixes.sort(key=lambda entry: len(entry[0]), reverse=True)

    def renderer_for(self, path: str) -> HostErrorRenderer:
        """The renderer of the channel that owns ``path``."""
        for prefix, renderer in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return renderer
        return self._root

    def respond(self, error: HostError) -> Response:
        """``error`` rendered for its path, carrying its headers."""
        response = self.renderer_for(error.path)(error)
        response.headers.update(error.headers)
        return response

    async def http_exception(self, connection: HTTPConnection, exc: Exception) -> Response:
        """The Starlette handler of ``HTTPException``: routing errors and the framework's."""
        assert isinstance(exc, HTTPException)
        method: str = connection.scope.get("method", "GET")  # a WebSocket handshake is a GET
        path = connection.url.path
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := allowed_methods(connection.scope)):
            # Routing names only the first route at the path; a path can have several.
            headers["Allow"] = ", ".join(allowed)
        return self.respond(
            HostError(
                status=exc.status_code,
                code=_code(exc.status_code),
                message=_message(exc, method, path, headers),
                method=method,
                path=path,
                headers=headers,
            )
        )

    async def caller_refused(self, connection: HTTPConnection, exc: Exception) -> Response | None:
        """The Starlette handler of a refused caller: ``401``, ``403`` or ``429``.

        A WebSocket handshake is refused with the same HTTP answer when the server can
        send one (the ``websocket.http.response`` extension), else closed with ``1008``.
        """
        headers: dict[str, str] = {}
        if isinstance(exc, AuthenticationFailed):
            status, message = 401, exc.message
            headers["WWW-Authenticate"] = exc.challenge
        elif isinstance(exc, PermissionDenied):
            status, message = 403, exc.message
        else:
            assert isinstance(exc, TooManyRuns)
            status, message = 429, exc.message
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(connection, WebSocket) and "websocket.http.response" not in (
            connection.scope.get("extensions") or {}
        ):
            await connection.close(1008, message[:120])
            return None
        method: str = connection.scope.get("method", "GET")
        return self.respond(
            HostError(status, _CODES[status], message, method, connection.url.path, headers)
        )

    def server_error(self, method: str, path: str) -> Response:
        """The ``500`` for a request that failed unexpectedly; its cause is only logged."""
        return self.respond(
            HostError(
                status=500,
                code="server_error",
                message="The server failed to answer this request.",
                method=method,
                path=path,
            )
        )

    def unavailable(self, method: str, path: str, *, retry_after: int = 1) -> Response:
        """The ``503`` for a request the state store could not serve; retry soon."""
        return self.respond(
            HostError(
                status=503,
                code="service_unavailable",
                message="The service's state store cannot be reached; retry shortly.",
                method=method,
                path=path,
                headers={"Retry-After": str(retry_after)},
            )
        )


def _code(status: int) -> HostErrorCode:
    if status >= 500:
        return "server_error"
    return _CODES.get(status, "invalid_request")


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the request's app serves at the request's path, sorted."""
    router = getattr(scope.get("app"), "router", None)
    # Routing has moved the scope into the mount it entered; match from the app's top.
    top = {**scope, "root_path": scope.get("app_root_path", scope.get("root_path", ""))}
    methods: set[str] = set()
    _collect_methods(getattr(router, "routes", ()), top, methods)
    return sorted(methods)


def _collect_methods(routes: Sequence[BaseRoute], scope: Scope, methods: set[str]) -> None:
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Route) and route.methods:
            methods.update(route.methods)
        elif isinstance(route, Mount):
            inner: dict[str, Any] = {**scope, **child}
            _collect_methods(route.routes, inner, methods)


def _message(exc: HTTPException, method: str, path: str, headers: Mapping[str, str]) -> str:
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = "The request failed"
    # Starlette's detail defaults to the status phrase; a handler's own detail is its message.
    if exc.detail and exc.detail != phrase:
        return exc.detail
    if exc.status_code == 404:
        return f"Nothing is served at {method} {path}."
    if exc.status_code == 405:
        return f"{method} is not allowed on {path}; allowed: {headers.get('Allow', '')}."
    return f"{phrase}."
