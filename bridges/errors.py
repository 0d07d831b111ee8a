"""Errors a caller of a remote agent can catch."""

from __future__ import annotations

__all__ = [
    "AgentError",
    "NotAnA2AServer",
    "RemoteAgentError",
    "RemoteTimeout",
    "RemoteUnauthorized",
    "RemoteUnreachable",
]


class AgentError(Exception):
    """An error meant for the agent's caller: raised by a served agent, its message is sent
    as it is. Any other error reaches the caller as its type and a reference that the server
    log carries with the whole error (unless the server runs with `debug=True`)."""


class RemoteAgentError(Exception):
    """A remote agent did not answer: its task ended `state` (failed, rejected, canceled), or
    the call itself failed (the subclasses). `reason` is the remote's own words on why its
    task ended so, when it gave any."""

    def __init__(
        self,
        message: str,
        *,
        state: str | None = None,
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.url = url
        self.reason = reason


class RemoteUnreachable(RemoteAgentError):
    """Nothing answers at the URL."""


class RemoteTimeout(RemoteAgentError):
    """The remote agent took longer than the timeout."""


class RemoteUnauthorized(RemoteAgentError):
    """The remote agent refused the credentials (HTTP 401 or 403)."""


class NotAnA2AServer(RemoteAgentError):
    """Something answers at the URL, but serves no A2A agent card."""
