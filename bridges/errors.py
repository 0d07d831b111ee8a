"""Errors a caller of a remote agent can catch."""

from __future__ import annotations

__all__ = [
    "NotAnA2AServer",
    "RemoteAgentError",
    "RemoteTimeout",
    "RemoteUnauthorized",
    "RemoteUnreachable",
]


class RemoteAgentError(Exception):
    """A remote agent did not answer: its task ended `state` (failed, rejected, canceled), or
    the call itself failed (the subclasses)."""

    def __init__(self, message: str, *, state: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.url = url


class RemoteUnreachable(RemoteAgentError):
    """Nothing answers at the URL."""


class RemoteTimeout(RemoteAgentError):
    """The remote agent took longer than the timeout."""


class RemoteUnauthorized(RemoteAgentError):
    """The remote agent refused the credentials (HTTP 401 or 403)."""


class NotAnA2AServer(RemoteAgentError):
    """Something answers at the URL, but serves no A2A agent card."""
