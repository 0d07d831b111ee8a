"""Agent cards: built from what an adapter knows of its agent, and read for what a caller needs."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
)
from a2a.utils.constants import TransportProtocol

__all__ = [
    "API_KEY_HEADER",
    "CARD_PATHS",
    "HEALTH_PATH",
    "VERSIONS",
    "CardInfo",
    "Scheme",
    "Skill",
    "api_key_header",
    "build_card",
    "describe",
    "tool_name",
    "tool_skill",
]

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
"""Where a card is served: the A2A 1.0 path first, then the 0.3 one."""

HEALTH_PATH = "/health"
"""Answers 200 while the server serves; like the card, it needs no credentials."""

VERSIONS = ("1.0", "0.3")
"""The A2A versions a server speaks unless told otherwise."""

API_KEY_HEADER = "X-API-Key"

Scheme: TypeAlias = Literal["bearer", "api_key"]
"""How a server authenticates its callers, as the card declares it."""

Skill: TypeAlias = AgentSkill | Mapping[str, Any] | str
"""A card skill: an a2a `AgentSkill`, a dict of its fields, or just a name."""


@dataclass
class CardInfo:
    """What an adapter knows about its agent, for the card."""

    name: str
    description: str = ""
    skills: Sequence[Skill] = field(default_factory=list)
    input_modes: Sequence[str] = ("text/plain", "application/json")
    output_modes: Sequence[str] = ("text/plain", "application/json")


def tool_skill(name: str, description: str | None = None, tag: str = "tool") -> AgentSkill:
    """A skill for one of the agent's tools."""
    return AgentSkill(id=name, name=name, description=description or name, tags=[tag])


def _skill(skill: Skill) -> AgentSkill:
    if isinstance(skill, AgentSkill):
        return skill
    if isinstance(skill, str):
        return tool_skill(skill, tag=skill)
    fields = dict(skill)
    fields.setdefault("id", fields.get("name", "skill"))
    fields.setdefault("name", fields["id"])
    fields.setdefault("description", fields["name"])
    fields.setdefault("tags", [fields["id"]])
    return AgentSkill(**fields)


def build_card(
    info: CardInfo,
    *,
    base_url: str,
    streaming: bool,
    schemes: Collection[Scheme] = (),
    versions: Sequence[str] = VERSIONS,
    grpc_url: str | None = None,
) -> AgentCard:
    """The card of an agent served at `base_url`: JSON-RPC at `/`, HTTP+JSON at the root, and
    gRPC at `grpc_url` when given, each in every version of `versions`."""
    base = base_url.rstrip("/")
    bindings = [(TransportProtocol.JSONRPC, f"{base}/"), (TransportProtocol.HTTP_JSON, base)]
    if grpc_url is not None:
        bindings.append((TransportProtocol.GRPC, grpc_url))
    interfaces = [
        AgentInterface(url=url, protocol_binding=binding, protocol_version=version)
        for binding, url in bindings
        for version in versions
    ]
    description = info.description or info.name
    card = AgentCard(
        name=info.name,
        description=description,
        version="1.0.0",
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=streaming, push_notifications=False),
        default_input_modes=list(info.input_modes),
        default_output_modes=list(info.output_modes),
        skills=[_skill(s) for s in info.skills]
        or [AgentSkill(id="chat", name="chat", description=description, tags=["chat"])],
    )
    for scheme in schemes:
        if scheme == "bearer":
            declared = SecurityScheme(
                http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer")
            )
        else:
            declared = SecurityScheme(
                api_key_security_scheme=APIKeySecurityScheme(location="header", name=API_KEY_HEADER)
            )
        card.security_schemes[scheme].CopyFrom(declared)
        # Any one of the schemes will do.
        requirement = SecurityRequirement()
        requirement.schemes[scheme].SetInParent()
        card.security_requirements.append(requirement)
    return card


# --- what a caller reads off a card ---


def api_key_header(card: AgentCard | None) -> str:
    """The header a card's apiKey scheme names, or `X-API-Key`."""
    for scheme in card.security_schemes.values() if card is not None else ():
        if scheme.HasField("api_key_security_scheme"):
            api_key = scheme.api_key_security_scheme
            if api_key.location.lower() == "header" and api_key.name:
                return str(api_key.name)
    return API_KEY_HEADER


def tool_name(card: AgentCard, taken: Collection[str] = ()) -> str:
    """A tool name for the agent, as model APIs accept them (letters, digits, `_`, `-`, at most
    64 characters), and unlike any in `taken`."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", card.name).strip("_")[:60] or "remote_agent"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def describe(card: AgentCard) -> str:
    """What the agent does, for a model choosing among tools: its description and skills."""
    about = card.description or f"Ask the agent {card.name}."
    skills = ", ".join(s.name for s in card.skills if s.name)
    return f"{about} (skills: {skills})" if skills else about
