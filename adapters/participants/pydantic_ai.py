"""Pydantic AI participants: agents on a scripted `FunctionModel`, and a caller that runs a
Pydantic AI `Agent` on `A2AModel` (the adapter's `from_a2a`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, get_type_hints

from pydantic import BaseModel, create_model
from pydantic_ai import Agent, BinaryContent, StructuredContent
from pydantic_ai import messages as ai
from pydantic_ai.exceptions import AgentRunError, ModelAPIError, UnexpectedModelBehavior
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from a2a_bridges.adapters.pydantic_ai import A2AModel, adapter
from a2a_bridges.errors import AgentError
from a2a_bridges.testing import script
from a2a_bridges.testing.participant import Answer, Call, Caller, Message, Notes, Participant

__all__ = [
    "INSTRUCTIONS",
    "OUTPUTS",
    "OUTPUT_TYPES",
    "RUN_ERRORS",
    "HandoffModel",
    "PydanticAICaller",
    "PydanticAIParticipant",
    "participant",
]

INSTRUCTIONS = {
    "coder": "You write small Python functions and revise them as the reviewer asks.",
    "scout": "You research the topic you are given and answer with two short sentences.",
}
RUN_ERRORS = (ModelAPIError, UnexpectedModelBehavior, AgentRunError)


# The planner's output is a pydantic model, as a Pydantic AI user would write it, with the
# fields of the script's `Handoff`.
_HANDOFF_FIELDS: dict[str, Any] = {
    name: (kind, ...) for name, kind in get_type_hints(script.Handoff).items()
}
HandoffModel = create_model(
    "HandoffModel", __doc__="The planner's typed output.", **_HANDOFF_FIELDS
)


OUTPUT_TYPES: dict[str, Any] = {"assistant": [str, script.Verdict], "planner": HandoffModel}


def _content_text(content: str | Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(item for item in content if isinstance(item, str))


def _request(messages: list[ai.ModelMessage]) -> script.Request:
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
    return script.Request(
        text=texts[-1] if texts else "",
        history=tuple(history),
        files=tuple(
            script.FileSeen(i.media_type, i.data) for i in items if isinstance(i, BinaryContent)
        ),
        data=tuple(i.value for i in items if isinstance(i, StructuredContent)),
    )


def _server(name: str, behaviour: str, notes: Notes, model: str | None) -> Agent[None, Any]:
    """A Pydantic AI agent on a scripted FunctionModel, or on `model`."""
    output_type = OUTPUT_TYPES.get(behaviour, str)
    if model is not None:
        return Agent(
            model,
            output_type=output_type,
            name=name,
            instructions=INSTRUCTIONS.get(behaviour),
        )

    async def reply(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        action = script.respond(behaviour, _request(messages))
        if isinstance(action, script.Give):
            return ai.ModelResponse([ai.ToolCallPart(info.output_tools[0].name, action.value)])
        if isinstance(action, script.Fail):
            raise AgentError(action.message)
        if isinstance(action, script.Stall):
            await script.stall(action, notes)
        text = action.question if isinstance(action, script.Ask) else getattr(action, "text", "")
        return ai.ModelResponse([ai.TextPart(text or "done")])

    async def stream(
        messages: list[ai.ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
        action = script.respond(behaviour, _request(messages))
        if isinstance(action, script.Give):
            tool = info.output_tools[0].name
            yield {0: DeltaToolCall(name=tool, json_args=json.dumps(action.value))}
        elif isinstance(action, script.Fail):
            raise AgentError(action.message)
        elif isinstance(action, script.Stall):
            yield action.first
            yield await script.stall(action, notes)
        else:
            # Pydantic AI agents cannot ask their caller: a question is just said.
            for piece in script.chunks(
                action.question if isinstance(action, script.Ask) else action.text
            ):
                yield piece
                await asyncio.sleep(0)

    model_ = FunctionModel(reply, stream_function=stream, model_name=f"scripted-{behaviour}")
    return Agent(model_, output_type=output_type, name=name)


# --- the caller ---

OUTPUTS: dict[str | None, Any] = {None: str, "verdict": script.Verdict, "handoff": script.Handoff}


def _prompt(message: Message) -> str | list[Any]:
    if message.file is None:
        return message.text
    f = message.file
    return [message.text, BinaryContent(f.data, media_type=f.media_type, identifier=f.name)]


def _jsonable(output: Any) -> Any:
    return output.model_dump(mode="json") if isinstance(output, BaseModel) else output


class PydanticAICaller(Caller):
    """Runs a Pydantic AI `Agent` whose model is the remote agent (`A2AModel`); a conversation
    goes on by passing the previous run's messages as `message_history`, as usual."""

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        super().__init__(name, behaviour, headers)
        self._agents: dict[tuple[str, str | None], Agent[None, Any]] = {}
        self._histories: dict[tuple[str, str], list[ai.ModelMessage]] = {}

    def _agent(self, url: str, output: str | None) -> Agent[None, Any]:
        # One agent per remote and output type; a run without history starts a conversation.
        key = (url, output)
        if key not in self._agents:
            self._agents[key] = adapter.from_a2a(
                url, headers=self.headers, output_type=OUTPUTS[output], name=self.name
            )
        return self._agents[key]

    async def answer(self, call: Call) -> Answer:
        agent = self._agent(call.url, call.output)
        history = self._histories.get((call.url, call.thread))
        answer = Answer()
        try:
            if call.stream:
                async with agent.run_stream(
                    _prompt(call.message), message_history=history
                ) as result:
                    async for delta in result.stream_text(delta=True, debounce_by=None):
                        answer.deltas.append(delta)
                        if call.on_delta is not None:
                            call.on_delta(delta)
                    value = await result.get_output()
                    messages = result.all_messages()
            else:
                run = await agent.run(_prompt(call.message), message_history=history)
                value, messages = run.output, run.all_messages()
        except RUN_ERRORS as exc:
            answer.error = f"{type(exc).__name__}: {exc}"
            return answer
        self._histories[(call.url, call.thread)] = messages
        answer.native = type(value).__name__
        if isinstance(value, str):
            answer.text = value
        else:
            answer.data = _jsonable(value)
        last = next((m for m in reversed(messages) if isinstance(m, ai.ModelResponse)), None)
        answer.state = ((last.provider_details or {}) if last else {}).get("state")
        return answer

    async def aclose(self) -> None:
        for agent in self._agents.values():
            if isinstance(agent.model, A2AModel):
                await agent.model.remote.aclose()


class PydanticAIParticipant(Participant):
    """Agents on a scripted `FunctionModel` (or a real model); callers on `A2AModel`."""

    short = "pai"
    takes_models = True

    def server(
        self, name: str, behaviour: str, notes: Notes, model: str | None = None
    ) -> Agent[None, Any]:
        return _server(name, behaviour, notes, model)

    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> PydanticAICaller:
        return PydanticAICaller(name, behaviour, headers)


participant = PydanticAIParticipant()
