"""The agent card: who the agent is, what it can do, where and how to call it.

Built per request from the target and the channel's settings: the name and description
(given, else the target's own), skills (given, else one per function tool of an agent,
else one for the target itself), the capabilities this channel has (streaming, push
notifications, an extended card when callers authenticate), both transports at the
channel's URL, and the security scheme of the authenticator that guards it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from a2a.server.context import ServerCallContext
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol
from agent_framework import normalize_tools
from agent_framework_hosting import Authenticator, ChannelContext, json_response
from google.protobuf.json_format import MessageToDict
from starlette.requests import Request
from starlette.responses import Response

from ._parse import OUTPUT_MODES

__all__ = ["CardEndpoint", "CardSettings", "agent_card"]

INPUT_MODES = ("text/plain", "application/json", "application/octet-stream")
"""What a message may carry: text, data, and files of any type."""


@dataclass(frozen=True, slots=True)
class CardSettings:
    """What the channel was told to say about the agent (``None``: derive it)."""

    name: str | None
    description: str | None
    version: str
    skills: Sequence[AgentSkill] | None
    provider: AgentProvider | None
    documentation_url: str | None
    security_schemes: Mapping[str, SecurityScheme] | None


def agent_card(
    settings: CardSettings,
    context: ChannelContext,
    url: str,
    authenticator: Authenticator | None,
) -> AgentCard:
    """The card of the target served at ``url``."""
    name = settings.name or context.target_name
    target: Any = context.target
    description = (
        settings.description
        or getattr(target, "description", None)
        or (
            f"{name}, an Agent Framework {'agent' if context.target_takes_options else 'workflow'}."
        )
    )
    card = AgentCard(
        name=name,
        description=str(description),
        version=settings.version,
        supported_interfaces=[
            AgentInterface(
                url=url,
                protocol_binding=binding,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
            for binding in (TransportProtocol.JSONRPC.value, TransportProtocol.HTTP_JSON.value)
        ],
        capabilities=AgentCapabilities(
            streaming=True,
            push_notifications=True,
            extended_agent_card=authenticator is not None,
        ),
        default_input_modes=list(INPUT_MODES),
        default_output_modes=list(OUTPUT_MODES),
        skills=list(settings.skills) if settings.skills is not None else _skills(context, name),
    )
    if settings.provider is not None:
        card.provider.CopyFrom(settings.provider)
    if settings.documentation_url:
        card.documentation_url = settings.documentation_url
    schemes = settings.security_schemes
    if schemes is None and authenticator is not None:
        schemes = _schemes(authenticator)
    for scheme_name, scheme in (schemes or {}).items():
        card.security_schemes[scheme_name].CopyFrom(scheme)
        card.security_requirements.append(SecurityRequirement(schemes={scheme_name: StringList()}))
    return card


def _skills(context: ChannelContext, name: str) -> list[AgentSkill]:
    """One skill per function tool an agent brings, else one for the whole target."""
    skills: list[AgentSkill] = []
    options: object = getattr(context.target, "default_options", None)
    configured: Any = (
        cast("Mapping[str, Any]", options).get("tools") if isinstance(options, Mapping) else None
    )
    for tool in normalize_tools(configured):
        tool_name = getattr(tool, "name", None)
        if isinstance(tool_name, str) and tool_name:
            about = getattr(tool, "description", None) or f"The {tool_name} tool."
            skills.append(
                AgentSkill(id=tool_name, name=tool_name, description=str(about), tags=["tool"])
            )
    if skills:
        return skills
    kind = "agent" if context.target_takes_options else "workflow"
    description = getattr(context.target, "description", None) or f"Talk to {name}."
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or kind
    return [AgentSkill(id=slug, name=name, description=str(description), tags=[kind])]


def _schemes(authenticator: Authenticator) -> dict[str, SecurityScheme]:
    """The HTTP scheme named by the authenticator's challenge (``Bearer``, ``Basic``, …)."""
    scheme = (authenticator.challenge or "Bearer").split(" ", 1)[0]
    http = HTTPAuthSecurityScheme(scheme=scheme)
    return {scheme.lower(): SecurityScheme(http_auth_security_scheme=http)}


class CardEndpoint:
    """Serves the card: public at the well-known path, extended to authenticated callers."""

    def __init__(
        self,
        settings: CardSettings,
        context: ChannelContext,
        authenticator: Authenticator | None,
        *,
        path: str,
        public_url: str | None,
    ) -> None:
        self._settings = settings
        self._context = context
        self._authenticator = authenticator
        self._path = "/" + path.strip("/") if path.strip("/") else ""
        self._public_url = public_url.rstrip("/") if public_url else None

    def url(self, base_url: str) -> str:
        """The channel's URL, as configured or as the request reached the host."""
        return self._public_url or base_url.rstrip("/") + self._path

    async def public(self, request: Request) -> Response:
        """``GET /.well-known/agent-card.json``: the card anyone may read."""
        card = agent_card(
            self._settings, self._context, self.url(str(request.base_url)), self._authenticator
        )
        return json_response(MessageToDict(card))

    async def extended(self, call: ServerCallContext) -> AgentCard:
        """The card for an authenticated caller (the same card: nothing is held back)."""
        base_url = str(call.state.get("base_url", ""))
        return agent_card(self._settings, self._context, self.url(base_url), self._authenticator)
