"""Static API keys: each key a caller sends as ``Authorization: Bearer <key>`` proves one principal.

Keys are held as SHA-256 digests only, so a key given in plain text is not kept in
memory after construction, and a key file may hold digests instead of keys
(``sha256:<hex>``, see :func:`hash_api_key`). A presented key is hashed and compared
with every known digest in constant time, so how long an answer takes says nothing of
which key came closest.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from starlette.requests import HTTPConnection

from ._auth import AuthenticationFailed, Principal, bearer_token

__all__ = ["ApiKeyAuthenticator", "hash_api_key"]

_DIGEST_PREFIX = "sha256:"


def hash_api_key(key: str) -> str:
    """The form of ``key`` to keep at rest: ``sha256:<hex digest>``."""
    return _DIGEST_PREFIX + hashlib.sha256(key.encode()).hexdigest()


class ApiKeyAuthenticator:
    """Proves callers by static API keys sent as bearer tokens.

    Args:
        keys: Each key (or its :func:`hash_api_key` digest) and the principal it proves,
            or just that principal's subject.
        challenge: The ``WWW-Authenticate`` value of a ``401``.

    Raises:
        ValueError: There are no keys, a key is empty, or a digest is malformed.

    """

    def __init__(
        self, keys: Mapping[str, Principal | str], *, challenge: str = 'Bearer realm="api"'
    ) -> None:
        if not keys:
            raise ValueError("ApiKeyAuthenticator needs at least one key")
        self.challenge = challenge
        self._digests: list[tuple[bytes, Principal]] = [
            (_digest_of(key), value if isinstance(value, Principal) else Principal(value))
            for key, value in keys.items()
        ]

    @classmethod
    def from_env(cls, variable: str, **options: str) -> ApiKeyAuthenticator:
        """Keys from an environment variable: ``key1=alice,key2=bob``.

        Raises:
            ValueError: The variable is unset or empty, or an entry is not ``key=subject``.

        """
        text = os.environ.get(variable, "")
        if not text.strip():
            raise ValueError(f"{variable} is not set: give it as key1=alice,key2=bob")
        return cls(_parse(text.split(","), variable), **options)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: str) -> ApiKeyAuthenticator:
        """Keys from a file: one ``key=subject`` (or ``sha256:<hex>=subject``) a line.

        Blank lines and lines starting with ``#`` are skipped.

        Raises:
            ValueError: The file holds no key, or a line is not ``key=subject``.

        """
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return cls(_parse(kept, str(path)), **options)

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The principal of the request's bearer key; ``None`` without one.

        Raises:
            AuthenticationFailed: The key is not one of the known keys.

        """
        token = bearer_token(connection)
        if token is None:
            return None
        presented = hashlib.sha256(token.encode()).digest()
        found: Principal | None = None
        for digest, principal in self._digests:  # every digest compared: constant time
            if hmac.compare_digest(presented, digest):
                found = principal
        if found is None:
            raise AuthenticationFailed("Incorrect API key provided.", challenge=self.challenge)
        return found


def _digest_of(key: str) -> bytes:
    if key.startswith(_DIGEST_PREFIX):
        try:
            digest = bytes.fromhex(key.removeprefix(_DIGEST_PREFIX))
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise ValueError("A hashed key must be sha256: and 64 hex digits")
        return digest
    if not key:
        raise ValueError("An API key must not be empty")
    return hashlib.sha256(key.encode()).digest()


def _parse(entries: Iterable[str], source: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for entry in entries:
        key, equals, subject = entry.strip().rpartition("=")
        if not equals or not key or not subject:
            raise ValueError(f"{source}: each entry must be key=subject")
        keys[key] = subject
    return keys
