"""A real HTTP server on a loopback port, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from types import TracebackType

from starlette.types import ASGIApp

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """Serves an ASGI app with Hypercorn on ``127.0.0.1`` in a background thread.

    The socket is bound before the server starts, so ``base_url`` is valid as soon as the
    ``with`` block is entered. Leaving the block shuts the app down (lifespan included)
    and joins the thread.
    """

    def __init__(self, app: ASGIApp, *, startup_timeout: float = 10.0) -> None:
        self.app = app
        self._startup_timeout = startup_timeout
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(1024)
        self.port: int = self._socket.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="loopback-server", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        """Start serving and wait until the app's startup has completed."""
        self._thread.start()
        if not self._started.wait(self._startup_timeout):
            raise TimeoutError("The server did not start in time")
        if self._error is not None:
            error, self._error = self._error, None
            self._socket.close()
            raise RuntimeError(f"The server failed to start: {error}") from error
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self._socket.close()
        error, self._error = self._error, None
        if error is not None:
            raise RuntimeError(f"The server failed: {error}") from error

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
        finally:
            self._started.set()

    async def _serve(self) -> None:
        from hypercorn.asyncio import serve  # pyright: ignore[reportUnknownVariableType]
        from hypercorn.config import Config

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = Config()
        # Hypercorn closes the descriptor it serves; give it its own duplicate.
        config.bind = [f"fd://{os.dup(self._socket.fileno())}"]
        config.accesslog = None
        config.errorlog = None
        config.graceful_timeout = 1.0
        server = asyncio.ensure_future(
            serve(self.app, config, shutdown_trigger=self._stop.wait)  # pyright: ignore[reportArgumentType]
        )
        await _wait_until_accepting(self.port, server)
        self._started.set()
        await server


async def _wait_until_accepting(port: int, server: asyncio.Future[None]) -> None:
    """Return once the server answers HTTP (its lifespan startup has finished by then)."""
    probe = asyncio.ensure_future(_http_probe(port))
    done, _pending = await asyncio.wait({probe, server}, return_when=asyncio.FIRST_COMPLETED)
    if server in done:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await probe  # let the probe close its connection
        server.result()
        raise RuntimeError("The server stopped during startup")
    probe.result()


async def _http_probe(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /readiness HTTP/1.1\r\nhost: probe\r\nconnection: close\r\n\r\n")
        await writer.drain()
        await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
