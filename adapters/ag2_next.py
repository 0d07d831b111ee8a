"""AG2's new framework (`ag2` 1.x, `from ag2 import Agent`) as A2A servers, and remote A2A agents
as ag2 agents.

Served, an agent answers each message with `Agent.run` on a stream whose history is the
context's earlier turns (`ModelRequest`s and `ModelResponse`s, as ag2 keeps a conversation);
its `ModelMessageChunk`s stream as text, text/data/files arrive as `TextInput`, `DataInput`,
`BinaryInput` and `UrlInput`, and an answer its `response_schema` validates to something other
than text is a data part. A question it asks (`context.input(...)`, a tool approval) goes to
the caller as INPUT_REQUIRED, unless the agent has a `hitl_hook` of its own to answer it.

Called, a remote agent is the model of an ordinary `Agent`: `A2AModelConfig(url)` is an ag2
`ModelConfig`. Each model call sends only the inputs since the remote's last answer; the remote
contextId rides in the conversation's variables, so `await reply.ask(...)` goes on with the
same remote conversation and `agent.ask(...)` starts a new one. A question the remote asks is
put to the agent's `hitl_hook` and answered in the same task; with no hook, the question is the
reply (`finish_reason="input_required"`) and the next `reply.ask(...)` answers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from typing_extensions import Unpack

from a2a_bridges.adapter import Adapter, missing

try:
    import pydantic_core
    from ag2 import Agent, AgentReply, Context
    from ag2.config import LLMClient, ModelConfig, ModelProvider
    from ag2.config.input_acceptance import binary_kind_of, input_media_types
    from ag2.context import ConversationContext
    from ag2.events import (
        BaseEvent,
        BinaryInput,
        BinaryResult,
        BinaryType,
        DataInput,
        HumanInputRequest,
        Input,
        ModelMessage,
        ModelMessageChunk,
        ModelRequest,
        ModelResponse,
        TextInput,
        UrlInput,
    )
    from ag2.exceptions import HumanInputNotProvidedError, UnsupportedInputError
    from ag2.files.protocol import FilesClient
    from ag2.response import ResponseProto
    from ag2.stream import MemoryStream
    from ag2.tools.final import FunctionTool, Toolkit
    from ag2.tools.schemas import ToolSchema
    from ag2.tools.tool import Tool
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing("ag2 1.x", "ag2-next") from _exc

from a2a_bridges import Conversation, DataPart, FilePart, Part, TextPart, Turn
from a2a_bridges.card import CardInfo, Skill, tool_skill
from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import parts_text, with_renderings, without_renderings
from a2a_bridges.runner import Event, InputRequired, Reply, TextDelta

__all__ = [
    "PROVIDER",
    "A2AModelClient",
    "A2AModelConfig",
    "AG2NextAdapter",
    "AG2NextRunner",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]

PROVIDER = "a2a"
"""`provider` of the responses `A2AModelClient` returns; their `response_id` is the remote task."""

_STATE = "a2a:bridges:{url}"
"""The conversation variable holding a remote's contextId and waiting task. ag2 never sends
variables under `a2a:` to a peer."""


# --- parts <-> ag2 inputs ---


def _kind(part: FilePart) -> BinaryType:
    media_type = part.media_type or mimetypes.guess_type(part.name or part.uri or "")[0] or ""
    return binary_kind_of(media_type) or BinaryType.BINARY


def _input(part: Part) -> Input:
    """One of our parts as an ag2 input."""
    if isinstance(part, TextPart):
        return TextInput(part.text)
    if isinstance(part, DataPart):
        return DataInput(part.data)
    if part.uri is not None:
        return UrlInput(part.uri, kind=_kind(part))
    assert part.bytes is not None
    return BinaryInput(
        part.bytes,
        media_type=part.media_type or "application/octet-stream",
        vendor_metadata={"filename": part.name} if part.name else {},
        kind=_kind(part),
    )


def _part(item: Input) -> Part:
    """An ag2 input as our part."""
    if isinstance(item, TextInput):
        return TextPart(item.content)
    if isinstance(item, DataInput):
        return DataPart(pydantic_core.to_jsonable_python(item.data))
    if isinstance(item, BinaryInput):
        name = item.vendor_metadata.get("filename")
        return FilePart(bytes=item.data, media_type=str(item.media_type), name=name)
    if isinstance(item, UrlInput):
        return FilePart(uri=item.url)
    raise UnsupportedInputError(type(item).__name__, PROVIDER)


# --- server: the conversation as ag2 history ---


def _request(turn: Turn) -> ModelRequest:
    return ModelRequest([_input(p) for p in turn.parts] or [TextInput("")])


def _event(turn: Turn) -> BaseEvent:
    if turn.role == "user":
        return _request(turn)
    # Data the agent answered earlier reads as the JSON text a model would have written.
    return ModelResponse(ModelMessage(parts_text(with_renderings(turn.parts))))


async def _answer(reply: AgentReply[Any, Any], schema: ResponseProto[Any] | None) -> list[Part]:
    """The reply as parts: its text, or the value its schema validates; and its files."""
    value = reply.body if schema is None else await reply.content()
    parts: list[Part] = []
    if isinstance(value, str):
        parts.append(TextPart(value))
    elif value is not None:
        parts.append(DataPart(pydantic_core.to_jsonable_python(value)))
    for file in reply.files:
        meta = file.metadata
        parts.append(
            FilePart(file.data, media_type=meta.get("media_type"), name=meta.get("filename"))
        )
    return parts


@dataclass
class _Question:
    text: str
    answer: asyncio.Future[str]


class _Relay:
    """What a run says while it runs, in order: its text chunks and its questions."""

    def __init__(self) -> None:
        self.items: asyncio.Queue[TextDelta | _Question | None] = asyncio.Queue()

    async def chunk(self, event: ModelMessageChunk) -> None:
        self.items.put_nowait(TextDelta(event.content))

    async def ask(self, event: HumanInputRequest) -> str:
        """A question of the run: the caller answers."""
        question = _Question(event.content, asyncio.get_running_loop().create_future())
        self.items.put_nowait(question)
        return await question.answer

    def end(self, _: object) -> None:
        self.items.put_nowait(None)


class AG2NextRunner:
    """Runs an ag2 `Agent` on the conversation, one `Agent.run` per message.

    An agent with a hitl hook of its own answers its questions in-process, as ag2's servers
    do. One without runs as a copy of itself that holds our hook, which puts each question to
    the caller of the run whose stream asks: a hook handed to `Agent.run` is wrapped anew on
    every run (ag2 builds its call model, about 0.2 ms), one set on an agent once. The copy is
    made again whenever one of the agent's attributes was set anew.
    """

    def __init__(self, agent: Agent[Any]) -> None:
        self.agent = agent
        # The copy, and the ids of the agent's attributes it was made from.
        self._asking: tuple[Agent[Any], tuple[int, ...]] | None = None
        self._relays: dict[int, _Relay] = {}  # id of a run's stream → where its questions go

    def _runs(self) -> Agent[Any]:
        """The agent that runs: this one, or (no hook of its own) its copy with ours."""
        if self.agent.has_hitl_hook:
            return self.agent
        made_from = tuple(map(id, vars(self.agent).values()))
        if self._asking is None or self._asking[1] != made_from:
            asking = copy.copy(self.agent)
            asking.hitl_hook(self._ask)
            self._asking = (asking, made_from)
        return self._asking[0]

    async def _ask(self, event: HumanInputRequest, context: Context) -> str:
        relay = self._relays.get(id(context.stream))
        if relay is None:  # not one of our runs' streams: nobody here can answer
            raise HumanInputNotProvidedError
        return await relay.ask(event)

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        stream = MemoryStream()
        await stream.history.replace([_event(t) for t in conversation.history])
        relay = _Relay()
        if conversation.streaming:
            # Only for a caller that reads the answer as it comes: ag2 builds a call model for
            # each subscriber (fast_depends, about 0.23 ms, 3% of a served echo agent's time).
            stream.where(ModelMessageChunk).subscribe(relay.chunk)
        request = _request(conversation.last)
        self._relays[id(stream)] = relay
        try:
            # Leaving the run's block (on cancel too) cancels the run.
            async with self._runs().run(*request.parts, stream=stream) as run:
                result = asyncio.ensure_future(run.result())
                result.add_done_callback(relay.end)
                while (item := await relay.items.get()) is not None:
                    if isinstance(item, _Question):
                        answer = yield InputRequired((TextPart(item.text),))
                        item.answer.set_result(answer.text if answer else "")
                    else:
                        yield item
                yield Reply(tuple(await _answer(await result, self.agent.response_schema)))
        finally:
            del self._relays[id(stream)]


def _skills(tools: Iterable[Tool]) -> list[Skill]:
    """The agent's function tools, those in toolkits too, as card skills."""
    skills: list[Skill] = []
    for tool in tools:
        if isinstance(tool, FunctionTool):
            function = tool.schema.function
            skills.append(tool_skill(function.name, function.description))
        elif isinstance(tool, Toolkit):
            skills += _skills(tool.tools)
    return skills


