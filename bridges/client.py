"""`RemoteAgent`: any A2A server, 1.0 or 0.3, as a neutral async (and blocking) client."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import re
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.client.errors import A2AClientTimeoutError
from a2a.types import (
    AgentCard,
    Artifact,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.constants import TransportProtocol

from bridges._sync import iterate_sync, run_sync
from bridges.app import CARD_PATHS
from bridges.conversation import Part, TextPart, Turn, as_parts, message_from_turn, part_from_a2a
from bridges.errors import (
    NotAnA2AServer,
    RemoteAgentError,
    RemoteTimeout,
    RemoteUnauthorized,
    RemoteUnreachable,
)
from bridges.runner import Reply, TextDelta

__all__ = ["RemoteAgent", "state_name"]

TERMINAL = {"completed", "failed", "canceled", "rejected"}
INTERRUPTED = {"input-required", "auth-required"}


def state_name(state: int) -> str:
    """`TASK_STATE_INPUT_REQUIRED` → `input-required`, as A2A 0.3 spells it."""
    name: str = TaskState.Name(state)
    return name.removeprefix("TASK_STATE_").lower().replace("_", "-")


# --- tolerance for peers' JSON ---

# A timestamp without an offset (fasta2a writes them) fails the SDK's parser: read it as UTC.
_NAIVE_TIMESTAMP = re.compile(rb'("timestamp"\s*:\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)"')


def _patch(chunk: bytes) -> bytes:
    return _NAIVE_TIMESTAMP.sub(rb'\1Z"', chunk)


class _PatchedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.Response) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = b""
        async for chunk in self._inner.aiter_raw():
            pending += chunk
            # Patch whole lines only, so a timestamp split across chunks is still seen.
            head, sep, pending = pending.rpartition(b"\n")
            if sep:
                yield _patch(head + sep)
        if pending:
            yield _patch(pending)

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building one takes ~20 ms; every transport would otherwise build its own, even for http.
    return httpx.create_ssl_context()


class _TolerantTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=_ssl_context())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        kind = response.headers.get("content-type", "")
        if "json" not in kind and "event-stream" not in kind:
            return response
        inner = httpx.Response(
            response.status_code, headers=response.headers, stream=response.stream
        )
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-length"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=_PatchedStream(inner),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- the answer, wherever the peer put it ---


def _join_text(parts: list[Part], more: Sequence[Part]) -> list[Part]:
    out = list(parts)
    for p in more:
        if out and isinstance(p, TextPart) and isinstance(out[-1], TextPart):
            out[-1] = TextPart(out[-1].text + p.text, metadata=out[-1].metadata)
        else:
            out.append(p)
    return out


def _text(parts: Sequence[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


@dataclass
class _Answer:
    """Folds a peer's events into one answer, and tells which text is new."""

    task_id: str | None = None
    context_id: str | None = None
    state: str | None = None
    artifacts: dict[str, list[Part]] = field(default_factory=dict)
    status_parts: list[Part] = field(default_factory=list)

    def _set_status(self, state: int, message: Message | None) -> None:
        self.state = state_name(state)
        if message is not None and message.parts:
            self.status_parts = [part_from_a2a(p) for p in message.parts]

    def _streamed(self) -> str:
        return "".join(_text(parts) for parts in self.artifacts.values())

    def _artifact(self, artifact: Artifact, append: bool) -> str:
        new = [part_from_a2a(p) for p in artifact.parts]
        before = self._streamed()
        if append and artifact.artifact_id in self.artifacts:
            self.artifacts[artifact.artifact_id] = _join_text(
                self.artifacts[artifact.artifact_id], new
            )
        else:
            # A whole artifact that repeats the streamed chunks replaces them (fasta2a, ag2).
            if artifact.artifact_id not in self.artifacts and before and _text(new) == before:
                self.artifacts.clear()
            self.artifacts[artifact.artifact_id] = new
        after = self._streamed()
        return after[len(before) :] if after.startswith(before) else ""

    def fold(self, event: StreamResponse) -> str:
        """Take one event; return the text it adds to the answer."""
        kind = event.WhichOneof("payload")
        if kind == "task":
            task = event.task
            self.task_id, self.context_id = task.id, task.context_id
            self._set_status(
                task.status.state, task.status.message if task.status.HasField("message") else None
            )
            if task.artifacts:
                before = self._streamed()
                self.artifacts = {
                    a.artifact_id: [part_from_a2a(p) for p in a.parts] for a in task.artifacts
                }
                after = self._streamed()
                return after[len(before) :] if after.startswith(before) else ""
        elif kind == "status_update":
            update = event.status_update
            self.task_id, self.context_id = update.task_id, update.context_id
            status = update.status
            self._set_status(status.state, status.message if status.HasField("message") else None)
        elif kind == "artifact_update":
            update = event.artifact_update
            self.task_id, self.context_id = update.task_id, update.context_id
            return self._artifact(update.artifact, update.append)
        elif kind == "message":
            message = event.message
            self.context_id = message.context_id or self.context_id
            self.task_id = message.task_id or self.task_id
            self.state = "completed"
            self.status_parts = [part_from_a2a(p) for p in message.parts]
            return _text(self.status_parts)
        return ""

    def reply(self) -> Reply:
        parts: list[Part] = []
        for artifact_parts in self.artifacts.values():
            parts.extend(artifact_parts)
        if not parts or self.state in INTERRUPTED | {"failed", "rejected"}:
            parts = self.status_parts
        return Reply(
            tuple(parts), context_id=self.context_id, task_id=self.task_id, state=self.state
        )


