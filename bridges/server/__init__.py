"""The server side: any runner as an A2A app, with its executor, guard and stores."""

from a2a_bridges.server.app import SERVER_OPTIONS, ServerOptions, build_app
from a2a_bridges.server.executor import BridgeExecutor
from a2a_bridges.server.guard import Auth
from a2a_bridges.server.memory import InMemoryMemory, Memory, SqlMemory

__all__ = [
    "SERVER_OPTIONS",
    "Auth",
    "BridgeExecutor",
    "InMemoryMemory",
    "Memory",
    "ServerOptions",
    "SqlMemory",
    "build_app",
]
