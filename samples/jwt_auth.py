"""Require bearer JWTs, checked against a JWKS: the Responses API for alice and bob only.

The sample plays the identity provider too: at start it makes a signing key, serves its
public half as a JWKS on a loopback port of its own, and prints a token for alice and
one for bob. The host fetches that JWKS (and fetches it again when a token names a key
it does not hold), checks each token's signature, issuer, audience and lifetime, and
keeps what each principal creates apart from the other's. Needs the jwt extra:
pip install 'agent-framework-hosting[jwt]'.

    uv run samples/jwt_auth.py
    curl -s http://127.0.0.1:8000/v1/responses -H 'content-type: application/json' \
        -H 'authorization: Bearer <alice token>' -d '{"model": "agent", "input": "Hi"}'
"""

from __future__ import annotations

import json
import os
import secrets
import time

import jwt
from agent_framework import Agent
from agent_framework_hosting import AgentFrameworkHost, JWTAuthenticator
from agent_framework_hosting.testing import LoopbackServer, OfflineChatClient
from agent_framework_hosting_responses import ResponsesChannel
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ISSUER = "https://issuer.example"
AUDIENCE = "agent-framework-hosting-sample"
SCOPE = "responses"


class Issuer:
    """An identity provider in miniature: one EC signing key, its JWKS, the tokens it signs."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = f"key-{secrets.token_hex(4)}"
        public = json.loads(ECAlgorithm.to_jwk(self._key.public_key()))
        self.jwks = {"keys": [{**public, "kid": self.kid, "alg": "ES256", "use": "sig"}]}

        async def keys(_request: Request) -> JSONResponse:
            return JSONResponse(self.jwks)

        self.app = Starlette(routes=[Route("/.well-known/jwks.json", keys)])

    def token(self, subject: str, *, scope: str = SCOPE, lifetime: int = 3600) -> str:
        """A token for ``subject``, valid for ``lifetime`` seconds."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})


def build_host(jwks_url: str) -> AgentFrameworkHost:
    """A host whose Responses channel serves only holders of a valid token with the scope."""
    auth = JWTAuthenticator(jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE)
    return AgentFrameworkHost(
        Agent(client=OfflineChatClient(), name="agent"),
        channels=[ResponsesChannel(required_scopes={SCOPE})],
        auth=auth,
    )


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    issuer = Issuer()
    with LoopbackServer(issuer.app) as provider:
        jwks_url = f"{provider.base_url}/.well-known/jwks.json"
        print(f"JWKS (key {issuer.kid}) served at {jwks_url}")
        print(f"alice: {issuer.token('alice')}")
        print(f"bob:   {issuer.token('bob')}")
        print(f'Try: OpenAI(base_url="http://127.0.0.1:{port}/v1", api_key="<a token above>")')
        build_host(jwks_url).serve(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main()
