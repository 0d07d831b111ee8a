"""Plain-function participants: an async generator that follows the script, and a caller on
`RemoteFunction` (the functions adapter's `from_a2a`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from a2a_bridges.adapters.functions import RemoteFunction, adapter
from a2a_bridges.conversation import Conversation, DataPart, FilePart, Part, TextPart
from a2a_bridges.errors import AgentError, RemoteAgentError
from a2a_bridges.runner import InputRequired, Reply, TextDelta
from a2a_bridges.testing import script
from a2a_bridges.testing.participant import Answer, Call, Caller, Message, Notes, Participant

__all__ = ["FunctionCaller", "FunctionsParticipant", "participant"]


def _request(conversation: Conversation) -> script.Request:
    last = conversation.last
    return script.Request(
        text=last.text,
        history=tuple((t.role, t.text) for t in conversation.history),
        files=tuple(
            script.FileSeen(p.media_type or "", p.bytes)
            for p in last.parts
            if isinstance(p, FilePart) and p.bytes is not None
        ),
        data=tuple(p.data for p in last.parts if isinstance(p, DataPart)),
    )


def _parts(message: Message) -> list[Part]:
    parts: list[Part] = [TextPart(message.text)]
    if message.file is not None:
        f = message.file
        parts.append(FilePart(bytes=f.data, media_type=f.media_type, name=f.name))
    return parts


class FunctionCaller(Caller):
    """Calls agents through `RemoteFunction`: one per agent and conversation."""

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        super().__init__(name, behaviour, headers)
        self._functions: dict[tuple[str, str], RemoteFunction] = {}

    def _function(self, url: str, thread: str) -> RemoteFunction:
        if (url, thread) not in self._functions:
            self._functions[(url, thread)] = adapter.from_a2a(
                url, headers=self.headers, conversation=True
            )
        return self._functions[(url, thread)]

    async def answer(self, call: Call) -> Answer:
        fn = self._function(call.url, call.thread)
        answer = Answer(native="Reply")
        assert fn.conversation is not None
        reply: Reply | None = None
        try:
            if call.stream:
                # RemoteFunction answers whole replies; its conversation streams.
                async for event in fn.conversation.stream(_parts(call.message)):
                    if isinstance(event, TextDelta):
                        answer.deltas.append(event.text)
                        if call.on_delta is not None:
                            call.on_delta(event.text)
                    else:
                        reply = event
            else:
                reply = await fn.reply(_parts(call.message))
        except RemoteAgentError as exc:
            answer.error = exc.message
            return answer
        assert reply is not None
        answer.text, answer.data, answer.state = reply.text, reply.data, reply.state
        return answer

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        fn = self._function(url, thread)
        assert fn.conversation is not None
        answer = Answer(native="Reply")
        events = fn.conversation.stream(_parts(message))
        try:
            async for event in events:
                if isinstance(event, TextDelta):
                    answer.deltas.append(event.text)
                    # A plain-function caller cancels through the conversation's own API.
                    answer.state = await fn.conversation.cancel()
                    break
        except RemoteAgentError as exc:
            answer.error = exc.message
        finally:
            await events.aclose()
        return answer

    async def aclose(self) -> None:
        for fn in self._functions.values():
            await fn.aclose()


class FunctionsParticipant(Participant):
    """Plain async generators that follow the script; callers on `RemoteFunction`."""

    short = "fn"
    asks = True

    def server(
        self, name: str, behaviour: str, notes: Notes, model: str | None = None
    ) -> Callable[..., Any]:
        """A plain async generator function that follows the script."""
        if model is not None:
            raise ValueError("a plain function has no model to replace")

        async def agent(conversation: Conversation) -> AsyncGenerator[Any, Any]:
            action = script.respond(behaviour, _request(conversation))
            if isinstance(action, script.Say):
                for piece in script.chunks(action.text):
                    yield piece
                    await asyncio.sleep(0)
            elif isinstance(action, script.Give):
                yield DataPart(action.value)
            elif isinstance(action, script.Ask):
                answer = yield InputRequired((TextPart(action.question),))
                yield script.after_answer(action.question, answer.text)
            elif isinstance(action, script.Fail):
                raise AgentError(action.message)
            elif isinstance(action, script.Stall):
                yield action.first
                yield await script.stall(action, notes)

        agent.__name__ = name
        agent.__doc__ = f"A scripted {behaviour}, written as a plain function."
        return agent

    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> FunctionCaller:
        return FunctionCaller(name, behaviour, headers)


participant = FunctionsParticipant()
