"""Who is calling: the authenticator contract, the principal it proves, and the partition it owns.

An :class:`Authenticator` reads a request's credentials (its headers, its scope) and
returns the :class:`Principal` they prove, or ``None`` when the request carries none; it
raises :class:`AuthenticationFailed` for credentials that prove nothing (a wrong key, an
expired token) and :class:`PermissionDenied` for a principal that may not do what it
asks. The host holds one for every channel (``AgentFrameworkHost(auth=...)``); a channel
may hold its own. A channel asks :meth:`ChannelContext.authenticate` before it does
anything for a caller, and answers a refusal in its protocol's shape (``401`` with
``WWW-Authenticate``, ``403``).

The principal is the outer partition of everything the caller creates: sessions, stored
objects, runs. :func:`partition_key` encodes it together with the isolation keys a
trusted front end set, so that no two callers share a key.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable
from urllib.parse import quote

from starlette.requests import HTTPConnection

from ._isolation import IsolationKeys

__all__ = [
    "AuthenticationFailed",
    "Authenticator",
    "CallableAuthenticator",
    "Caller",
    "PermissionDenied",
    "Principal",
    "bearer_token",
    "partition_key",
    "require_scopes",
]


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller the host has proven: a stable subject, its tenant, what it may do.

    Attributes:
        subject: A stable id of the caller (an API key's owner, a token's ``sub``).
        tenant: The organization the subject belongs to, when there are several.
        scopes: What the caller may do (a token's ``scope``), checked by channels and
            hooks that require one.
        claims: Everything else the credentials said (a token's claims), for hooks.

    """

    subject: str
    tenant: str | None = None
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict[str, Any])

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("A principal needs a non-empty subject")

    @property
    def partition(self) -> str:
        """Tenant and subject in one string no other principal produces.

        Each part is percent-encoded and the two joined by ``/``: ``alice``,
        ``acme/alice``. A subject alone never contains a raw ``/``.
        """
        subject = quote(self.subject, safe="")
        return subject if self.tenant is None else f"{quote(self.tenant, safe='')}/{subject}"


class AuthenticationFailed(Exception):
    """The request's credentials are missing or prove nothing; answered ``401``.

    ``challenge`` is the ``WWW-Authenticate`` value that tells the caller what to send.
    The message is for the caller: it never says which part of a credential was wrong.
    """

    def __init__(
        self,
        message: str = "Missing or invalid credentials.",
        *,
        challenge: str = "Bearer",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.challenge = challenge


class PermissionDenied(Exception):
    """The principal is proven but may not do what it asks; answered ``403``."""

    def __init__(self, message: str = "The caller may not do this.") -> None:
        super().__init__(message)
        self.message = message


@runtime_checkable
class Authenticator(Protocol):
    """Proves who is calling from a request's credentials."""

    challenge: str
    """The ``WWW-Authenticate`` value of a ``401`` (``Bearer``, ``Bearer realm="x"``)."""

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The principal the request's credentials prove; ``None`` when it carries none.

        Raises:
            AuthenticationFailed: The credentials are present but prove nothing.
            PermissionDenied: The principal may not use this channel.

        """
        ...


def partition_key(principal: Principal | None, keys: IsolationKeys) -> str | None:
    """The partition of a caller: its principal, then the isolation keys it was given.

    ``None`` when there is neither (an anonymous caller of an open host: each request
    stands alone). With a principal the key starts with ``@`` and its partition, then,
    when a trusted front end also set isolation keys, ``|`` and their partition; without
    one it is the isolation keys' partition. Every part is percent-encoded, so no two
    different callers get the same key, and a principal never shares one with a caller
    known only by its isolation keys.
    """
    if principal is None:
        return keys.partition or None
    inner = keys.partition
    return f"@{principal.partition}" + (f"|{inner}" if inner else "")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as a channel partitions by it.

    Attributes:
        principal: The principal the request's credentials proved; ``None`` on an open
            host (or for a channel that authenticates by its own means).
        keys: The isolation keys a trusted front end set (empty when the host does not
            trust the headers).

    """

    principal: Principal | None = None
    keys: IsolationKeys = field(default_factory=IsolationKeys)

    @property
    def partition(self) -> str | None:
        """The caller's partition (see :func:`partition_key`); ``None`` for nobody's."""
        return partition_key(self.principal, self.keys)


def require_scopes(principal: Principal, scopes: Collection[str]) -> None:
    """Refuse ``principal`` unless it holds every one of ``scopes``.

    Raises:
        PermissionDenied: A scope is missing; the message names the missing ones.

    """
    missing = sorted(set(scopes) - principal.scopes)
    if missing:
        raise PermissionDenied(f"This needs the scope(s): {', '.join(missing)}.")


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


AuthenticateCallable: TypeAlias = Callable[
    [HTTPConnection], "Principal | Awaitable[Principal | None] | None"
]
"""``check(connection) -> Principal | None`` (sync or async), as :class:`Authenticator`."""


class CallableAuthenticator:
    """An :class:`Authenticator` from a function: an app's own session cookie, a proxy's header.

    Args:
        check: Returns the principal the request proves, ``None`` when it carries no
            credentials; raises :class:`AuthenticationFailed` for credentials that prove
            nothing. May be sync or async.
        challenge: The ``WWW-Authenticate`` value of a ``401``.

    """

    def __init__(self, check: AuthenticateCallable, *, challenge: str = "Bearer") -> None:
        self._check = check
        self.challenge = challenge

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The principal ``check`` returns for ``connection``."""
        principal = self._check(connection)
        if inspect.isawaitable(principal):
            principal = await principal
        if principal is not None and not isinstance(principal, Principal):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"An authenticator must return a Principal or None, got {principal!r}")
        return principal
