"""The web chat page: one HTML page, its script and its style, shipped in the package.

The page loads nothing from anywhere but the host: its script and style are served
under the channel's path, and its Content-Security-Policy lets it run no other script,
load no other style and connect nowhere else. It speaks AG-UI to the channel's endpoint.
"""

from __future__ import annotations

import html
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["WebChatPage"]

_ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "content-security-policy": _POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


def _asset(name: str) -> bytes:
    return files("agent_framework_hosting_ag_ui").joinpath("web", name).read_bytes()


class WebChatPage:
    """The page for one endpoint: the HTML names the endpoint, the assets are served beside it."""

    def __init__(self, *, endpoint: str, title: str) -> None:
        self._endpoint = "/" + endpoint.strip("/")
        self._title = title
        self._html = _asset("index.html").decode()
        self._assets = {name: _asset(name) for name in _ASSETS}

    def asset_routes(self, prefix: str) -> list[Route]:
        """A route per asset under ``prefix`` (of the channel's path)."""
        return [Route(f"{prefix}/{name}", self._serve_asset, methods=["GET"]) for name in _ASSETS]

    async def serve(self, request: Request) -> Response:
        """The page, naming the endpoint the script talks to (under the app's root path)."""
        endpoint = request.scope.get("root_path", "") + self._endpoint
        page = self._html.replace("{{endpoint}}", html.escape(endpoint)).replace(
            "{{title}}", html.escape(self._title)
        )
        return Response(page, media_type="text/html; charset=utf-8", headers=_HEADERS)

    async def _serve_asset(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        return Response(self._assets[name], media_type=_ASSETS[name], headers=_HEADERS)
