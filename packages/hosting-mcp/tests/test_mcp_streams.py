"""Progress, cancellation and resumed streams of the MCP channel, through the SDK's client."""

from __future__ import annotations

import asyncio
import contextlib

import anyio
from agent_framework import AgentResponseUpdate
from mcp_harness import connect, offline_agent, serving, text_of

REPLY_WORDS = "Echo: " + " ".join(f"w{n}" for n in range(1, 21))
"""A message whose echo streams as 20 updates of one word or so each."""


class Progress:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.messages: list[str] = []
        self.first = anyio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.values.append(progress)
        self.messages.append(message or "")
        self.first.set()


async def test_streamed_updates_arrive_as_progress_notifications_before_the_result() -> None:
    progress = Progress()
    agent = offline_agent(chunks=20)
    async with serving(agent, progress_interval=0) as served, connect(served.url) as session:
        message = " ".join(f"w{n}" for n in range(1, 21))
        result = await session.call_tool("helper", {"message": message}, progress_callback=progress)
    assert len(progress.values) == 20
    assert progress.values == sorted(set(progress.values))
    assert "".join(progress.messages) == text_of(result)


async def test_progress_notifications_are_bounded_in_rate_and_lose_no_text() -> None:
    progress = Progress()
    agent = offline_agent(chunk_chars=1)
    async with serving(agent, progress_interval=3600) as served, connect(served.url) as session:
        result = await session.call_tool(
            "helper", {"message": "many pieces"}, progress_callback=progress
        )
    # The first piece goes at once; the rest waits for the interval, then for the end.
    assert len(progress.values) == 2
    assert "".join(progress.messages) == text_of(result)


async def test_cancelling_a_call_stops_its_run() -> None:
    updates: list[str] = []

    def record(update: AgentResponseUpdate) -> AgentResponseUpdate:
        updates.append(update.text)
        return update

    progress = Progress()
    agent = offline_agent(chunks=20, delay=0.2)
    async with (
        serving(agent, stream_update_hook=record) as served,
        connect(served.url) as session,
    ):
        async with anyio.create_task_group() as group:

            async def call() -> None:
                await session.call_tool(
                    "helper", {"message": REPLY_WORDS}, progress_callback=progress
                )

            group.start_soon(call)
            await progress.first.wait()
            group.cancel_scope.cancel()
        # The next call waits for the conversation; it gets it once the run has stopped.
        after = await session.call_tool("helper", {"message": "next"})
        streamed_before_next = len(updates)
    assert text_of(after).startswith("Echo: next")
    assert 1 <= streamed_before_next < 20


async def test_a_dropped_stream_resumes_with_last_event_id_losing_and_repeating_nothing() -> None:
    progress = Progress()
    agent = offline_agent(chunks=20, delay=0.05)
    async with (
        serving(agent, progress_interval=0, reconnect_delay=0) as served,
        CuttingProxy(served.server.port, after=3) as proxy,
        connect(proxy.url + "/mcp") as session,
    ):
        result = await session.call_tool(
            "helper", {"message": REPLY_WORDS[6:]}, progress_callback=progress
        )
        assert proxy.cut
        assert proxy.resumed_with_last_event_id
    assert progress.values == [float(n) for n in range(1, 21)]
    assert "".join(progress.messages) == text_of(result)


class CuttingProxy:
    """A TCP proxy that cuts the first answer stream once it has carried ``after`` progress
    notifications, and notes whether the client came back with ``Last-Event-ID``."""

    def __init__(self, port: int, *, after: int) -> None:
        self._port = port
        self._after = after
        self.cut = False
        self.resumed_with_last_event_id = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._port)
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer, upward=True),
                self._pipe(upstream_reader, writer, upward=False),
            )
        except (ConnectionError, _Cut):
            pass
        finally:
            for end in (writer, upstream_writer):
                end.close()
            self._tasks.discard(task)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, upward: bool
    ) -> None:
        seen = 0
        while data := await source.read(65536):
            if upward and b"last-event-id:" in data.lower():
                self.resumed_with_last_event_id = True
            if not upward and not self.cut:
                seen += data.count(b"notifications/progress")
                if seen >= self._after:
                    # Forward up to the end of the notification that reached the count.
                    end = _after_nth(
                        data,
                        b"notifications/progress",
                        self._after - (seen - data.count(b"notifications/progress")),
                    )
                    sink.write(data[:end])
                    await sink.drain()
                    self.cut = True
                    raise _Cut
            sink.write(data)
            with contextlib.suppress(ConnectionError):
                await sink.drain()


class _Cut(Exception):
    pass


def _after_nth(data: bytes, needle: bytes, n: int) -> int:
    """The index just past the end of the line holding the ``n``-th ``needle``."""
    position = -1
    for _ in range(n):
        position = data.index(needle, position + 1)
    line_end = data.find(b"\n", position)
    return len(data) if line_end < 0 else line_end + 1
