"""What the stores that live on this machine share: one-step turns made of two steps.

A network store does a lease with its read, or a write with its lease's release, in one
round trip; a store in this process or on this machine has no round trip to save, and
does the two steps one after the other.
"""

from __future__ import annotations

from typing import Any

from ._protocol import Lease

__all__ = ["LocalSteps"]


class LocalSteps:
    """``acquire(read=...)`` and ``write(release=...)`` over a store's own two steps."""

    async def acquire(
        self, key: str, *, ttl: float, wait: float = 0.0, read: str | None = None
    ) -> Lease | None:
        """Take the lease of ``key`` (then read ``read`` under it), waiting up to ``wait``."""
        lease = await self._acquire(key, ttl=ttl, wait=wait)
        if lease is None or read is None:
            return lease
        return Lease(lease.key, lease.token, read=await self.read(read))

    async def write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None = None,
        fence: Lease | None = None,
        release: bool = False,
    ) -> int | None:
        """Store ``value`` if ``key`` is still at ``version``; the new version.

        With ``release``, ``fence`` is given up afterwards, written or not.
        """
        try:
            return await self._write(key, value, version=version, ttl=ttl, fence=fence)
        finally:
            if release and fence is not None:
                await self.release(fence)

    async def _acquire(self, key: str, *, ttl: float, wait: float) -> Lease | None:
        raise NotImplementedError

    async def _write(
        self,
        key: str,
        value: Any,
        *,
        version: int | None,
        ttl: float | None,
        fence: Lease | None,
    ) -> int | None:
        raise NotImplementedError

    async def read(self, key: str) -> Any:
        raise NotImplementedError

    async def release(self, lease: Lease) -> None:
        raise NotImplementedError
