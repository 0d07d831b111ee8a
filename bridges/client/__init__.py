"""The client side: any A2A server, 1.0 or 0.3, on any transport, as one neutral client."""

from a2a_bridges.client.remote import (
    CLIENT_OPTIONS,
    ClientOptions,
    Outgoing,
    RemoteAgent,
    RemoteConversation,
)

__all__ = ["CLIENT_OPTIONS", "ClientOptions", "Outgoing", "RemoteAgent", "RemoteConversation"]
