"""ag2 1.x participants: agents on a scripted model config, and callers that run an ag2 `Agent`
whose model is the remote agent (the adapter's `from_a2a`)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Self

from ag2 import Agent, AgentReply, BinaryInput, DataInput, TextInput
from ag2.config import LLMClient, ModelConfig, ModelProvider
from ag2.context import ConversationContext
from ag2.events import (
    BaseEvent,
    Input,
    ModelMessage,
    ModelMessageChunk,
    ModelRequest,
    ModelResponse,
)
from ag2.exceptions import AG2Error
from ag2.response import ResponseProto
from pydantic import ValidationError

from a2a_bridges.adapters.ag2_next import A2AModelConfig, adapter
from a2a_bridges.errors import AgentError, RemoteAgentError
from a2a_bridges.testing import script
from a2a_bridges.testing.participant import Answer, Call, Caller, Message, Notes, Participant

__all__ = [
    "OUTPUTS",
    "PROMPTS",
    "AG2NextCaller",
    "AG2NextParticipant",
    "ScriptedClient",
    "ScriptedConfig",
    "TextOrData",
    "participant",
]

PROMPTS = {
    "coder": "You write small Python functions and revise them as the reviewer asks.",
    "scout": "You research the topic you are given and answer with two short sentences.",
    "checker": "You fact-check the topic you are given and answer in one sentence.",
}


def _text(inputs: Sequence[Input]) -> str:
    return "\n".join(i.content for i in inputs if isinstance(i, TextInput))


def _request(messages: Sequence[BaseEvent]) -> script.Request:
    """The newest request and the conversation before it, as the script reads them."""
    # A tuple: `|` between ag2 event classes makes a stream condition, not a union.
    turns = [m for m in messages if isinstance(m, (ModelRequest, ModelResponse))]
    last = turns.pop() if turns else None
    inputs = last.parts if isinstance(last, ModelRequest) else []
    history = [
        ("user", _text(m.parts)) if isinstance(m, ModelRequest) else ("agent", m.content or "")
        for m in turns
    ]
    files = [
        script.FileSeen(str(i.media_type), i.data) for i in inputs if isinstance(i, BinaryInput)
    ]
    return script.Request(
        text=_text(inputs),
        history=tuple(history),
        files=tuple(files),
        data=tuple(i.data for i in inputs if isinstance(i, DataInput)),
    )


class ScriptedClient(LLMClient):
    """A model that follows a behaviour's script: it streams what it says, asks through the
    conversation's `input`, and answers data as JSON, as a model under a schema does."""

    def __init__(self, behaviour: str, notes: Notes) -> None:
        self.behaviour = behaviour
        self.notes = notes

    async def __call__(
        self, messages: Sequence[BaseEvent], context: ConversationContext, **_: Any
    ) -> ModelResponse:
        action = script.respond(self.behaviour, _request(messages))
        if isinstance(action, script.Give):
            return ModelResponse(ModelMessage(json.dumps(action.value)))
        if isinstance(action, script.Fail):
            raise AgentError(action.message)
        if isinstance(action, script.Stall):
            await script.stall(action, self.notes, say=lambda text: self._say(context, text))
            await self._say(context, " and done")
            return ModelResponse(ModelMessage(f"{action.first} and done"))
        if isinstance(action, script.Ask):
            answer = await context.input(action.question)
            text = script.after_answer(action.question, answer)
        else:
            text = action.text
        await self._say(context, text)
        return ModelResponse(ModelMessage(text))

    async def _say(self, context: ConversationContext, text: str) -> None:
        for piece in script.chunks(text):
            await context.send(ModelMessageChunk(piece))
            await asyncio.sleep(0)


class ScriptedConfig(ModelConfig):
    """The scripted model, as an ag2 model config."""

    def __init__(self, behaviour: str, notes: Notes) -> None:
        self.behaviour = behaviour
        self.notes = notes

    @property
    def provider(self) -> ModelProvider:
        raise NotImplementedError  # a script is no provider's model

    @property
    def model(self) -> str:
        return f"scripted-{self.behaviour}"

    def create_files_client(self) -> Any:
        raise NotImplementedError

    def copy(self) -> Self:
        return self

    def create(self) -> LLMClient:
        return ScriptedClient(self.behaviour, self.notes)