# --- client: a remote agent as a model ---


def _new_inputs(messages: Sequence[BaseEvent]) -> list[Part]:
    """What the remote has not seen: the inputs since its last answer."""
    parts: list[Part] = []
    for event in reversed(messages):
        if isinstance(event, ModelResponse):
            break
        if isinstance(event, ModelRequest):
            parts[:0] = [_part(item) for item in event.parts]
    return parts


def _files(parts: Iterable[Part]) -> list[BinaryResult]:
    """The reply's inline files, as ag2 hands over the files a model makes (`reply.files`)."""
    files = []
    for part in parts:
        if isinstance(part, FilePart) and part.bytes is not None:
            meta = {"media_type": part.media_type, "filename": part.name}
            files.append(BinaryResult(part.bytes, {k: v for k, v in meta.items() if v}))
    return files


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _body(
    reply: Reply, schema: ResponseProto[Any] | None, context: ConversationContext
) -> str:
    """The reply as the text of a model response; under a schema, its data (or JSON text) as
    the JSON the schema validates."""
    text = parts_text(without_renderings(reply.parts))
    if schema is None:
        return text if text or reply.data is None else _json(reply.data)
    value = reply.data if reply.data is not None else _loads(text)
    if value is None:
        return text
    # ag2 has a schema that is not an object answered as `{"data": ...}`.
    for body in (_json(value), _json({"data": value})):
        with contextlib.suppress(ValueError):
            await schema.validate(body, context)
            return body
    return text


