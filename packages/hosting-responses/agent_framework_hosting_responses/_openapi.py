"""The channel's OpenAPI document: the endpoints it serves, at the paths it is mounted at.

The document ships with the package (``openapi.json``) and names the default paths,
``/responses`` and ``/conversations``; the channel serves it at ``{path}/openapi.json``
with the paths it is mounted at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from agent_framework_hosting import encode_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["openapi_document", "openapi_route"]

_DEFAULT_PATHS: tuple[str, ...] = ("/responses", "/conversations")


@cache
def _packaged() -> str:
    return files("agent_framework_hosting_responses").joinpath("openapi.json").read_text("utf-8")


def openapi_document(path: str, conversations_path: str) -> dict[str, Any]:
    """The document, its paths moved under ``path`` and ``conversations_path``."""
    document: dict[str, Any] = json.loads(_packaged())
    mounts = dict(zip(_DEFAULT_PATHS, (path, conversations_path), strict=True))
    document["paths"] = {
        _moved(key, mounts): operations for key, operations in document["paths"].items()
    }
    return document


def _moved(key: str, mounts: Mapping[str, str]) -> str:
    for default, actual in mounts.items():
        if key == default or key.startswith(default + "/"):
            prefix = "/" + actual.strip("/") if actual.strip("/") else ""
            return prefix + key[len(default) :] or "/"
    return key


def openapi_route(path: str, conversations_path: str) -> Route:
    """``GET /openapi.json`` under the channel's path: the document, encoded once."""
    body = encode_json(openapi_document(path, conversations_path))

    async def openapi(_request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Route("/openapi.json", openapi, methods=["GET"])
