"""Running the app under Hypercorn (the ``serve`` extra)."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["serve_app"]

SERVE_EXTRA_HINT = "hypercorn is not installed: pip install 'agent-framework-hosting[serve]'"

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s'
"""One line per request: client address, request line, status, response size."""


def serve_app(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    workers: int,
    title: str = "",
    paths: Sequence[tuple[str, str | None]] = (),
    access_log: bool = True,
    **config: Any,
) -> None:
    """Serve ``app`` on ``host:port`` until interrupted.

    Once the app has started, prints ``title`` with the base URL, then a line per
    ``(label, path)`` in ``paths`` with its URL (``None``: it serves no path). With
    ``access_log``, each request is a line on standard output.

    Raises:
        RuntimeError: Hypercorn is not installed.
        ValueError: ``workers`` is not 1.
        TypeError: A keyword is not a Hypercorn setting.
        SystemExit: The address cannot be listened on (the port is in use, say): one line
            naming it, no traceback.

    """
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
    hypercorn_config.loglevel = "WARNING"  # the lines below say where it runs
    if access_log:
        hypercorn_config.accesslog = _access_logger()
        hypercorn_config.access_log_format = ACCESS_LOG_FORMAT
    for key, value in config.items():
        if not hasattr(hypercorn_config, key):
            raise TypeError(f"Unknown Hypercorn setting {key!r}")
        setattr(hypercorn_config, key, value)
    scheme = "https" if hypercorn_config.ssl_enabled else "http"
    if "bind" in config:
        base_url = f"{scheme}://{hypercorn_config.bind[0]}"
    else:
        listening = listen(host, port)
        base_url = f"{scheme}://{_url_host(host)}:{listening.getsockname()[1]}"
        # Hypercorn serves the descriptor, and closes it when done.
        hypercorn_config.bind = [f"fd://{listening.detach()}"]
    lines = [f"{title} on {base_url} (Ctrl+C to stop)".lstrip()]
    width = max((len(label) for label, _ in paths), default=0)
    lines.extend(
        f"  {label:<{width}}  {'(no HTTP path)' if path is None else base_url + path}"
        for label, path in paths
    )
    asyncio.run(serve(_announcing(app, lines), hypercorn_config))  # pyright: ignore[reportArgumentType]


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening.

    Raises:
        SystemExit: The address cannot be listened on; the message is one line naming it
            and what to do.

    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        where = f"{_url_host(host)}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"Port {port} is already in use ({where}): stop what is listening there, "
                "or serve on another port."
            ) from None
        raise SystemExit(f"Cannot listen on {where}: {exc.strerror or exc}.") from None
    return sock


def _announcing(app: ASGIApp, lines: list[str]) -> ASGIApp:
    """``app``, printing ``lines`` once its lifespan startup has completed."""

    async def announcing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_and_announce(message: Message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                print("\n".join(lines), flush=True)

        await app(scope, receive, send_and_announce)

    return announcing


def _access_logger() -> logging.Logger:
    """Request lines on standard output, as they are."""
    logger = logging.getLogger("agent_framework.hosting.access")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
