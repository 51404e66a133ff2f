"""The Models API: the host's target, listed as the one model it serves."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._errors import error_response
from ._identify import Identify

__all__ = ["model_routes"]

OWNER = "agent-framework-hosting"
"""``owned_by`` of the listed model."""


def model_routes(model_id: str, identify: Identify) -> list[Route]:
    """``GET /`` lists ``model_id`` in the OpenAI list shape; ``GET /{id}`` retrieves it.

    Any model id is accepted by ``POST /responses`` (and echoed); listing the target's
    name gives tools that pick a model from the list something to pick. Callers are
    authenticated (``identify``) like the channel's other routes.
    """
    model = {"id": model_id, "object": "model", "created": int(time.time()), "owned_by": OWNER}

    async def list_models(request: Request) -> Response:
        await identify(request)
        return JSONResponse({"object": "list", "data": [model]})

    async def retrieve_model(request: Request) -> Response:
        await identify(request)
        requested = request.path_params["model_id"]
        if requested != model_id:
            message = f"The model '{requested}' does not exist."
            return error_response(404, message, param="model", code="model_not_found")
        return JSONResponse(model)

    return [
        Route("/", list_models, methods=["GET"]),
        Route("/{model_id}", retrieve_model, methods=["GET"]),
    ]