# --- the client ---


def _same_origin(card: AgentCard, base_url: str) -> None:
    """Point loopback interface URLs at the address actually reached (AG2 writes localhost:8000)."""
    reached = urlsplit(base_url)
    for interface in card.supported_interfaces:
        url = urlsplit(interface.url)
        if url.hostname in ("localhost", "127.0.0.1", "0.0.0.0") and url.netloc != reached.netloc:
            interface.url = urlunsplit(url._replace(scheme=reached.scheme, netloc=reached.netloc))


def _message(message: str | Part | Sequence[Part] | Turn) -> Turn:
    return message if isinstance(message, Turn) else Turn("user", as_parts(message))


class RemoteAgent:
    """A remote A2A agent. Keeps the contextId of its conversation from one call to the next.

    `send` returns the final `Reply`; `stream` yields `TextDelta`s as they arrive, then the
    `Reply`. A reply whose state is `input-required` is answered by the next `send`, which
    continues that task. Failures raise `RemoteAgentError` or one of its subclasses.
    Each async method has a blocking twin (`send_sync`, ...) that works with or without a
    running event loop.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        streaming: bool | None = None,
        context_id: str | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.url = url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.streaming = streaming
        self.context_id = context_id
        self.poll_interval = poll_interval
        self.task_id: str | None = None  # the latest task, for `cancel`
        self._pending_task: str | None = None  # a task waiting for our input
        self._card: AgentCard | None = None
        self.card_data: dict[str, Any] | None = None  # the card's JSON as the peer sent it
        self._clients: dict[asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, Client]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"RemoteAgent({self.url!r})"

    def new_conversation(self) -> None:
        """Forget the contextId, so the next message starts a new conversation."""
        self.context_id = None
        self._pending_task = None

    # connections are per event loop: a blocking call and an async one may run on different loops

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers=self.headers,
            timeout=httpx.Timeout(self.timeout),
            transport=_TolerantTransport(),
            follow_redirects=True,
        )

    async def card(self) -> AgentCard:
        """The remote agent card, 1.0 or 0.3, read once."""
        if self._card is None:
            async with self._http() as http:
                self._card = await self._fetch_card(http)
        return self._card

    async def _fetch_card(self, http: httpx.AsyncClient) -> AgentCard:
        last: str = ""
        for path in CARD_PATHS:
            with self._errors():
                response = await http.get(self.url + path)
                if response.status_code in (401, 403):
                    response.raise_for_status()
            if response.status_code == 404:
                last = "no agent card at /.well-known/agent-card.json or /.well-known/agent.json"
                continue
            try:
                response.raise_for_status()
                data = response.json()
                card = parse_agent_card(copy.deepcopy(data))
            except Exception as exc:
                raise NotAnA2AServer(
                    f"{self.url} does not serve an A2A agent card: {exc}", url=self.url
                ) from exc
            if not card.supported_interfaces:
                raise NotAnA2AServer(f"{self.url} serves a card without interfaces", url=self.url)
            _same_origin(card, self.url)
            self.card_data = data
            return card
        raise NotAnA2AServer(
            f"{self.url} is not an A2A server: {last or 'no agent card'}", url=self.url
        )

    async def _client(self) -> Client:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            card = await self.card()
            http = self._http()
            streaming = card.capabilities.streaming if self.streaming is None else self.streaming
            config = ClientConfig(
                streaming=streaming,
                httpx_client=http,
                supported_protocol_bindings=[
                    TransportProtocol.JSONRPC,
                    TransportProtocol.HTTP_JSON,
                ],
            )
            self._clients[loop] = (http, ClientFactory(config).create(card))
        return self._clients[loop][1]

    async def aclose(self) -> None:
        """Close this event loop's connections, once the remote cancels under way went out."""
        if pending := {t for t in self._background if t.get_loop() is asyncio.get_running_loop()}:
            await asyncio.wait(pending, timeout=5)
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[1].close()
            await entry[0].aclose()

    async def __aenter__(self) -> RemoteAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # the calls

    async def send(
        self,
        message: str | Part | Sequence[Part] | Turn,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
    ) -> Reply:
        """Send one message and return the final reply.

        `context_id` names the conversation (by default the one this agent keeps); `task_id`
        continues a task that waits for input (by default the one the last reply left waiting).
        """
        reply: Reply | None = None
        async for event in self._events(message, context_id, task_id):
            if isinstance(event, Reply):
                reply = event
        assert reply is not None
        return reply

    async def stream(
        self,
        message: str | Part | Sequence[Part] | Turn,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
    ) -> AsyncGenerator[TextDelta | Reply, None]:
        """Send one message; yield text deltas as they arrive, then the final reply."""
        async for event in self._events(message, context_id, task_id):
            yield event

    async def _events(
        self,
        message: str | Part | Sequence[Part] | Turn,
        context_id: str | None,
        task_id: str | None,
    ) -> AsyncGenerator[TextDelta | Reply, None]:
        turn = _message(message)
        request = SendMessageRequest(
            message=message_from_turn(
                turn,
                context_id=context_id or self.context_id or "",
                task_id=task_id or self._pending_task or "",
            ),
            configuration=SendMessageConfiguration(return_immediately=False),
        )
        answer = _Answer()
        deadline = time.monotonic() + self.timeout
        client = await self._client()
        try:
            with self._errors():
                async for event in client.send_message(request):
                    new_text = answer.fold(event)
                    self.task_id = answer.task_id or self.task_id
                    if new_text:
                        yield TextDelta(new_text)
                # A peer that answers before it is done (fasta2a always does) is polled.
                while answer.task_id and answer.state not in TERMINAL | INTERRUPTED:
                    if time.monotonic() > deadline:
                        raise RemoteTimeout(
                            f"{self.url} did not finish in {self.timeout:g}s", url=self.url
                        )
                    await asyncio.sleep(self.poll_interval)
                    task = await client.get_task(GetTaskRequest(id=answer.task_id))
                    if new_text := answer.fold(StreamResponse(task=task)):
                        yield TextDelta(new_text)
        except (asyncio.CancelledError, GeneratorExit, RemoteTimeout):
            # A caller that stops listening (or gives up) stops the remote run too.
            if answer.task_id and answer.state not in TERMINAL | INTERRUPTED:
                self._abandon(answer.task_id)
            raise
        yield self._finish(answer)

    def _abandon(self, task_id: str) -> None:
        """Cancel a remote task in the background; nothing may be awaited while unwinding."""

        async def cancel() -> None:
            with contextlib.suppress(Exception):
                await self.cancel(task_id)

        task = asyncio.get_running_loop().create_task(cancel())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _finish(self, answer: _Answer) -> Reply:
        reply = answer.reply()
        self.context_id = reply.context_id or self.context_id
        self._pending_task = reply.task_id if reply.state in INTERRUPTED else None
        if reply.state in ("failed", "rejected", "canceled"):
            reason = reply.text or "no reason given"
            raise RemoteAgentError(
                f"remote task {reply.state}: {reason}", state=reply.state, url=self.url
            )
        return reply

    async def cancel(self, task_id: str | None = None) -> str:
        """Cancel a task (by default the latest one); return the state it ended in."""
        task_id = task_id or self.task_id
        if not task_id:
            raise ValueError("no task to cancel")
        client = await self._client()
        with self._errors():
            task = await client.cancel_task(CancelTaskRequest(id=task_id))
        if task_id == self._pending_task:
            self._pending_task = None
        return state_name(task.status.state)

    async def get_task(self, task_id: str | None = None) -> Task:
        """The remote task as the peer stores it (by default the latest one)."""
        task_id = task_id or self.task_id
        if not task_id:
            raise ValueError("no task to get")
        client = await self._client()
        with self._errors():
            return await client.get_task(GetTaskRequest(id=task_id))

    def _errors(self) -> _ErrorMapper:
        return _ErrorMapper(self.url, self.timeout)

    # the blocking facade

    def card_sync(self) -> AgentCard:
        """Blocking `card`."""
        return run_sync(self.card())

    def send_sync(
        self,
        message: str | Part | Sequence[Part] | Turn,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
    ) -> Reply:
        """Blocking `send`."""
        return run_sync(self.send(message, context_id=context_id, task_id=task_id))

    def stream_sync(
        self,
        message: str | Part | Sequence[Part] | Turn,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
    ) -> Iterator[TextDelta | Reply]:
        """Blocking `stream`: deltas as they arrive, then the reply."""
        return iterate_sync(self.stream(message, context_id=context_id, task_id=task_id))

    def cancel_sync(self, task_id: str | None = None) -> str:
        """Blocking `cancel`."""
        return run_sync(self.cancel(task_id))

    def get_task_sync(self, task_id: str | None = None) -> Task:
        """Blocking `get_task`."""
        return run_sync(self.get_task(task_id))

    def close(self) -> None:
        """Close the connections the blocking calls opened."""
        run_sync(self.aclose())


class _ErrorMapper:
    """Turns the SDK's and httpx's errors into ours, with the URL and no traceback text."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or isinstance(
            exc, RemoteAgentError | asyncio.CancelledError | GeneratorExit
        ):
            return
        if not isinstance(exc, Exception):
            return
        raise _translate(exc, self.url, self.timeout) from exc


def _translate(exc: Exception, url: str, timeout: float) -> RemoteAgentError:
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for c in chain:
        if isinstance(c, A2AClientTimeoutError | httpx.TimeoutException):
            return RemoteTimeout(f"{url} did not answer in {timeout:g}s", url=url)
        if isinstance(c, httpx.HTTPStatusError) and c.response.status_code in (401, 403):
            return RemoteUnauthorized(
                f"{url} refused the credentials (HTTP {c.response.status_code})", url=url
            )
        if isinstance(c, httpx.TransportError):
            return RemoteUnreachable(f"cannot reach {url}: {c}", url=url)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RemoteAgentError(f"{url}: {text}", url=url)
