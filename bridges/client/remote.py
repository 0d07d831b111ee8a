"""`RemoteAgent`: any A2A server, 1.0 or 0.3, over JSON-RPC, HTTP+JSON or gRPC, as one client."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import importlib.util
import ssl
import time
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, TypedDict

import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.client.errors import A2AClientTimeoutError
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
)
from a2a.utils.constants import TransportProtocol
from typing_extensions import Unpack

from a2a_bridges import quirks, telemetry
from a2a_bridges.card import CARD_PATHS, api_key_header
from a2a_bridges.client.answer import INTERRUPTED, TERMINAL, Answer, state_name
from a2a_bridges.conversation import Part, Turn, as_parts, message_from_turn
from a2a_bridges.errors import (
    NotAnA2AServer,
    RemoteAgentError,
    RemoteTimeout,
    RemoteUnauthorized,
    RemoteUnreachable,
)
from a2a_bridges.portal import iterate_sync, run_sync
from a2a_bridges.runner import Reply, TextDelta

__all__ = ["CLIENT_OPTIONS", "ClientOptions", "Outgoing", "RemoteAgent", "RemoteConversation"]

Outgoing: TypeAlias = str | Part | Sequence[Part] | Turn
"""What can be said to a remote agent: text, a part, parts, or a whole turn."""


class ClientOptions(TypedDict, total=False):
    """How to reach a remote agent: the one set of options every client of this library takes."""

    headers: Mapping[str, str]
    """Sent with every request."""
    token: str
    """A bearer token (`Authorization: Bearer ...`)."""
    api_key: str
    """An API key, in the header the card's apiKey scheme names (by default `X-API-Key`)."""
    timeout: float
    """Seconds to wait for each read, and for a polled task to finish (default 60)."""
    streaming: bool | None
    """Stream or not; by default as the card says."""
    poll_interval: float
    """Seconds between polls of a peer that answers before it is done (default 0.1)."""


CLIENT_OPTIONS = frozenset(ClientOptions.__annotations__)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building one takes ~20 ms; every transport would otherwise build its own, even for http.
    return httpx.create_ssl_context()


async def _traced(request: httpx.Request) -> None:
    telemetry.inject(request.headers)


def _turn(message: Outgoing) -> Turn:
    return message if isinstance(message, Turn) else Turn("user", as_parts(message))


async def _keep(http: httpx.AsyncClient, client: Client) -> AsyncGenerator[None, None]:
    """Holds one event loop's connections until it is closed: by `aclose`, or by the loop's own
    shutdown (`asyncio.run` closes every async generator left open before it closes the loop)."""
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await client.close()
        await http.aclose()


@dataclass
class _Connection:
    client: Client
    keeper: AsyncGenerator[None, None]


_END = object()


@dataclass
class _Exchange:
    """One message's round trip: the answer so far, and what is handed to the caller."""

    conversation: RemoteConversation
    answer: Answer = field(default_factory=Answer)
    items: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    abandoned: bool = False

    def took(self, event: StreamResponse) -> str:
        text = self.answer.fold(event)
        self.conversation._started(self.answer)
        return text