class TextOrData(ResponseProto[Any]):
    """The scripted agents' answers: a JSON object is data, anything else is text."""

    name = "text_or_data"
    description = None
    json_schema = None
    system_prompt = None

    async def validate(self, response: str, context: Any, provider: Any = None) -> Any:
        try:
            value = json.loads(response)
        except ValueError:
            return response
        return value if isinstance(value, dict) else response


def _model(model: str) -> ModelConfig:
    """An ag2 model config for `provider:name`, its key from the environment."""
    from ag2.config import AnthropicConfig, GeminiConfig, OpenAIConfig

    provider, _, name = model.partition(":")
    configs: dict[str, Any] = {
        "openai": OpenAIConfig,
        "anthropic": AnthropicConfig,
        "google-gla": GeminiConfig,
        "gemini": GeminiConfig,
    }
    if provider not in configs:
        raise ValueError(f"the ag2 1.x participants run on {', '.join(configs)} models")
    config: ModelConfig = configs[provider](
        model=name, api_key=os.environ[script.PROVIDER_KEYS[provider]]
    )
    return config


def _server(name: str, behaviour: str, notes: Notes, model: str | None) -> Agent[Any]:
    """An ag2 agent on the scripted model, or on `model`."""
    prompt = PROMPTS.get(behaviour, "You are a helpful agent.")
    if model is not None:
        return Agent(name, prompt, config=_model(model))
    return Agent(
        name, prompt, config=ScriptedConfig(behaviour, notes), response_schema=TextOrData()
    )


# --- the caller ---

OUTPUTS: dict[str | None, Any] = {None: None, "verdict": script.Verdict, "handoff": script.Handoff}


def _inputs(message: Message) -> list[Input]:
    if message.file is None:
        return [TextInput(message.text)]
    f = message.file
    file = BinaryInput(f.data, media_type=f.media_type, vendor_metadata={"filename": f.name})
    return [TextInput(message.text), file]


class AG2NextCaller(Caller):
    """Asks through an ag2 `Agent` on `A2AModelConfig`; a conversation goes on with
    `reply.ask(...)` on its latest reply, as ag2 conversations do."""

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        super().__init__(name, behaviour, headers)
        self._agents: dict[str, Agent[Any]] = {}
        self._replies: dict[tuple[str, str], AgentReply[Any, Any]] = {}

    def _agent(self, url: str) -> Agent[Any]:
        if url not in self._agents:
            self._agents[url] = adapter.from_a2a(url, headers=self.headers, name=self.name)
        return self._agents[url]

    async def answer(self, call: Call) -> Answer:
        answer = Answer()

        async def delta(event: ModelMessageChunk) -> None:
            if call.stream:
                answer.deltas.append(event.content)
            if call.stream and call.on_delta is not None:
                call.on_delta(event.content)

        previous = self._replies.get((call.url, call.thread))
        ask = previous if previous is not None else self._agent(call.url)
        schema = OUTPUTS[call.output]
        try:
            async with ask.run(*_inputs(call.message), response_schema=schema) as run:
                with run.stream.where(ModelMessageChunk).sub_scope(delta):
                    reply = await run.result()
            value = await reply.content()
        except (RemoteAgentError, AG2Error, ValidationError) as exc:
            answer.error = f"{type(exc).__name__}: {exc}"
            return answer
        self._replies[(call.url, call.thread)] = reply
        answer.native = type(value).__name__
        answer.text = reply.body or ""
        if schema is not None:
            answer.data = value
        answer.state = (reply.response.finish_reason or "").replace("_", "-") or None
        return answer

    async def aclose(self) -> None:
        for agent in self._agents.values():
            if isinstance(agent.config, A2AModelConfig):
                await agent.config.remote.aclose()


class AG2NextParticipant(Participant):
    """ag2 agents on a scripted model (or a real one); callers on `A2AModelConfig`."""

    short = "ag2next"
    takes_models = True
    asks = True

    def server(
        self, name: str, behaviour: str, notes: Notes, model: str | None = None
    ) -> Agent[Any]:
        return _server(name, behaviour, notes, model)

    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> AG2NextCaller:
        return AG2NextCaller(name, behaviour, headers)


participant = AG2NextParticipant()
