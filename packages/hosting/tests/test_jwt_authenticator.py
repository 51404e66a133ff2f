"""Bearer JWTs over a real server: keys made here, a JWKS served on a loopback port.

Every refused token is answered 401 with ``WWW-Authenticate``, and reaches no agent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, JWTAuthenticator
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from echo_channel import EchoChannel
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "https://issuer.test"
AUDIENCE = "hosting-tests"
SECRET = "a-shared-secret-of-at-least-32-bytes!"


class Signer:
    """A signing key and its public JWK."""

    def __init__(self, kid: str, kind: str = "RSA") -> None:
        self.kid = kid
        if kind == "RSA":
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.algorithm = "RS256"
            self.jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.algorithm = "ES256"
            self.jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk["kid"] = kid

    def token(self, **claims: Any) -> str:
        return jwt.encode(
            claims_of(**claims), self.private, algorithm=self.algorithm, headers={"kid": self.kid}
        )

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def claims_of(**claims: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }
    base.update(claims)
    return {name: value for name, value in base.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_hmac(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A token signed by HMAC with ``key`` (PyJWT refuses to make one with a public key)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


class Jwks:
    """A JWKS endpoint whose keys a test changes."""

    def __init__(self, *signers: Signer) -> None:
        self.signers = list(signers)
        self.fetches = 0

        async def keys(_request: Request) -> JSONResponse:
            self.fetches += 1
            return JSONResponse({"keys": [signer.jwk for signer in self.signers]})

        self.app = Starlette(routes=[Route("/jwks.json", keys)])


@pytest.fixture(scope="module")
def rsa_signer() -> Signer:
    return Signer("rsa-1")


@pytest.fixture(scope="module")
def ec_signer() -> Signer:
    return Signer("ec-1", "EC")


@pytest.fixture
def jwks(rsa_signer: Signer, ec_signer: Signer) -> Iterator[tuple[Jwks, str]]:
    endpoint = Jwks(rsa_signer, ec_signer)
    with LoopbackServer(endpoint.app) as server:
        yield endpoint, f"{server.base_url}/jwks.json"


def serve(auth: JWTAuthenticator) -> LoopbackServer:
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=[EchoChannel()], auth=auth
    )
    return LoopbackServer(host.app)


def call(server: LoopbackServer, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{server.base_url}/echo", json={"text": "hi"}, headers=headers)


@pytest.fixture
def jwks_server(jwks: tuple[Jwks, str]) -> Iterator[LoopbackServer]:
    auth = JWTAuthenticator(
        jwks_url=jwks[1], issuer=ISSUER, audience=AUDIENCE, jwks_min_refresh=0.0
    )
    with serve(auth) as server:
        yield server


def refused(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers.get("www-authenticate") == "Bearer"
        and response.json()["error"]["code"] == "unauthorized"
    )


@pytest.mark.parametrize("kind", ["RSA", "EC"])
def test_a_token_signed_by_a_key_of_the_jwks_is_accepted(
    jwks_server: LoopbackServer, rsa_signer: Signer, ec_signer: Signer, kind: str
) -> None:
    signer = rsa_signer if kind == "RSA" else ec_signer
    response = call(jwks_server, signer.token())
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "Echo: hi (turn 1)"}


def test_a_request_without_a_token_is_refused(jwks_server: LoopbackServer) -> None:
    assert refused(call(jwks_server, None))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not-yet-valid"),
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "https://other.test"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"sub": ""}, id="empty-subject"),
    ],
)
def test_a_token_with_wrong_claims_is_refused(
    jwks_server: LoopbackServer, rsa_signer: Signer, claims: dict[str, Any]
) -> None:
    assert refused(call(jwks_server, rsa_signer.token(**claims)))


def test_an_unsigned_token_is_refused(jwks_server: LoopbackServer) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(claims_of()).encode())}."
    assert refused(call(jwks_server, token))


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(
    jwks_server: LoopbackServer, rsa_signer: Signer
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": rsa_signer.kid}
    assert refused(call(jwks_server, forged_hmac(header, claims_of(), rsa_signer.public_pem())))


def test_a_token_with_a_tampered_payload_is_refused(
    jwks_server: LoopbackServer, rsa_signer: Signer
) -> None:
    header, _, signature = rsa_signer.token().split(".")
    payload = _b64(json.dumps(claims_of(sub="mallory")).encode())
    assert refused(call(jwks_server, f"{header}.{payload}.{signature}"))


def test_a_token_of_a_key_outside_the_jwks_is_refused(jwks_server: LoopbackServer) -> None:
    assert refused(call(jwks_server, Signer("rsa-1").token()))  # same kid, another key


def test_a_garbled_token_is_refused(jwks_server: LoopbackServer) -> None:
    assert refused(call(jwks_server, "not.a.token"))


def test_a_key_rotated_in_is_accepted_and_one_rotated_out_is_refused(
    jwks: tuple[Jwks, str], rsa_signer: Signer
) -> None:
    endpoint, url = jwks
    auth = JWTAuthenticator(jwks_url=url, issuer=ISSUER, audience=AUDIENCE, jwks_min_refresh=0.0)
    with serve(auth) as server:
        assert call(server, rsa_signer.token()).status_code == 200
        rotated = Signer("rsa-2")
        endpoint.signers = [rotated]
        assert call(server, rotated.token()).status_code == 200
        assert refused(call(server, rsa_signer.token()))


def test_the_jwks_is_fetched_once_while_it_is_fresh(
    jwks: tuple[Jwks, str], rsa_signer: Signer, ec_signer: Signer
) -> None:
    endpoint, url = jwks
    auth = JWTAuthenticator(jwks_url=url, issuer=ISSUER, audience=AUDIENCE)
    with serve(auth) as server:
        for signer in (rsa_signer, ec_signer, rsa_signer):
            assert call(server, signer.token()).status_code == 200
    assert endpoint.fetches == 1


def test_an_unknown_kid_does_not_fetch_again_within_the_refresh_interval(
    jwks: tuple[Jwks, str], rsa_signer: Signer
) -> None:
    endpoint, url = jwks
    auth = JWTAuthenticator(jwks_url=url, issuer=ISSUER, audience=AUDIENCE)
    with serve(auth) as server:
        assert call(server, rsa_signer.token()).status_code == 200
        for number in range(3):
            assert refused(call(server, Signer(f"made-up-{number}", "EC").token()))
    assert endpoint.fetches == 1


def test_an_unreachable_jwks_refuses_tokens_without_failing(rsa_signer: Signer) -> None:
    with LoopbackServer(Starlette()) as nothing:
        url = f"{nothing.base_url}/jwks.json"  # answers 404
    auth = JWTAuthenticator(jwks_url=url, issuer=ISSUER, audience=AUDIENCE)
    with serve(auth) as server:
        assert refused(call(server, rsa_signer.token()))


def test_an_hmac_token_proves_its_subject_tenant_and_scopes() -> None:
    seen: list[Any] = []

    def run_hook(request: Any, **_: Any) -> Any:
        seen.append(request.principal)
        return request

    auth = JWTAuthenticator(secret=SECRET, audience=AUDIENCE, tenant_claim="tid")
    host = AgentFrameworkHost(
        Agent(client=OfflineChatClient()), channels=[EchoChannel(run_hook=run_hook)], auth=auth
    )
    claims = claims_of(tid="acme", scope="responses.read responses.write", scp=["extra"])
    with LoopbackServer(host.app) as server:
        assert call(server, jwt.encode(claims, SECRET, algorithm="HS256")).status_code == 200
        assert refused(call(server, jwt.encode(claims, SECRET + "x", algorithm="HS256")))
    (principal,) = seen
    assert (principal.subject, principal.tenant) == ("alice", "acme")
    assert principal.scopes == {"responses.read", "responses.write", "extra"}
    assert principal.claims["iss"] == ISSUER


def test_an_hmac_authenticator_refuses_an_rsa_token(rsa_signer: Signer) -> None:
    with serve(JWTAuthenticator(secret=SECRET, audience=AUDIENCE)) as server:
        assert refused(call(server, rsa_signer.token()))


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="no-key-source"),
        pytest.param({"secret": SECRET, "jwks_url": "http://x"}, id="both-key-sources"),
        pytest.param({"secret": SECRET, "algorithms": ["RS256"]}, id="rsa-with-a-secret"),
        pytest.param({"jwks_url": "http://x", "algorithms": ["HS256"]}, id="hmac-with-a-jwks"),
        pytest.param({"jwks_url": "http://x", "algorithms": ["none"]}, id="none"),
        pytest.param({"secret": "short"}, id="short-secret"),
    ],
)
def test_a_configuration_that_could_be_confused_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"secret|algorithm|Algorithms"):
        JWTAuthenticator(**options)
