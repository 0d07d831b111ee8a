"""Plain-function participants: an async generator served by `adapters.functions`, and a
caller on its `RemoteFunction`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import bridges
from adapters.functions import RemoteFunction
from bridges import Conversation, DataPart, FilePart, InputRequired, Part, TextDelta, TextPart
from scenarios.model import Answer, Message, Participant
from scenarios.participants import Notes, OnDelta
from scenarios.script import (
    Ask,
    Fail,
    FileSeen,
    Give,
    Request,
    Say,
    Stall,
    after_answer,
    chunks,
    respond,
)

__all__ = ["Caller", "server"]


def _request(conversation: Conversation) -> Request:
    last = conversation.last
    return Request(
        text=last.text,
        history=tuple((t.role, t.text) for t in conversation.history),
        files=tuple(
            FileSeen(p.media_type or "", p.bytes)
            for p in last.parts
            if isinstance(p, FilePart) and p.bytes is not None
        ),
        data=tuple(p.data for p in last.parts if isinstance(p, DataPart)),
    )


def server(participant: Participant, notes: Notes, model: str | None) -> Callable[..., Any]:
    """A plain async generator function that follows the participant's script."""
    if model is not None:
        raise ValueError("a plain function has no model to replace")
    behaviour = participant.behaviour

    async def agent(conversation: Conversation) -> AsyncGenerator[Any, Any]:
        action = respond(behaviour, _request(conversation))
        if isinstance(action, Say):
            for piece in chunks(action.text):
                yield piece
                await asyncio.sleep(0)
        elif isinstance(action, Give):
            yield DataPart(action.value)
        elif isinstance(action, Ask):
            answer = yield InputRequired((TextPart(action.question),))
            yield after_answer(action.question, answer.text)
        elif isinstance(action, Fail):
            raise RuntimeError(action.message)
        elif isinstance(action, Stall):
            yield action.first
            notes("run started")
            try:
                await asyncio.sleep(action.seconds)
            except asyncio.CancelledError:
                notes("run cancelled")
                raise
            notes("run finished")
            yield " and done"

    agent.__name__ = participant.name
    agent.__doc__ = f"A scripted {behaviour}, written as a plain function."
    return agent


def _parts(message: Message) -> list[Part]:
    parts: list[Part] = [TextPart(message.text)]
    if message.file is not None:
        f = message.file
        parts.append(FilePart(bytes=f.data, media_type=f.media_type, name=f.name))
    return parts


class Caller:
    """Calls agents through `RemoteFunction`: one per agent, keeping one conversation at a
    time; a new conversation starts with `new_conversation()`."""

    def __init__(self, participant: Participant, headers: dict[str, str]) -> None:
        self.participant = participant
        self.headers = headers
        self._functions: dict[str, RemoteFunction] = {}
        self._threads: dict[str, str] = {}  # url -> the conversation its function holds

    def _function(self, url: str, thread: str) -> RemoteFunction:
        if url not in self._functions:
            self._functions[url] = bridges.from_a2a(
                url, framework="functions", headers=self.headers
            )
        fn = self._functions[url]
        if self._threads.setdefault(url, thread) != thread:
            fn.remote.new_conversation()
            self._threads[url] = thread
        return fn

    async def send(
        self,
        url: str,
        message: Message,
        *,
        thread: str,
        stream: bool = False,
        output: str | None = None,
        on_delta: OnDelta | None = None,
    ) -> Answer:
        fn = self._function(url, thread)
        answer = Answer(native="Reply")
        try:
            if stream:
                # RemoteFunction answers whole replies; its RemoteAgent streams.
                async for event in fn.remote.stream(_parts(message)):
                    if isinstance(event, TextDelta):
                        answer.deltas.append(event.text)
                        if on_delta is not None:
                            on_delta(event.text)
                    else:
                        reply = event
            else:
                reply = await fn(_parts(message))
        except bridges.RemoteAgentError as exc:
            answer.error = exc.message
            return answer
        answer.text, answer.data, answer.state = reply.text, reply.data, reply.state
        return answer

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        fn = self._function(url, thread)
        answer = Answer(native="Reply")
        events = fn.remote.stream(_parts(message))
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    answer.deltas.append(event.text)
                    # A plain-function caller cancels through the remote's own API.
                    answer.state = await fn.remote.cancel()
                    break
        except bridges.RemoteAgentError as exc:
            answer.error = exc.message
        finally:
            await events.aclose()
        return answer

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        raise ValueError(f"no orchestrating behaviour {self.participant.behaviour!r} for functions")

    async def aclose(self) -> None:
        for fn in self._functions.values():
            await fn.remote.aclose()
