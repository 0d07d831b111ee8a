"""a2a-bridges: agents of any framework as A2A servers, and A2A servers as native agents.

The names below load on first use, so importing the client loads no server module and no
framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2a_bridges.adapter import Adapter
    from a2a_bridges.api import from_a2a, serve, to_a2a
    from a2a_bridges.card import CardInfo, Skill
    from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
    from a2a_bridges.conversation import (
        Conversation,
        DataPart,
        FilePart,
        Part,
        TextPart,
        Turn,
        as_parts,
    )
    from a2a_bridges.errors import (
        AgentError,
        NotAnA2AServer,
        RemoteAgentError,
        RemoteTimeout,
        RemoteUnauthorized,
        RemoteUnreachable,
    )
    from a2a_bridges.runner import Event, InputRequired, Reply, Runner, TextDelta
    from a2a_bridges.server import Auth, ServerOptions, build_app

_WHERE = {
    "Adapter": "a2a_bridges.adapter",
    "AgentError": "a2a_bridges.errors",
    "Auth": "a2a_bridges.server",
    "CardInfo": "a2a_bridges.card",
    "ClientOptions": "a2a_bridges.client",
    "Conversation": "a2a_bridges.conversation",
    "DataPart": "a2a_bridges.conversation",
    "Event": "a2a_bridges.runner",
    "FilePart": "a2a_bridges.conversation",
    "InputRequired": "a2a_bridges.runner",
    "NotAnA2AServer": "a2a_bridges.errors",
    "Part": "a2a_bridges.conversation",
    "RemoteAgent": "a2a_bridges.client",
    "RemoteAgentError": "a2a_bridges.errors",
    "RemoteConversation": "a2a_bridges.client",
    "RemoteTimeout": "a2a_bridges.errors",
    "RemoteUnauthorized": "a2a_bridges.errors",
    "RemoteUnreachable": "a2a_bridges.errors",
    "Reply": "a2a_bridges.runner",
    "Runner": "a2a_bridges.runner",
    "ServerOptions": "a2a_bridges.server",
    "Skill": "a2a_bridges.card",
    "TextDelta": "a2a_bridges.runner",
    "TextPart": "a2a_bridges.conversation",
    "Turn": "a2a_bridges.conversation",
    "as_parts": "a2a_bridges.conversation",
    "build_app": "a2a_bridges.server",
    "from_a2a": "a2a_bridges.api",
    "serve": "a2a_bridges.api",
    "to_a2a": "a2a_bridges.api",
}

__all__ = [
    "Adapter",
    "AgentError",
    "Auth",
    "CardInfo",
    "ClientOptions",
    "Conversation",
    "DataPart",
    "Event",
    "FilePart",
    "InputRequired",
    "NotAnA2AServer",
    "Part",
    "RemoteAgent",
    "RemoteAgentError",
    "RemoteConversation",
    "RemoteTimeout",
    "RemoteUnauthorized",
    "RemoteUnreachable",
    "Reply",
    "Runner",
    "ServerOptions",
    "Skill",
    "TextDelta",
    "TextPart",
    "Turn",
    "as_parts",
    "build_app",
    "from_a2a",
    "serve",
    "to_a2a",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'a2a_bridges' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
