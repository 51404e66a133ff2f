"""Limits per principal: how many runs one caller may have going at once.

A channel admits each run before it starts it (before it answers anything), and holds
the admission until the run ends: a run a caller waits on (a plain or streamed request,
a WebSocket turn) counts against ``max_concurrent_runs``, a background run, from when it
is queued to when it settles, against ``max_background_runs``. A run past a limit is
refused with :class:`TooManyRuns`, which the host answers ``429`` with ``Retry-After`` in
the channel's error shape. Anonymous callers of an open host are not limited. The
counts are kept in this process.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import TracebackType

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._auth import Principal

__all__ = ["RunAdmission", "RunLimiter", "RunLimits", "TooManyRuns", "released_after"]


@dataclass(frozen=True, slots=True)
class RunLimits:
    """How many runs one principal may have at once (``None``: no limit).

    Attributes:
        max_concurrent_runs: Runs its requests wait on (plain, streamed, WebSocket turns).
        max_background_runs: Background runs queued or running.
        retry_after: The seconds a refused caller is told to wait (``Retry-After``).

    """

    max_concurrent_runs: int | None = None
    max_background_runs: int | None = None
    retry_after: int = 1

    def __post_init__(self) -> None:
        for name in ("max_concurrent_runs", "max_background_runs"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no limit)")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")


class TooManyRuns(Exception):
    """A principal has as many runs going as it may; answered ``429`` with ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class RunLimiter:
    """Counts the runs of each principal against :class:`RunLimits`."""

    def __init__(self, limits: RunLimits | None = None) -> None:
        self.limits = limits or RunLimits()
        self._counts: Counter[tuple[str, bool]] = Counter()

    def admit(self, principal: Principal | None, *, background: bool = False) -> RunAdmission:
        """An admission for one run of ``principal``, taken when entered (or acquired)."""
        return RunAdmission(self, principal, background)

    def take(self, principal: Principal, background: bool) -> None:
        """Count one more run of ``principal``.

        Raises:
            TooManyRuns: The principal is at its limit.

        """
        limit = self.limits.max_background_runs if background else self.limits.max_concurrent_runs
        slot = (principal.partition, background)
        if limit is not None and self._counts[slot] >= limit:
            kind = "background runs" if background else "runs at once"
            raise TooManyRuns(
                f"This caller already has {limit} {kind}: retry once one has ended.",
                retry_after=self.limits.retry_after,
            )
        self._counts[slot] += 1

    def give_back(self, principal: Principal, background: bool) -> None:
        """Count one run of ``principal`` less."""
        slot = (principal.partition, background)
        self._counts[slot] -= 1
        if self._counts[slot] <= 0:
            del self._counts[slot]


class RunAdmission:
    """One run's place within its principal's limits; ``async with`` it, or acquire and release.

    Releasing is idempotent, so whoever ends the run (its task, a cancellation) may.
    """

    __slots__ = ("_background", "_held", "_limiter", "_principal")

    def __init__(self, limiter: RunLimiter, principal: Principal | None, background: bool) -> None:
        self._limiter = limiter
        self._principal = principal
        self._background = background
        self._held = False

    async def acquire(self) -> RunAdmission:
        """Take the place.

        Raises:
            TooManyRuns: The principal is at its limit.

        """
        if self._principal is not None and not self._held:
            self._limiter.take(self._principal, self._background)
            self._held = True
        return self

    async def release(self) -> None:
        """Give the place back (once)."""
        if self._held and self._principal is not None:
            self._held = False
            self._limiter.give_back(self._principal, self._background)

    async def __aenter__(self) -> RunAdmission:
        return await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()


def released_after(response: Response, admission: RunAdmission) -> Response:
    """``response``, giving ``admission`` back once it has been sent (or its client left).

    For a streamed answer whose run goes on after the route has returned: the admission
    is given back even when the stream never starts.
    """
    return _ReleasingResponse(response, admission)


class _ReleasingResponse(Response):
    """A response that sends another, then releases an admission, whatever happened."""

    def __init__(self, response: Response, admission: RunAdmission) -> None:
        # Same status, headers and body: the host may still add headers to either.
        self.__dict__.update(response.__dict__)
        self._response = response
        self._admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._response(scope, receive, send)
        finally:
            await self._admission.release()
