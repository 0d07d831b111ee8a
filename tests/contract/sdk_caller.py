"""The bare a2a-sdk client as one more caller of the contract suite, on one transport."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.client.card_resolver import parse_agent_card
from a2a.types import CancelTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

from a2a_bridges.client.answer import Answer as Folded
from a2a_bridges.testing.participant import Answer, Call, Caller
from a2a_bridges.testing.participant import Message as Message_

TRANSPORTS = {"jsonrpc": ("JSONRPC", "1.0"), "rest-0.3": ("HTTP+JSON", "0.3")}


@dataclass
class _Thread:
    context_id: str = ""
    pending: str = ""  # a task waiting for our answer


class SdkCaller(Caller):
    """Talks to served agents with the a2a-sdk client alone, as a plain SDK user would."""

    def __init__(self, transport: str) -> None:
        super().__init__(f"sdk-{transport}", "assistant", {})
        self.transport = transport
        self._clients: dict[str, tuple[Client, httpx.AsyncClient]] = {}
        self._threads: dict[str, _Thread] = {}

    async def _client(self, url: str, stream: bool) -> Client:
        key = f"{url} {stream}"
        if key not in self._clients:
            binding, version = TRANSPORTS[self.transport]
            http = httpx.AsyncClient(timeout=30)
            card = parse_agent_card((await http.get(url + "/.well-known/agent-card.json")).json())
            keep = [i for i in card.supported_interfaces if i.protocol_version == version]
            del card.supported_interfaces[:]
            card.supported_interfaces.extend(keep)
            config = ClientConfig(
                streaming=stream, httpx_client=http, supported_protocol_bindings=[binding]
            )
            self._clients[key] = (ClientFactory(config).create(card), http)
        return self._clients[key][0]

    def _request(self, call: Call) -> SendMessageRequest:
        thread = self._threads.setdefault(call.thread, _Thread())
        parts = [Part(text=call.message.text)]
        if (f := call.message.file) is not None:
            parts.append(Part(raw=f.data, media_type=f.media_type, filename=f.name))
        message = Message(
            message_id=uuid.uuid4().hex,
            role=Role.ROLE_USER,
            parts=parts,
            context_id=thread.context_id,
            task_id=thread.pending,
        )
        return SendMessageRequest(message=message)

    async def answer(self, call: Call) -> Answer:
        client = await self._client(call.url, call.stream)
        folded, answer = Folded(), Answer(native="StreamResponse")
        async for event in client.send_message(self._request(call)):
            if text := folded.fold(event):
                answer.deltas.append(text)
                if call.on_delta is not None:
                    call.on_delta(text)
        reply = folded.reply()
        thread = self._threads[call.thread]
        thread.context_id = reply.context_id or thread.context_id
        thread.pending = (reply.task_id or "") if reply.state == "input-required" else ""
        answer.state, answer.data = reply.state, reply.data
        if reply.state in ("failed", "rejected"):
            answer.error = reply.text
        else:
            answer.text = reply.text
        return answer

    async def cancel(self, url: str, message: Message_, *, thread: str) -> Answer:
        client = await self._client(url, True)
        answer, folded = Answer(native="StreamResponse"), Folded()
        request = self._request(Call(url, message, thread, stream=True))
        async for event in client.send_message(request):
            if text := folded.fold(event):
                answer.deltas.append(text)
                task = await client.cancel_task(CancelTaskRequest(id=folded.task_id or ""))
                canceled = task.status.state == TaskState.TASK_STATE_CANCELED
                answer.state = "canceled" if canceled else str(task.status.state)
                break
        return answer

    async def aclose(self) -> None:
        for client, http in self._clients.values():
            await client.close()
            await http.aclose()
