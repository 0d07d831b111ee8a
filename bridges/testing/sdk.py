"""The a2a-sdk's own client as a caller, used the way a plain SDK user uses it: on one
interface of the card (a transport and a protocol version), with none of this library's
tolerance for peers' quirks, the answer read where the protocol puts it."""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types import AgentCard, CancelTaskRequest, SendMessageRequest, StreamResponse

from a2a_bridges.card import CARD_PATHS
from a2a_bridges.client.answer import INTERRUPTED, TERMINAL, state_name
from a2a_bridges.conversation import (
    DataPart,
    FilePart,
    Part,
    TextPart,
    Turn,
    message_from_turn,
    part_from_a2a,
)
from a2a_bridges.testing.participant import Answer, Call, Caller, Message

__all__ = ["Reading", "SdkCaller", "interfaces"]


def _text(parts: Sequence[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


@dataclass
class Reading:
    """A task's answer read literally, as the protocol defines it: each artifact's updates
    joined when they append and replacing it when they do not, then the status message of
    the state the task ended in; or a Message's parts. Nothing is de-duplicated."""

    task_id: str | None = None
    context_id: str | None = None
    state: str | None = None
    artifacts: dict[str, list[Part]] = field(default_factory=dict)
    status_parts: list[Part] = field(default_factory=list)

    def fold(self, event: StreamResponse) -> str:
        """Take one event; return the text an artifact update in it adds."""
        kind = event.WhichOneof("payload")
        if kind == "task":
            task = event.task
            self.task_id, self.context_id = task.id, task.context_id
            self.artifacts = {
                a.artifact_id: [part_from_a2a(p) for p in a.parts] for a in task.artifacts
            }
            self._status(task.status.state, task.status.message.parts)
        elif kind == "status_update":
            update = event.status_update
            self.task_id, self.context_id = update.task_id, update.context_id
            self._status(update.status.state, update.status.message.parts)
        elif kind == "artifact_update":
            update = event.artifact_update
            self.task_id, self.context_id = update.task_id, update.context_id
            new = [part_from_a2a(p) for p in update.artifact.parts]
            known = self.artifacts.get(update.artifact.artifact_id, [])
            self.artifacts[update.artifact.artifact_id] = [*known, *new] if update.append else new
            return _text(new)
        elif kind == "message":
            message = event.message
            self.context_id = message.context_id or self.context_id
            self.task_id = message.task_id or self.task_id
            self.state = "completed"
            self.status_parts = [part_from_a2a(p) for p in message.parts]
        return ""

    def _status(self, state: int, parts: Sequence[Any]) -> None:
        self.state = state_name(state)
        self.status_parts = [part_from_a2a(p) for p in parts]

    def parts(self) -> list[Part]:
        """Everything the agent said: the artifacts, then the final status message."""
        return [p for parts in self.artifacts.values() for p in parts] + self.status_parts


@contextlib.asynccontextmanager
async def _closing(
    events: AsyncIterator[StreamResponse],
) -> AsyncIterator[AsyncIterator[StreamResponse]]:
    """The SDK's events, closed when the caller stops reading them (a cancel stops early)."""
    try:
        yield events
    finally:
        if isinstance(events, AsyncGenerator):
            await events.aclose()


def interfaces(card: AgentCard) -> list[tuple[str, str]]:
    """The (transport, protocol version) pairs the card lists, in its order, each once."""
    found = [(i.protocol_binding, i.protocol_version or "1.0") for i in card.supported_interfaces]
    return list(dict.fromkeys(found))


@dataclass
class _Thread:
    context_id: str = ""
    pending: str = ""  # a task waiting for our answer


class SdkCaller(Caller):
    """Calls agents with the a2a-sdk client alone, on one (transport, version) of the card.

    `send_parts` says any parts (data, an empty text, a large one); `send` says a `Message`.
    A conversation (`thread`) keeps the contextId the agent named, and answers a task that
    waits for input in that task. `cancel` sends CancelTask as soon as the agent names the
    task. Headers go with every request (gRPC: as call metadata).
    """

    def __init__(
        self,
        binding: str = "JSONRPC",
        version: str = "1.0",
        headers: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(name or f"a2a-sdk {binding} {version}", "assistant", headers or {})
        self.binding = binding
        self.version = version
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._cards: dict[str, AgentCard] = {}
        self._clients: dict[tuple[str, bool], Client] = {}
        self._threads: dict[str, _Thread] = {}

    def _session(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(headers=self.headers, timeout=self.timeout)
        return self._http

    async def card(self, url: str) -> AgentCard:
        """The agent's card as the SDK parses it, with only this caller's interface left;
        ValueError when the card lists none."""
        if url in self._cards:
            return self._cards[url]
        http, response = self._session(), None
        for path in CARD_PATHS:
            response = await http.get(url.rstrip("/") + path)
            if response.status_code != 404:
                break
        assert response is not None
        response.raise_for_status()
        card = parse_agent_card(copy.deepcopy(response.json()))
        mine = [
            i
            for i in card.supported_interfaces
            if (i.protocol_binding, i.protocol_version or "1.0") == (self.binding, self.version)
        ]
        if not mine:
            raise ValueError(f"the card lists no {self.binding} {self.version} interface")
        del card.supported_interfaces[:]
        card.supported_interfaces.extend(mine)
        self._cards[url] = card
        return card

    async def _client(self, url: str, stream: bool) -> Client:
        if (url, stream) not in self._clients:
            card = await self.card(url)
            config = ClientConfig(
                streaming=stream,
                httpx_client=self._session(),
                supported_protocol_bindings=[self.binding],
            )
            if self.binding == "GRPC":
                from a2a_bridges.client.grpc import channel_factory

                config.grpc_channel_factory = channel_factory(self.headers)
            self._clients[(url, stream)] = ClientFactory(config).create(card)
        return self._clients[(url, stream)]

    def _request(self, parts: Sequence[Part], thread: str) -> SendMessageRequest:
        t = self._threads.setdefault(thread, _Thread())
        message = message_from_turn(
            Turn("user", tuple(parts)), context_id=t.context_id, task_id=t.pending
        )
        message.message_id = uuid.uuid4().hex
        return SendMessageRequest(message=message)

    def _finish(self, reading: Reading, thread: str, answer: Answer) -> Answer:
        t = self._threads[thread]
        t.context_id = reading.context_id or t.context_id
        t.pending = (reading.task_id or "") if reading.state in INTERRUPTED else ""
        parts = reading.parts()
        answer.state = reading.state
        answer.data = next((p.data for p in parts if isinstance(p, DataPart)), None)
        if reading.state in ("failed", "rejected"):
            answer.error = _text(parts) or reading.state
        else:
            answer.text = _text(parts)
        return answer

    async def send_parts(
        self, url: str, parts: Sequence[Part], *, thread: str, stream: bool = False, **_: Any
    ) -> Answer:
        """Say `parts` in conversation `thread`; the answer as a plain SDK user reads it."""
        answer, reading = Answer(native="StreamResponse"), Reading()
        client = await self._client(url, stream)
        try:
            async with _closing(client.send_message(self._request(parts, thread))) as events:
                async for event in events:
                    if text := reading.fold(event):
                        answer.deltas.append(text)
        except Exception as exc:  # what the SDK raised is what its user sees
            answer.error = f"{type(exc).__name__}: {exc}"
            return answer
        return self._finish(reading, thread, answer)

    async def answer(self, call: Call) -> Answer:
        parts: list[Part] = [TextPart(call.message.text)]
        if (f := call.message.file) is not None:
            parts.append(FilePart(bytes=f.data, media_type=f.media_type, name=f.name))
        answer = await self.send_parts(call.url, parts, thread=call.thread, stream=call.stream)
        if call.on_delta is not None:
            for delta in answer.deltas:
                call.on_delta(delta)
        return answer

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        """Stream `message`, and cancel its task as soon as the agent names it."""
        answer, reading = Answer(native="StreamResponse"), Reading()
        client = await self._client(url, True)
        request = self._request([TextPart(message.text)], thread)
        try:
            async with _closing(client.send_message(request)) as events:
                async for event in events:
                    if text := reading.fold(event):
                        answer.deltas.append(text)
                    if reading.task_id and reading.state not in TERMINAL:
                        task = await client.cancel_task(CancelTaskRequest(id=reading.task_id))
                        answer.state = state_name(task.status.state)
                        return answer
        except Exception as exc:  # a refused cancel is part of the answer
            answer.error = f"{type(exc).__name__}: {exc}"
            return answer
        return self._finish(reading, thread, answer)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
