"""Pydantic AI participants: agents on a scripted `FunctionModel`, and a caller that runs a
Pydantic AI `Agent` on `A2AModel` (the adapter's `from_a2a`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_ai import Agent, BinaryContent, StructuredContent
from pydantic_ai import messages as ai
from pydantic_ai.exceptions import AgentRunError, ModelAPIError, UnexpectedModelBehavior
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

import bridges
from scenarios.model import Answer, Message, Participant
from scenarios.participants import Notes, OnDelta, cancel_after_first_delta
from scenarios.script import (
    Ask,
    Fail,
    FileSeen,
    Give,
    Handoff,
    Request,
    Stall,
    Verdict,
    chunks,
    respond,
)

__all__ = ["Caller", "HandoffModel", "server"]

INSTRUCTIONS = {
    "coder": "You write small Python functions and revise them as the reviewer asks.",
    "scout": "You research the topic you are given and answer with two short sentences.",
}
RUN_ERRORS = (ModelAPIError, UnexpectedModelBehavior, AgentRunError)


class ChecklistItem(BaseModel):
    """One item of a handoff's checklist."""

    step: str
    done: bool


class HandoffModel(BaseModel):
    """The planner's typed output."""

    ticket: str
    title: str
    priority: int
    estimate_hours: float
    assignees: list[str]
    blocked: bool
    notes: str | None
    checklist: list[ChecklistItem]


OUTPUT_TYPES: dict[str, Any] = {"assistant": [str, Verdict], "planner": HandoffModel}


def _content_text(content: str | Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(item for item in content if isinstance(item, str))


def _request(messages: list[ai.ModelMessage]) -> Request:
    """The newest user prompt and the conversation before it, as the script reads them."""
    history: list[tuple[str, str]] = []
    for message in messages[:-1]:
        if isinstance(message, ai.ModelResponse):
            history.append(
                ("agent", "".join(p.content for p in message.parts if isinstance(p, ai.TextPart)))
            )
            continue
        for part in message.parts:
            if isinstance(part, ai.UserPromptPart):
                history.append(("user", _content_text(part.content)))
    prompts = [p for p in messages[-1].parts if isinstance(p, ai.UserPromptPart)]
    items = [i for p in prompts for i in ([p.content] if isinstance(p.content, str) else p.content)]
    texts = [i for i in items if isinstance(i, str)]
    # The adapter folds unanswered user turns (one whose run failed) into the prompt, before
    # the new one: the script, like a model would, answers the newest.
    history += [("user", text) for text in texts[:-1]]
    return Request(
        text=texts[-1] if texts else "",
        history=tuple(history),
        files=tuple(FileSeen(i.media_type, i.data) for i in items if isinstance(i, BinaryContent)),
        data=tuple(i.value for i in items if isinstance(i, StructuredContent)),
    )


def server(participant: Participant, notes: Notes, model: str | None) -> Agent[None, Any]:
    """A Pydantic AI agent on a scripted FunctionModel, or on `model`."""
    behaviour = participant.behaviour
    output_type = OUTPUT_TYPES.get(behaviour, str)
    if model is not None:
        return Agent(
            model,
            output_type=output_type,
            name=participant.name,
            instructions=INSTRUCTIONS.get(behaviour),
        )

    async def reply(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        action = respond(behaviour, _request(messages))
        if isinstance(action, Give):
            return ai.ModelResponse([ai.ToolCallPart(info.output_tools[0].name, action.value)])
        if isinstance(action, Fail):
            raise RuntimeError(action.message)
        if isinstance(action, Stall):
            await _stall(notes, action)
        text = action.question if isinstance(action, Ask) else getattr(action, "text", "")
        return ai.ModelResponse([ai.TextPart(text or "done")])

    async def stream(
        messages: list[ai.ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
        action = respond(behaviour, _request(messages))
        if isinstance(action, Give):
            tool = info.output_tools[0].name
            yield {0: DeltaToolCall(name=tool, json_args=json.dumps(action.value))}
        elif isinstance(action, Fail):
            raise RuntimeError(action.message)
        elif isinstance(action, Stall):
            yield action.first
            await _stall(notes, action)
            yield " and done"
        else:
            # Pydantic AI agents cannot ask their caller: a question is just said.
            for piece in chunks(action.question if isinstance(action, Ask) else action.text):
                yield piece
                await asyncio.sleep(0)

    model_ = FunctionModel(reply, stream_function=stream, model_name=f"scripted-{behaviour}")
    return Agent(model_, output_type=output_type, name=participant.name)


async def _stall(notes: Notes, action: Stall) -> None:
    notes("run started")
    try:
        await asyncio.sleep(action.seconds)
    except asyncio.CancelledError:
        notes("run cancelled")
        raise
    notes("run finished")


# --- the caller ---

OUTPUTS: dict[str | None, Any] = {None: str, "verdict": Verdict, "handoff": Handoff}


def _prompt(message: Message) -> str | list[Any]:
    if message.file is None:
        return message.text
    f = message.file
    return [message.text, BinaryContent(f.data, media_type=f.media_type, identifier=f.name)]


def _jsonable(output: Any) -> Any:
    return output.model_dump(mode="json") if isinstance(output, BaseModel) else output


class Caller:
    """Runs a Pydantic AI `Agent` whose model is the remote agent (`A2AModel`); a conversation
    goes on by passing the previous run's messages as `message_history`, as usual."""

    def __init__(self, participant: Participant, headers: dict[str, str]) -> None:
        self.participant = participant
        self.headers = headers
        self._agents: dict[tuple[str, str | None], Agent[None, Any]] = {}
        self._histories: dict[tuple[str, str], list[ai.ModelMessage]] = {}

    def _agent(self, url: str, output: str | None) -> Agent[None, Any]:
        # One agent per remote and output type; a run without history starts a conversation.
        key = (url, output)
        if key not in self._agents:
            self._agents[key] = bridges.from_a2a(
                url,
                framework="pydantic_ai",
                headers=self.headers,
                output_type=OUTPUTS[output],
                name=self.participant.name,
            )
        return self._agents[key]

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
        agent = self._agent(url, output)
        history = self._histories.get((url, thread))
        answer = Answer()
        try:
            if stream:
                async with agent.run_stream(_prompt(message), message_history=history) as result:
                    async for delta in result.stream_text(delta=True, debounce_by=None):
                        answer.deltas.append(delta)
                        if on_delta is not None:
                            on_delta(delta)
                    value = await result.get_output()
                    messages = result.all_messages()
            else:
                run = await agent.run(_prompt(message), message_history=history)
                value, messages = run.output, run.all_messages()
        except RUN_ERRORS as exc:
            answer.error = f"{type(exc).__name__}: {exc}"
            return answer
        self._histories[(url, thread)] = messages
        answer.native = type(value).__name__
        if isinstance(value, str):
            answer.text = value
        else:
            answer.data = _jsonable(value)
        last = next((m for m in reversed(messages) if isinstance(m, ai.ModelResponse)), None)
        answer.state = ((last.provider_details or {}) if last else {}).get("state")
        return answer

    async def cancel(self, url: str, message: Message, *, thread: str) -> Answer:
        return await cancel_after_first_delta(
            lambda on_delta: self.send(url, message, thread=thread, stream=True, on_delta=on_delta)
        )

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        raise ValueError(
            f"no orchestrating behaviour {self.participant.behaviour!r} for Pydantic AI"
        )

    async def aclose(self) -> None:
        return None
