"""OAuth protected-resource metadata (RFC 9728): how an MCP client finds where to get a token.

The document lives at ``/.well-known/oauth-protected-resource<path>`` and names the
resource (the endpoint's URL), the authorization servers that issue its tokens, and the
scopes it knows; every ``401`` of the endpoint points at it from ``WWW-Authenticate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent_framework_hosting import json_response
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

__all__ = ["ResourceMetadata", "metadata_path"]

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def metadata_path(path: str) -> str:
    """Where the metadata of the endpoint at ``path`` is served."""
    return WELL_KNOWN + "/" + path.strip("/") if path.strip("/") else WELL_KNOWN


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """The protected-resource metadata of one endpoint."""

    path: str
    resource_url: str | None
    authorization_servers: Sequence[str]
    scopes: Sequence[str]
    name: str

    def resource(self, connection: HTTPConnection) -> str:
        """The endpoint's URL: the one configured, else as the request reached it."""
        if self.resource_url is not None:
            return self.resource_url
        return _origin(connection) + "/" + self.path.strip("/")

    def url(self, connection: HTTPConnection) -> str:
        """The metadata document's URL."""
        return _origin(connection) + metadata_path(self.path)

    def challenge(self, connection: HTTPConnection, challenge: str) -> str:
        """``challenge`` (the authenticator's) with the ``resource_metadata`` parameter."""
        parameter = f'resource_metadata="{self.url(connection)}"'
        scheme, _, parameters = challenge.partition(" ")
        return f"{scheme} {parameters}, {parameter}" if parameters else f"{scheme} {parameter}"

    async def document(self, request: Request) -> Response:
        """``GET``: the metadata document."""
        body: dict[str, object] = {
            "resource": self.resource(request),
            "bearer_methods_supported": ["header"],
            "resource_name": self.name,
        }
        if self.authorization_servers:
            body["authorization_servers"] = list(self.authorization_servers)
        if self.scopes:
            body["scopes_supported"] = list(self.scopes)
        return json_response(body)


def _origin(connection: HTTPConnection) -> str:
    url = connection.url
    return f"{url.scheme}://{url.netloc}"