class RemoteAgent:
    """A remote A2A agent, 1.0 or 0.3, over JSON-RPC, HTTP+JSON or gRPC.

    `send(message)` sends one message and returns the final `Reply`; `stream(message)` yields
    `TextDelta`s as they arrive, then the `Reply`. Each call stands alone unless it names a
    conversation: `conversation()` gives a handle that keeps the contextId, and a task waiting
    for input, from one message to the next. A caller that stops listening (cancels, breaks
    out of `stream`, times out) cancels the remote task too, as soon as the peer named it: a
    streamed call learns the task's id first thing, a blocking one (a peer that does not
    stream, or `streaming=False`) only with the answer.
    Failures raise `RemoteAgentError` or one of its subclasses.

    Any event loop may use it (each loop gets its own connections, closed with the loop), and
    each async method has a blocking twin (`send_sync`, ...) that runs on one background loop.
    """

    def __init__(self, url: str, **options: Unpack[ClientOptions]) -> None:
        unknown = set(options) - CLIENT_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown client option(s) {', '.join(sorted(unknown))}: "
                f"choose from {', '.join(sorted(CLIENT_OPTIONS))}"
            )
        self.url = url.rstrip("/")
        self.options = options
        self.timeout = float(options.get("timeout", 60.0))
        self.streaming = options.get("streaming")
        self.poll_interval = float(options.get("poll_interval", 0.1))
        self.card_data: dict[str, Any] | None = None  # the card's JSON as the peer sent it
        self._card: AgentCard | None = None
        self._connections: dict[asyncio.AbstractEventLoop, _Connection] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"RemoteAgent({self.url!r})"

    def conversation(self, context_id: str | None = None) -> RemoteConversation:
        """A conversation with this agent: a new one, or the one `context_id` names."""
        return RemoteConversation(self, context_id)

    # connections

    def _headers(self, card: AgentCard | None) -> dict[str, str]:
        headers = dict(self.options.get("headers") or {})
        if token := self.options.get("token"):
            headers.setdefault("Authorization", f"Bearer {token}")
        if api_key := self.options.get("api_key"):
            headers.setdefault(api_key_header(card), api_key)
        return headers

    def _http(self, card: AgentCard | None = None) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(verify=_ssl_context())
        return httpx.AsyncClient(
            headers=self._headers(card),
            timeout=httpx.Timeout(self.timeout),
            transport=quirks.TolerantTransport(transport),
            follow_redirects=True,
            event_hooks={"request": [_traced]},
        )

    async def card(self) -> AgentCard:
        """The remote agent card, 1.0 or 0.3, read once."""
        if self._card is None:
            async with self._http() as http:
                self._card = await self._fetch_card(http)
        return self._card

    async def streams(self) -> bool:
        """Whether its answers stream: unless `streaming=False`, when its card says they can."""
        return self.streaming is not False and (await self.card()).capabilities.streaming

    async def _fetch_card(self, http: httpx.AsyncClient) -> AgentCard:
        last = "no agent card"
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
            urls = quirks.point_at_reached([i.url for i in card.supported_interfaces], self.url)
            for interface, url in zip(card.supported_interfaces, urls, strict=True):
                interface.url = url
            self.card_data = data
            return card
        raise NotAnA2AServer(f"{self.url} is not an A2A server: {last}", url=self.url)

    async def _client(self) -> Client:
        loop = asyncio.get_running_loop()
        if (connection := self._connections.get(loop)) is not None:
            return connection.client
        for closed in [other for other in self._connections if other.is_closed()]:
            del self._connections[closed]
        card = await self.card()
        if (connection := self._connections.get(loop)) is not None:  # made while we waited
            return connection.client
        http = self._http(card)
        streaming = await self.streams()
        bindings: list[str] = [TransportProtocol.JSONRPC, TransportProtocol.HTTP_JSON]
        config = ClientConfig(streaming=streaming, httpx_client=http)
        if importlib.util.find_spec("grpc") is not None:
            from a2a_bridges.client.grpc import channel_factory

            bindings.append(TransportProtocol.GRPC)
            config.grpc_channel_factory = channel_factory(self._headers(card))
        config.supported_protocol_bindings = bindings
        try:
            client = ClientFactory(config).create(card)
        except ValueError as exc:
            await http.aclose()
            raise RemoteAgentError(f"{self.url}: {exc}", url=self.url) from None
        keeper = _keep(http, client)
        await keeper.__anext__()
        self._connections[loop] = _Connection(client, keeper)
        return client

    async def aclose(self) -> None:
        """Close this event loop's connections, once the remote cancels under way went out."""
        loop = asyncio.get_running_loop()
        if pending := {t for t in self._background if t.get_loop() is loop}:
            await asyncio.wait(pending, timeout=5)
        if (connection := self._connections.pop(loop, None)) is not None:
            await connection.keeper.aclose()

    async def __aenter__(self) -> RemoteAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # the calls

    async def send(
        self, message: Outgoing, *, context_id: str | None = None, task_id: str | None = None
    ) -> Reply:
        """Send one message and return the final reply.

        `context_id` continues a conversation; `task_id` answers a task waiting for input.
        """
        return await RemoteConversation(self, context_id, pending=task_id).send(message)

    def stream(
        self, message: Outgoing, *, context_id: str | None = None, task_id: str | None = None
    ) -> AsyncGenerator[TextDelta | Reply, None]:
        """Send one message; yield text deltas as they arrive, then the final reply."""
        return RemoteConversation(self, context_id, pending=task_id).stream(message)

    async def _exchange(
        self, turn: Turn, conversation: RemoteConversation
    ) -> AsyncGenerator[TextDelta | Reply, None]:
        client = await self._client()
        said = turn
        # A stateless peer knows only the conversation each message carries.
        keeps = self._card is not None and quirks.takes_inline_history(
            self._card.default_input_modes
        )
        if keeps and conversation.turns:
            history = quirks.ag2_history(conversation.turns)
            turn = replace(turn, parts=(*turn.parts, history))
        request = SendMessageRequest(
            message=message_from_turn(
                turn,
                context_id=conversation.context_id or "",
                task_id=conversation.pending or "",
            ),
            configuration=SendMessageConfiguration(return_immediately=False),
        )
        exchange = _Exchange(conversation)
        # The peer is read by a task of its own, so that a caller who gives up before the task
        # exists still gets it cancelled once the peer names it.
        pump = self._in_background(self._pump(client, request, exchange))
        ended = False
        try:
            while (item := await exchange.items.get()) is not _END:
                if isinstance(item, BaseException):
                    ended = True
                    raise item
                yield item
            ended = True
        finally:
            if not ended:
                self._abandon(pump, exchange)
        reply = self._finish(exchange.answer, conversation)
        if keeps:
            conversation.turns += [said, Turn("agent", reply.parts)]
        yield reply

    async def _pump(self, client: Client, request: SendMessageRequest, exchange: _Exchange) -> None:
        answer, put = exchange.answer, exchange.items.put_nowait
        try:
            with self._errors():
                async for event in client.send_message(request):
                    text = exchange.took(event)
                    if exchange.abandoned:
                        if answer.task_id:
                            break
                    elif text:
                        put(TextDelta(text))
                if not exchange.abandoned:
                    await self._poll(client, exchange)
        except RemoteAgentError as exc:
            if isinstance(exc, RemoteTimeout):
                exchange.abandoned = True
            put(exc)
        if exchange.abandoned and answer.task_id and answer.state not in TERMINAL | INTERRUPTED:
            with contextlib.suppress(RemoteAgentError):
                await asyncio.wait_for(self.cancel(answer.task_id), timeout=10)
        put(_END)

    async def _poll(self, client: Client, exchange: _Exchange) -> None:
        """Poll a peer that answered before it was done (fasta2a always does)."""
        answer = exchange.answer
        deadline = time.monotonic() + self.timeout
        while answer.task_id and answer.state not in TERMINAL | INTERRUPTED:
            if time.monotonic() > deadline:
                raise RemoteTimeout(f"{self.url} did not finish in {self.timeout:g}s", url=self.url)
            await asyncio.sleep(self.poll_interval)
            task = await client.get_task(GetTaskRequest(id=answer.task_id))
            if text := exchange.took(StreamResponse(task=task)):
                exchange.items.put_nowait(TextDelta(text))

    def _abandon(self, pump: asyncio.Task[None], exchange: _Exchange) -> None:
        """The caller stopped listening: the pump cancels the remote task, now or once it is
        named. Nothing here awaits, since the caller may be unwinding."""
        exchange.abandoned = True
        if not pump.done() and exchange.answer.task_id:
            pump.cancel()
            self._in_background(self._cancel_quietly(exchange.answer.task_id))

    async def _cancel_quietly(self, task_id: str) -> None:
        with contextlib.suppress(RemoteAgentError, TimeoutError):
            await asyncio.wait_for(self.cancel(task_id), timeout=10)

    def _in_background(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _finish(self, answer: Answer, conversation: RemoteConversation) -> Reply:
        reply = answer.reply()
        conversation._finished(reply)
        if reply.state in ("failed", "rejected", "canceled"):
            reason = reply.text or "no reason given"
            raise RemoteAgentError(
                f"remote task {reply.state}: {reason}",
                state=reply.state,
                url=self.url,
                reason=reply.text or None,
            )
        return reply

    async def cancel(self, task_id: str) -> str:
        """Cancel a task; return the state it ended in."""
        client = await self._client()
        with self._errors():
            task = await client.cancel_task(CancelTaskRequest(id=task_id))
        return state_name(task.status.state)

    async def get_task(self, task_id: str) -> Task:
        """The remote task as the peer stores it."""
        client = await self._client()
        with self._errors():
            return await client.get_task(GetTaskRequest(id=task_id))

    def _errors(self) -> _ErrorMapper:
        return _ErrorMapper(self.url, self.timeout)

    # the blocking facade

    def card_sync(self) -> AgentCard:
        """Blocking `card`."""
        return run_sync(self.card)

    def send_sync(
        self, message: Outgoing, *, context_id: str | None = None, task_id: str | None = None
    ) -> Reply:
        """Blocking `send`."""
        return RemoteConversation(self, context_id, pending=task_id).send_sync(message)

    def stream_sync(
        self, message: Outgoing, *, context_id: str | None = None, task_id: str | None = None
    ) -> Iterator[TextDelta | Reply]:
        """Blocking `stream`: deltas as they arrive, then the reply."""
        return RemoteConversation(self, context_id, pending=task_id).stream_sync(message)

    def cancel_sync(self, task_id: str) -> str:
        """Blocking `cancel`."""
        return run_sync(self.cancel, task_id)

    def get_task_sync(self, task_id: str) -> Task:
        """Blocking `get_task`."""
        return run_sync(self.get_task, task_id)

    def close(self) -> None:
        """Close the connections the blocking calls opened."""
        run_sync(self.aclose)


class RemoteConversation:
    """One conversation with a remote agent: its contextId, its latest task, and the task that
    waits for an answer, if one does.

    `send` and `stream` continue it (a reply that asks something is answered by the next
    message, in the same task); `cancel` cancels its running task. Each has a blocking twin.
    """

    def __init__(
        self, remote: RemoteAgent, context_id: str | None = None, *, pending: str | None = None
    ) -> None:
        self.remote = remote
        self.context_id = context_id
        self.task_id: str | None = pending  # the latest task
        self.pending = pending  # the task waiting for our answer
        self.turns: list[Turn] = []  # kept only for a peer that wants them in every message

    def __repr__(self) -> str:
        return f"RemoteConversation({self.remote.url!r}, context_id={self.context_id!r})"

    @property
    def asking(self) -> bool:
        """Whether the remote agent waits for an answer to its question."""
        return self.pending is not None

    def _started(self, answer: Answer) -> None:
        self.task_id = answer.task_id or self.task_id
        self.context_id = answer.context_id or self.context_id

    def _finished(self, reply: Reply) -> None:
        self.context_id = reply.context_id or self.context_id
        self.task_id = reply.task_id or self.task_id
        self.pending = reply.task_id if reply.state in INTERRUPTED else None

    async def send(self, message: Outgoing) -> Reply:
        """Say `message`; return the final reply."""
        reply: Reply | None = None
        async for event in self.stream(message):
            if isinstance(event, Reply):
                reply = event
        assert reply is not None
        return reply

    def stream(self, message: Outgoing) -> AsyncGenerator[TextDelta | Reply, None]:
        """Say `message`; yield text deltas as they arrive, then the final reply."""
        return self.remote._exchange(_turn(message), self)

    async def cancel(self) -> str:
        """Cancel the conversation's latest task; return the state it ended in."""
        if self.task_id is None:
            raise ValueError("no task to cancel: nothing was sent yet")
        state = await self.remote.cancel(self.task_id)
        if self.task_id == self.pending:
            self.pending = None
        return state

    def send_sync(self, message: Outgoing) -> Reply:
        """Blocking `send`."""
        return run_sync(self.send, message)

    def stream_sync(self, message: Outgoing) -> Iterator[TextDelta | Reply]:
        """Blocking `stream`: deltas as they arrive, then the reply."""
        return iterate_sync(self.stream(message))

    def cancel_sync(self) -> str:
        """Blocking `cancel`."""
        return run_sync(self.cancel)


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
        if exc is None or isinstance(exc, RemoteAgentError) or not isinstance(exc, Exception):
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
