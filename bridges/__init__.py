"""a2a-bridges: agents of any framework as A2A servers, and A2A servers as native agents."""

from bridges.api import from_a2a, serve, to_a2a
from bridges.app import Auth, CardInfo, Skill, build_app, card_options
from bridges.client import RemoteAgent
from bridges.conversation import (
    Conversation,
    DataPart,
    FilePart,
    Part,
    TextPart,
    Turn,
    as_parts,
)
from bridges.errors import (
    NotAnA2AServer,
    RemoteAgentError,
    RemoteTimeout,
    RemoteUnauthorized,
    RemoteUnreachable,
)
from bridges.executor import BridgeExecutor
from bridges.memory import InMemoryMemory, Memory, SqlMemory
from bridges.runner import Event, InputRequired, Reply, Runner, TextDelta

__all__ = [
    "Auth",
    "BridgeExecutor",
    "CardInfo",
    "Conversation",
    "DataPart",
    "Event",
    "FilePart",
    "InMemoryMemory",
    "InputRequired",
    "Memory",
    "NotAnA2AServer",
    "Part",
    "RemoteAgent",
    "RemoteAgentError",
    "RemoteTimeout",
    "RemoteUnauthorized",
    "RemoteUnreachable",
    "Reply",
    "Runner",
    "Skill",
    "SqlMemory",
    "TextDelta",
    "TextPart",
    "Turn",
    "as_parts",
    "build_app",
    "card_options",
    "from_a2a",
    "serve",
    "to_a2a",
]