class A2AModelClient(LLMClient):
    """Calls the remote agent for one model call: ag2's `LLMClient` protocol.

    Streams the remote's text as `ModelMessageChunk`s. The agent's own tools stay local: the
    remote agent never calls them. A failed remote task raises `RemoteAgentError`.
    """

    def __init__(self, remote: RemoteAgent) -> None:
        self.remote = remote

    async def __call__(
        self,
        messages: Sequence[BaseEvent],
        context: ConversationContext,
        *,
        tools: Iterable[ToolSchema] = (),
        response_schema: ResponseProto[Any] | None = None,
        **_: Any,
    ) -> ModelResponse:
        key = _STATE.format(url=self.remote.url)
        state = context.variables.get(key) or {}
        conversation = RemoteConversation(
            self.remote, state.get("context_id"), pending=state.get("pending")
        )
        turn = Turn("user", tuple(_new_inputs(messages)) or (TextPart(""),))
        try:
            reply = await self._exchange(conversation, turn, context)
            while reply.input_required:
                try:
                    answer = await context.input(reply.text)
                except HumanInputNotProvidedError:
                    break  # nobody here answers: the question is the reply
                reply = await self._exchange(
                    conversation, Turn("user", (TextPart(answer),)), context
                )
        finally:
            context.variables[key] = {
                "context_id": conversation.context_id,
                "pending": conversation.pending,
            }
        body = await _body(reply, response_schema, context)
        message = ModelMessage(body) if body else None
        if message is not None:
            await context.send(message)
        return ModelResponse(
            message,
            files=_files(reply.parts),
            model=self.remote.url,
            provider=PROVIDER,
            finish_reason=(reply.state or "completed").replace("-", "_"),
            response_id=reply.task_id,
        )

    async def _exchange(
        self, conversation: RemoteConversation, turn: Turn, context: ConversationContext
    ) -> Reply:
        reply: Reply | None = None
        # As ag2's own model clients: chunks only from a model that streams.
        chunks = await self.remote.streams()
        # Closed with this call, so that an abandoned answer's remote task is cancelled.
        async with contextlib.aclosing(conversation.stream(turn)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if chunks:
                        await context.send(ModelMessageChunk(event.text))
                else:
                    reply = event
        assert reply is not None  # the stream ends with the reply, or raises
        return reply


class A2AModelConfig(ModelConfig):
    """A remote A2A agent as an ag2 model: `Agent("name", config=A2AModelConfig(url))`.

    Reaches every server `RemoteAgent` does (A2A 1.0 and 0.3, JSON-RPC, HTTP+JSON, gRPC);
    `options` are the `ClientOptions`. Nothing is fetched until the first call.
    """

    def __init__(self, url: str, **options: Unpack[ClientOptions]) -> None:
        self.remote = RemoteAgent(url, **options)

    @property
    def provider(self) -> ModelProvider:
        """None: ag2 says so with `NotImplementedError`, as its own `A2AConfig` does."""
        raise NotImplementedError("a remote A2A agent is no model provider's")

    @property
    def model(self) -> str:
        """The remote agent's URL."""
        return self.remote.url

    def create_files_client(self) -> FilesClient[Any]:
        raise NotImplementedError("a remote A2A agent has no Files API")

    def copy(self) -> Self:
        # The copy shares the connections, as copies of the same model may.
        return self

    def create(self) -> A2AModelClient:
        return A2AModelClient(self.remote)


# --- the adapter ---


class AG2NextAdapter(Adapter):
    """ag2 1.x `Agent`s served, and remote agents as `Agent`s on `A2AModelConfig`."""

    name = "ag2_next"
    serves = "ag2 1.x agents (ag2.Agent)"
    participant = "a2a_bridges.adapters.participants.ag2_next:participant"
    agent_types = (Agent,)

    def card(self, agent: Agent[Any]) -> CardInfo:
        media = input_media_types(agent.config)
        return CardInfo(
            name=agent.name,
            description=next(iter(agent.system_prompt), ""),
            skills=_skills(agent.tools),
            input_modes=("text/plain", "application/json", *media),
        )

    def runner(self, agent: Agent[Any]) -> AG2NextRunner:
        return AG2NextRunner(agent)

    def remote(self, url: str, client: ClientOptions, **agent_options: Any) -> Agent[Any]:
        """An `Agent` on `A2AModelConfig(url)`; `agent_options` go to `Agent` (`name`
        defaults to `remote`)."""
        name = agent_options.pop("name", "remote")
        return Agent(name, config=A2AModelConfig(url, **client), **agent_options)


adapter = AG2NextAdapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a
