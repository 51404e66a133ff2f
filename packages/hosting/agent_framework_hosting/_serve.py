"""Running the app under Hypercorn (the ``serve`` extra)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp

__all__ = ["serve_app"]

SERVE_EXTRA_HINT = "hypercorn is not installed: pip install 'agent-framework-hosting[serve]'"


def serve_app(app: ASGIApp, *, host: str, port: int, workers: int, **config: Any) -> None:
    """Serve ``app`` on ``host:port`` until interrupted."""
    try:
        from hypercorn.asyncio import serve  # pyright: ignore[reportUnknownVariableType]
        from hypercorn.config import Config
    except ImportError as exc:
        raise RuntimeError(SERVE_EXTRA_HINT) from exc
    if workers != 1:
        raise ValueError(
            "serve() runs one worker process; for more, run the app under an ASGI server "
            "such as `hypercorn module:app --workers N` with a shared state backend"
        )
    hypercorn_config = Config()
    hypercorn_config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    for key, value in config.items():
        if not hasattr(hypercorn_config, key):
            raise TypeError(f"Unknown Hypercorn setting {key!r}")
        setattr(hypercorn_config, key, value)
    asyncio.run(serve(app, hypercorn_config))  # pyright: ignore[reportArgumentType]
