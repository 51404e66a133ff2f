"""The host's index: what its app serves, listed at ``GET /`` and ``GET /index.json``."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._targets import TargetInfo

__all__ = ["index_routes"]


def index_routes(
    target: TargetInfo, channels: Sequence[str], paths: Sequence[tuple[str, str]]
) -> list[Route]:
    """``GET /`` and ``GET /index.json``: the target, and each channel with its paths.

    ``paths`` are ``(channel name, path)`` pairs in the order they were mounted. The
    routes go after every channel's, so a channel serving ``/`` itself (a web page)
    keeps it, and the index stays at ``/index.json``.
    """
    served: dict[str, list[str]] = {name: [] for name in channels}
    for name, path in paths:
        served[name].append(path)
    body = {
        "target": {"kind": target.kind, "name": target.name},
        "channels": [{"name": name, "paths": under} for name, under in served.items()],
        "readiness": "/readiness",
    }

    async def index(_request: Request) -> JSONResponse:
        return JSONResponse(body)

    return [Route("/", index, methods=["GET"]), Route("/index.json", index, methods=["GET"])]
