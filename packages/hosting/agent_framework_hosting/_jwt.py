"""Bearer JWTs: a token signed with a shared secret (HS256) or by a key of a JWKS (RS256, ES256).

Needs the ``jwt`` extra (PyJWT with its crypto backend, and httpx to fetch the JWKS):
``pip install 'agent-framework-hosting[jwt]'``. Nothing else in the host imports this.

What a token must be to prove a principal: signed with an algorithm the authenticator
was configured for, where a secret allows only HMAC algorithms and a JWKS only
asymmetric ones (so a token signed with a public key as an HMAC secret, or ``alg:
none``, proves nothing); by the key its ``kid`` names, of the right type; within its
``exp`` and ``nbf`` (a small leeway either way); of the configured ``iss`` and ``aud``;
with a non-empty subject claim. The JWKS is fetched when first needed, kept for
``jwks_max_age`` seconds, and fetched again early when a token names a ``kid`` it does
not hold (a key rotated in), at most once per ``jwks_min_refresh`` seconds; a key the
fetched set no longer holds is no longer accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from starlette.requests import HTTPConnection

from ._auth import AuthenticationFailed, Principal, bearer_token
from ._wire import decode_json

try:
    import httpx
    import jwt
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "JWTAuthenticator needs the jwt extra: pip install 'agent-framework-hosting[jwt]'"
    ) from error

__all__ = ["JWTAuthenticator"]

logger = logging.getLogger("agent_framework.hosting")

_HMAC = frozenset({"HS256", "HS384", "HS512"})
_ASYMMETRIC = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("ES256", "ES384", "ES512"), "EC"),
}
"""Each asymmetric algorithm and the key type (``kty``) it verifies with."""

MAX_JWKS_BYTES = 256 * 1024
"""The largest JWKS document the authenticator reads."""


class JWTAuthenticator:
    """Proves callers by bearer JWTs.

    Args:
        secret: The shared secret of HMAC-signed tokens (at least 32 bytes).
        jwks_url: Where the signing keys are published (a JWKS), for RSA or EC signed
            tokens. Give exactly one of ``secret`` and ``jwks_url``.
        algorithms: The algorithms a token may be signed with; ``("HS256",)`` with a
            secret, ``("RS256", "ES256")`` with a JWKS by default.
        issuer: The ``iss`` every token must carry.
        audience: The ``aud`` (or one of them) every token must carry.
        subject_claim: The claim that names the principal's subject.
        tenant_claim: The claim that names its tenant, if tokens carry one.
        leeway: Seconds of clock difference allowed on ``exp``, ``nbf`` and ``iat``.
        jwks_max_age: Seconds the fetched JWKS is kept.
        jwks_min_refresh: The least seconds between two fetches (an unknown ``kid``
            fetches again only this long after the last fetch).
        jwks_timeout: Seconds a JWKS fetch may take.
        challenge: The ``WWW-Authenticate`` value of a ``401``.

    Raises:
        ValueError: Not exactly one of ``secret`` and ``jwks_url``, an algorithm the key
            source cannot verify (``none``, an HMAC one with a JWKS, an asymmetric one
            with a secret), or a secret shorter than 32 bytes.

    """

    def __init__(
        self,
        *,
        secret: str | bytes | None = None,
        jwks_url: str | None = None,
        algorithms: Sequence[str] | None = None,
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        subject_claim: str = "sub",
        tenant_claim: str | None = None,
        leeway: float = 30.0,
        jwks_max_age: float = 300.0,
        jwks_min_refresh: float = 30.0,
        jwks_timeout: float = 10.0,
        challenge: str = "Bearer",
    ) -> None:
        if (secret is None) == (jwks_url is None):
            raise ValueError("JWTAuthenticator needs exactly one of secret= and jwks_url=")
        allowed = _HMAC if secret is not None else frozenset(_ASYMMETRIC)
        chosen = tuple(algorithms or (("HS256",) if secret is not None else ("RS256", "ES256")))
        wrong = [name for name in chosen if name not in allowed]
        if wrong or not chosen:
            source = "a shared secret" if secret is not None else "a JWKS"
            raise ValueError(
                f"Algorithms {wrong or chosen} cannot be verified with {source}: "
                f"choose from {', '.join(sorted(allowed))}"
            )
        if isinstance(secret, str):
            secret = secret.encode()
        if secret is not None and len(secret) < 32:
            raise ValueError("An HMAC secret must be at least 32 bytes long")
        self._secret = secret
        self._algorithms = chosen
        self._issuer = issuer
        self._audience = audience
        self._subject_claim = subject_claim
        self._tenant_claim = tenant_claim
        self._leeway = leeway
        self._jwks = (
            None
            if jwks_url is None
            else _KeySet(
                jwks_url, max_age=jwks_max_age, min_refresh=jwks_min_refresh, timeout=jwks_timeout
            )
        )
        self.challenge = challenge

    async def authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The principal of the request's bearer token; ``None`` without one.

        Raises:
            AuthenticationFailed: The token is not one this authenticator accepts.

        """
        token = bearer_token(connection)
        if token is None:
            return None
        try:
            claims = await self._verified_claims(token)
        except jwt.PyJWTError as error:
            logger.debug("A bearer token was refused: %s", error)
            raise AuthenticationFailed("Invalid token.", challenge=self.challenge) from None
        return self._principal(claims)

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")
        key: Any = self._secret
        if self._jwks is not None:
            kid = header.get("kid")
            found = await self._jwks.key(kid if isinstance(kid, str) else None)
            if found is None:
                raise jwt.InvalidKeyError(f"no key {kid!r} in the JWKS")
            if found.key_type != _ASYMMETRIC[algorithm] or found.algorithm not in (
                None,
                algorithm,
            ):
                raise jwt.InvalidKeyError(f"key {kid!r} does not verify {algorithm}")
            key = found.key
        required = ["exp", self._subject_claim]
        required += ["iss"] if self._issuer is not None else []
        required += ["aud"] if self._audience is not None else []
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=self._issuer,
            audience=self._audience,
            leeway=self._leeway,
            options={"require": required},
        )

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims.get(self._subject_claim)
        tenant = claims.get(self._tenant_claim) if self._tenant_claim else None
        if not isinstance(subject, str) or not subject:
            raise AuthenticationFailed("Invalid token.", challenge=self.challenge)
        if tenant is not None and not (isinstance(tenant, str) and tenant):
            raise AuthenticationFailed("Invalid token.", challenge=self.challenge)
        return Principal(subject, tenant, _scopes(claims), dict(claims))


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (space-separated) or ``scp`` (a list, or space-separated)."""
    scopes: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list):
            scopes.update(item for item in cast("list[Any]", value) if isinstance(item, str))
    return frozenset(scopes)


class _Key:
    """One verification key of a JWKS."""

    __slots__ = ("algorithm", "key", "key_type")

    def __init__(self, key: Any, key_type: str, algorithm: str | None) -> None:
        self.key = key
        self.key_type = key_type
        self.algorithm = algorithm


class _KeySet:
    """A JWKS fetched over HTTP, kept for a while, fetched again for an unknown ``kid``."""

    def __init__(self, url: str, *, max_age: float, min_refresh: float, timeout: float) -> None:
        self._url = url
        self._max_age = max_age
        self._min_refresh = min_refresh
        self._timeout = timeout
        self._keys: dict[str | None, _Key] = {}
        self._fetched: float | None = None
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    async def key(self, kid: str | None) -> _Key | None:
        """The key ``kid`` names (without one: the set's only key)."""
        if self._fetched is None or time.monotonic() - self._fetched >= self._max_age:
            await self._refresh(self._fetched)
        found = self._find(kid)
        if found is None and time.monotonic() - (self._fetched or 0.0) >= self._min_refresh:
            await self._refresh(self._fetched)
            found = self._find(kid)
        return found

    def _find(self, kid: str | None) -> _Key | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    async def _refresh(self, seen: float | None) -> None:
        """Fetch the set, unless another caller fetched it since ``seen``."""
        loop = asyncio.get_running_loop()
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            if self._fetched != seen:
                return
            try:
                self._keys = await self._fetch()
            except Exception as error:  # another service's failure must not fail requests
                # Keys fetched before stay in use; the next try waits min_refresh.
                logger.warning("The JWKS at %s could not be fetched: %s", self._url, error)
            self._fetched = time.monotonic()

    async def _fetch(self) -> dict[str | None, _Key]:
        async with (
            httpx.AsyncClient(timeout=self._timeout) as client,
            client.stream("GET", self._url) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
        document = decode_json(bytes(body), limit=MAX_JWKS_BYTES)
        fields = cast("dict[str, Any]", document) if isinstance(document, dict) else {}
        entries = fields.get("keys")
        if not isinstance(entries, list):
            raise ValueError("the JWKS has no 'keys' list")
        keys: dict[str | None, _Key] = {}
        for entry in cast("list[Any]", entries):
            key = _key_of(entry)
            kid = cast("dict[str, Any]", entry).get("kid") if key is not None else None
            if key is not None and (kid is None or isinstance(kid, str)):
                keys[kid] = key
        return keys


def _key_of(entry: Any) -> _Key | None:
    """A JWKS entry as a verification key; ``None`` for one that verifies nothing here.

    Symmetric (``oct``) keys and keys for another use than signatures are skipped.
    """
    if not isinstance(entry, dict):
        return None
    fields = cast("dict[str, Any]", entry)
    key_type = fields.get("kty")
    if key_type not in ("RSA", "EC") or fields.get("use", "sig") != "sig":
        return None
    algorithm = fields.get("alg")
    if algorithm is not None and _ASYMMETRIC.get(algorithm) != key_type:
        return None
    try:
        parsed = jwt.PyJWK.from_dict(fields)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):  # a malformed entry
        return None
    return _Key(parsed.key, key_type, algorithm)
