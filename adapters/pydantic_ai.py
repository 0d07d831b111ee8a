"""Pydantic AI agents as A2A servers, and remote A2A agents as Pydantic AI models and tools.

Served, an agent runs with the context's earlier turns as `message_history`, streams its text
as the model produces it to a caller that streams (a model that cannot stream, or a caller that
does not, gets a run without streaming), and answers a structured `output_type` with a data
part. Incoming files and data arrive as `BinaryContent`, `ImageUrl`/`DocumentUrl`/`AudioUrl`/
`VideoUrl` and `StructuredContent`.

Called, a remote agent is a `Model` (`A2AModel`) inside an ordinary `Agent`: each request sends
only the new turn; the remote contextId rides in the response's `provider_details`, so going on
with `message_history` goes on with the same remote conversation. `A2AToolset` gives any agent
remote agents as tools.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import mimetypes
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from typing_extensions import Unpack

from a2a_bridges.adapter import Adapter, missing

try:
    import pydantic_core
    from pydantic_ai import Agent, AgentRunResultEvent, RunContext, ToolFailed
    from pydantic_ai import messages as ai
    from pydantic_ai.agent import AbstractAgent
    from pydantic_ai.exceptions import ModelAPIError
    from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.models.wrapper import WrapperModel
    from pydantic_ai.profiles import ModelProfile, ModelProfileSpec
    from pydantic_ai.settings import ModelSettings
    from pydantic_ai.tools import ToolDefinition
    from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, ToolsetTool
    from pydantic_core import SchemaValidator, core_schema
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing("Pydantic AI", "pydantic-ai") from _exc

from a2a_bridges import Conversation, DataPart, FilePart, Part, TextPart, Turn
from a2a_bridges.card import CardInfo, Skill, describe, tool_name, tool_skill
from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import parts_text, without_renderings
from a2a_bridges.errors import RemoteAgentError
from a2a_bridges.runner import Event, Reply, TextDelta

__all__ = [
    "SYSTEM",
    "A2AModel",
    "A2AStreamedResponse",
    "A2AToolset",
    "DepsFactory",
    "PydanticAIAdapter",
    "PydanticAIRunner",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]

SYSTEM = "a2a"
"""`provider_name` of the responses `A2AModel` returns; its `provider_details` hold the remote
`context_id`, `task_id` and `state`."""

DepsFactory = Callable[[Conversation], Any]
"""Gives a request its agent dependencies; may be async."""


# --- server: the conversation as Pydantic AI input ---


def _media_type(part: FilePart) -> str | None:
    if part.media_type:
        return part.media_type
    guessed, _ = mimetypes.guess_type(part.name or part.uri or "")
    return guessed


_FileUrl = ai.ImageUrl | ai.AudioUrl | ai.VideoUrl | ai.DocumentUrl
_URL_TYPES: dict[str, type[_FileUrl]] = {
    "image": ai.ImageUrl,
    "audio": ai.AudioUrl,
    "video": ai.VideoUrl,
}


def _file_url(uri: str, media_type: str | None) -> _FileUrl:
    url_type = _URL_TYPES.get((media_type or "").partition("/")[0], ai.DocumentUrl)
    return url_type(uri, media_type=media_type)


def _user_content(parts: Iterable[Part]) -> list[ai.UserContent]:
    """Our parts as the agent's native inputs."""
    content: list[ai.UserContent] = []
    for part in parts:
        if isinstance(part, TextPart):
            content.append(part.text)
        elif isinstance(part, DataPart):
            content.append(ai.StructuredContent(part.data))
        elif part.bytes is not None:
            media_type = _media_type(part) or "application/octet-stream"
            content.append(
                ai.BinaryContent(part.bytes, media_type=media_type, identifier=part.name)
            )
        else:
            assert part.uri is not None
            content.append(_file_url(part.uri, _media_type(part)))
    return content


_Prompt = str | list[ai.UserContent]


def _prompt(content: list[ai.UserContent]) -> _Prompt:
    # A lone text stays a plain string, as a Pydantic AI user would pass it.
    return content[0] if len(content) == 1 and isinstance(content[0], str) else content


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _agent_text(turn: Turn) -> str:
    if turn.text:
        return turn.text
    return "\n".join(_json(p.data) for p in turn.parts if isinstance(p, DataPart))


def _message(role: str, turns: list[Turn]) -> ai.ModelMessage:
    if role == "user":
        return ai.ModelRequest([ai.UserPromptPart(_prompt(_user_content(t.parts))) for t in turns])
    return ai.ModelResponse([ai.TextPart(_agent_text(t)) for t in turns])


def _history(turns: Sequence[Turn]) -> tuple[list[ai.ModelMessage], _Prompt | None]:
    """The turns as `message_history`, and the prompt: the request and the user turns before it."""
    groups = [(role, list(group)) for role, group in groupby(turns, key=lambda t: t.role)]
    if not groups or groups[-1][0] != "user":
        return [_message(role, group) for role, group in groups], None
    *earlier, (_, request) = groups
    prompt = [item for turn in request for item in _user_content(turn.parts)]
    return [_message(role, group) for role, group in earlier], _prompt(prompt)


# --- server: the run ---


def _output_parts(output: Any) -> tuple[Part, ...]:
    """A text output as text; a file as a file; anything else as data."""
    if isinstance(output, str):
        return (TextPart(output),)
    if isinstance(output, ai.BinaryContent):
        return (FilePart(bytes=output.data, media_type=output.media_type),)
    return (DataPart(pydantic_core.to_jsonable_python(output)),)


def _text_delta(event: object, streamed: bool) -> str:
    """The text an agent event adds; a text part after earlier text starts a paragraph."""
    if isinstance(event, ai.PartStartEvent) and isinstance(event.part, ai.TextPart):
        text = event.part.content
        return "\n\n" + text if streamed and text else text
    if isinstance(event, ai.PartDeltaEvent) and isinstance(event.delta, ai.TextPartDelta):
        return event.delta.content_delta
    return ""


def _streams(model: Model | str | None) -> bool:
    """Whether the model can stream, by Pydantic AI's own test (a model named by a string is a
    provider's, and they all can); a `FunctionModel` can only with a `stream_function`."""
    if isinstance(model, WrapperModel):
        return _streams(model.wrapped)
    if isinstance(model, FunctionModel):
        return model.stream_function is not None
    return not isinstance(model, Model) or type(model).request_stream is not Model.request_stream


class PydanticAIRunner:
    """Runs a Pydantic AI agent on the conversation, streaming its text when the caller reads
    it as it comes and the model can stream."""

    def __init__(
        self,
        agent: AbstractAgent[Any, Any],
        *,
        deps: Any = None,
        deps_factory: DepsFactory | None = None,
    ) -> None:
        if deps is not None and deps_factory is not None:
            raise ValueError("pass deps or deps_factory, not both")
        self.agent = agent
        self.deps = deps
        self.deps_factory = deps_factory

    async def _deps(self, conversation: Conversation) -> Any:
        if self.deps_factory is None:
            return self.deps
        deps = self.deps_factory(conversation)
        return await deps if inspect.isawaitable(deps) else deps

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        history, prompt = _history(conversation.turns)
        options: dict[str, Any] = {
            "message_history": history,
            "deps": await self._deps(conversation),
            "conversation_id": conversation.context_id,
        }
        if not (conversation.streaming and _streams(self.agent.model)):
            result = await self.agent.run(prompt, **options)
            yield Reply(_output_parts(result.output))
            return
        streamed = False
        # The run goes on in its own task; leaving this block (on cancel too) cancels it.
        async with self.agent.run_stream_events(prompt, **options) as events:
            async for event in events:
                if isinstance(event, AgentRunResultEvent):
                    yield Reply(_output_parts(event.result.output))
                elif text := _text_delta(event, streamed):
                    streamed = True
                    yield TextDelta(text)


def _skills(agent: AbstractAgent[Any, Any]) -> list[Skill]:
    """The agent's function tools, as card skills."""
    tools: dict[str, str | None] = {}

    def visit(toolset: AbstractToolset[Any]) -> None:
        if isinstance(toolset, FunctionToolset):
            tools.update({tool.name: tool.description for tool in toolset.tools.values()})

    for toolset in agent.toolsets:
        toolset.apply(visit)
    return [tool_skill(name, description) for name, description in tools.items()]


# --- client: a remote agent as a model ---


def _request_parts(messages: Iterable[ai.ModelMessage]) -> list[Part]:
    """What the local run says to the remote agent: user prompts, and retry feedback."""
    parts: list[Part] = []
    for message in messages:
        if not isinstance(message, ai.ModelRequest):
            continue
        for part in message.parts:
            if isinstance(part, ai.UserPromptPart):
                content = [part.content] if isinstance(part.content, str) else part.content
                parts.extend(p for item in content if (p := _part(item)) is not None)
            elif isinstance(part, ai.ToolReturnPart) and part.outcome != "success":
                parts.append(TextPart(part.model_response_str()))
            elif isinstance(part, ai.RetryFeedbackPart):
                parts.append(TextPart(part.model_response()))
    return parts


def _part(item: ai.UserContent) -> Part | None:
    """One item of a user prompt as our part; markers like `CachePoint` are dropped."""
    if isinstance(item, str):
        return TextPart(item)
    if isinstance(item, ai.StructuredContent):
        return DataPart(pydantic_core.to_jsonable_python(item.value))
    if isinstance(item, ai.TextContent):
        return TextPart(item.content)
    if isinstance(item, ai.BinaryContent):
        return FilePart(bytes=item.data, media_type=item.media_type)
    if isinstance(item, ai.FileUrl):
        media_type = None
        with contextlib.suppress(ValueError):  # no media type given and none guessable
            media_type = item.media_type
        return FilePart(uri=item.url, media_type=media_type)
    return None


def _continuation(
    messages: list[ai.ModelMessage], remote: RemoteAgent
) -> tuple[RemoteConversation, list[ai.ModelMessage]]:
    """The remote conversation this remote's latest answer in the history belongs to (a new one
    when there is none), and the messages after that answer."""
    for i in range(len(messages) - 1, -1, -1):
        message, new = messages[i], messages[i + 1 :]
        if not isinstance(message, ai.ModelResponse):
            continue
        details = message.provider_details or {}
        ours = message.provider_name == SYSTEM and message.provider_url == remote.url
        if not ours or not details.get("context_id"):
            return remote.conversation(), new  # another model answered last
        # A question the remote asked is answered in its task.
        asked = details.get("task_id") if details.get("state") == "input-required" else None
        return RemoteConversation(remote, details["context_id"], pending=asked), new
    return remote.conversation(), messages


def _json_value(text: str) -> Any | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _output_tool(tools: list[ToolDefinition], data: Any) -> ToolDefinition | None:
    """The output tool whose required fields `data` has (the only one, when there is one)."""
    if len(tools) == 1:
        return tools[0]
    for tool in tools:
        if tool.outer_typed_dict_key is None and isinstance(data, dict):
            required = tool.parameters_json_schema.get("required", [])
            if all(key in data for key in required):
                return tool
    return None


def _answer(reply: Reply, params: ModelRequestParameters) -> tuple[str, ai.ToolCallPart | None]:
    """The reply's text, and the output tool call its data makes when the agent wants one."""
    text, data = parts_text(without_renderings(reply.parts)), reply.data
    if data is None and not params.allow_text_output:
        data = _json_value(text)  # a peer that answers structured output as JSON text
    if data is not None and params.output_mode == "tool" and params.output_tools:
        tool = _output_tool(params.output_tools, data)
        if tool is not None and tool.outer_typed_dict_key:
            return text, ai.ToolCallPart(tool.name, {tool.outer_typed_dict_key: data})
        if tool is not None and isinstance(data, dict):
            return text, ai.ToolCallPart(tool.name, data)
    if data is not None and (params.output_mode in ("native", "prompted") or not text):
        return _json(data), None
    return text, None


def _details(reply: Reply) -> dict[str, Any]:
    return {"context_id": reply.context_id, "task_id": reply.task_id, "state": reply.state}


class A2AModel(Model):
    """A remote A2A agent as a Pydantic AI model.

    Each request sends the remote agent only what is new since its last answer in the
    history: the user prompt (text, files, `StructuredContent` as data) and any retry
    feedback. Instructions, system prompts and the agent's own tools stay local. The answer's
    contextId, taskId and state are in the response's `provider_details`; a request whose
    history holds them continues that remote context (and answers the task, when the remote
    asked something). A remote data part becomes the agent's output tool call, so it validates
    into a structured `output_type`. Cancelling a run cancels the remote task. A failed remote
    task, or a failed call, raises `ModelAPIError`. `options` are the `ClientOptions`.
    """

    def __init__(
        self,
        url: str,
        *,
        settings: ModelSettings | None = None,
        profile: ModelProfileSpec | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        # The remote agent answers with text or JSON, so every output mode can be offered.
        profile = profile or ModelProfile(
            supports_json_schema_output=True, supports_json_object_output=True
        )
        super().__init__(settings=settings, profile=profile)
        self.remote = RemoteAgent(url, **options)

    @property
    def model_name(self) -> str:
        """The remote agent's URL."""
        return self.remote.url

    @property
    def system(self) -> str:
        """`a2a`."""
        return SYSTEM

    @property
    def base_url(self) -> str:
        """The remote agent's URL."""
        return self.remote.url

    async def request(
        self,
        messages: list[ai.ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ai.ModelResponse:
        _, params = self.prepare_request(model_settings, model_request_parameters)
        *_, reply = [event async for event in self._events(messages)]
        assert isinstance(reply, Reply)  # the stream ends with the reply, or raises
        text, call = _answer(reply, params)
        parts: list[ai.ModelResponsePart] = [ai.TextPart(text)] if text else []
        return ai.ModelResponse(
            parts=[*parts, *([call] if call else [])],
            model_name=self.model_name,
            provider_name=SYSTEM,
            provider_url=self.remote.url,
            provider_details=_details(reply),
            provider_response_id=reply.task_id,
        )

    @contextlib.asynccontextmanager
    async def request_stream(
        self,
        messages: list[ai.ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        _, params = self.prepare_request(model_settings, model_request_parameters)
        async with contextlib.aclosing(self._events(messages)) as events:
            yield A2AStreamedResponse(
                model_request_parameters=params,
                _model_name=self.model_name,
                _url=self.remote.url,
                _events=events,
            )

    async def _events(self, messages: list[ai.ModelMessage]) -> AsyncGenerator[TextDelta | Reply]:
        """The remote's deltas and reply to what is new in `messages`."""
        conversation, new = _continuation(messages, self.remote)
        turn = Turn("user", tuple(_request_parts(new)) or (TextPart(""),))
        try:
            # Closed with this generator, so that an abandoned answer's remote task is cancelled.
            async with contextlib.aclosing(conversation.stream(turn)) as events:
                async for event in events:
                    yield event
        except RemoteAgentError as exc:
            raise ModelAPIError(self.model_name, exc.message) from exc


@dataclass
class A2AStreamedResponse(StreamedResponse):
    """A remote agent's answer as it streams: its text deltas, then the output tool call if any."""

    _model_name: str
    _url: str
    _events: AsyncGenerator[TextDelta | Reply]
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[ai.ModelResponseStreamEvent]:
        streamed = ""
        async for event in self._events:
            if isinstance(event, TextDelta):
                streamed += event.text
                for e in self._text(event.text):
                    yield e
                continue
            text, call = _answer(event, self.model_request_parameters)
            # The reply repeats what was streamed; only text the deltas lacked is new.
            rest = text[len(streamed) :] if text.startswith(streamed) else ""
            for e in self._text(rest):
                yield e
            if call is not None:
                yield self._parts_manager.handle_part(vendor_part_id="output", part=call)
            self.provider_details = _details(event)
            self.provider_response_id = event.task_id

    def _text(self, text: str) -> Iterable[ai.ModelResponseStreamEvent]:
        if not text:
            return ()
        return self._parts_manager.handle_text_delta(vendor_part_id="text", content=text)

    async def close_stream(self) -> None:
        await self._events.aclose()

    @property
    def model_name(self) -> str:
        """The remote agent's URL."""
        return self._model_name

    @property
    def provider_name(self) -> str:
        """`a2a`."""
        return SYSTEM

    @property
    def provider_url(self) -> str:
        """The remote agent's URL."""
        return self._url

    @property
    def timestamp(self) -> datetime:
        """When the request started."""
        return self._timestamp


# --- client: remote agents as tools ---


_ASK_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "What to say to the agent."}},
    "required": ["message"],
    "additionalProperties": False,
}
_ASK_VALIDATOR = SchemaValidator(
    core_schema.typed_dict_schema(
        {"message": core_schema.typed_dict_field(core_schema.str_schema())}, extra_behavior="forbid"
    )
)


class A2AToolset(AbstractToolset[Any]):
    """Remote A2A agents as tools: one per agent, named and described by its card.

    A call sends the tool's `message` to the agent and returns its answer (its data, when it
    answers with data, else its text). Within one run, calls to the same agent continue one
    remote conversation. A failed remote task is reported to the model as a failed tool call.
    `options` are the `ClientOptions`.
    """

    def __init__(
        self,
        url_or_urls: str | Sequence[str],
        *,
        id: str | None = None,
        max_retries: int = 1,
        **options: Unpack[ClientOptions],
    ) -> None:
        urls = [url_or_urls] if isinstance(url_or_urls, str) else list(url_or_urls)
        self.remotes = [RemoteAgent(url, **options) for url in urls]
        self.max_retries = max_retries
        self._id = id
        self._tools: dict[str, tuple[RemoteAgent, str]] = {}  # name -> (agent, description)
        self._conversations: dict[str, RemoteConversation] = {}  # this run's, by tool name

    @property
    def id(self) -> str | None:
        return self._id

    async def for_run(self, ctx: RunContext[Any]) -> A2AToolset:
        """This toolset with conversations of the run's own."""
        run = copy.copy(self)
        run._conversations = {}
        return run

    async def _load(self) -> None:
        tools: dict[str, tuple[RemoteAgent, str]] = {}
        for remote in self.remotes:
            card = await remote.card()
            tools[tool_name(card, tools)] = (remote, describe(card))
        # Assigned at once, so runs listing the tools at the same time agree on the names.
        self._tools = tools

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        if not self._tools:
            await self._load()
        return {
            name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=name, description=description, parameters_json_schema=_ASK_SCHEMA
                ),
                max_retries=self.max_retries,
                args_validator=_ASK_VALIDATOR,
            )
            for name, (_, description) in self._tools.items()
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        remote, _ = self._tools[name]
        conversation = self._conversations.setdefault(name, remote.conversation())
        try:
            reply = await conversation.send(tool_args["message"])
        except RemoteAgentError as exc:
            raise ToolFailed(exc.message) from exc
        return reply.data if reply.data is not None else reply.text


# --- the adapter ---


class PydanticAIAdapter(Adapter):
    """Pydantic AI agents served, and remote agents as Pydantic AI `Agent`s on `A2AModel`."""

    name = "pydantic_ai"
    serves = "Pydantic AI agents (pydantic_ai.Agent)"
    participant = "a2a_bridges.adapters.participants.pydantic_ai:participant"
    agent_types = (AbstractAgent,)

    def card(self, agent: AbstractAgent[Any, Any]) -> CardInfo:
        return CardInfo(
            name=agent.name or "pydantic-ai-agent",
            description=agent.description or "",
            skills=_skills(agent),
            input_modes=("text/plain", "application/json", "image/*", "application/pdf"),
        )

    def runner(
        self,
        agent: AbstractAgent[Any, Any],
        *,
        deps: Any = None,
        deps_factory: DepsFactory | None = None,
    ) -> PydanticAIRunner:
        """`deps` gives every request the same dependencies; `deps_factory(conversation)`
        (sync or async) makes them per request."""
        return PydanticAIRunner(agent, deps=deps, deps_factory=deps_factory)

    def remote(self, url: str, client: ClientOptions, **agent_options: Any) -> Agent[Any, Any]:
        """An `Agent` on `A2AModel(url)`; `agent_options` go to `Agent`."""
        return Agent(A2AModel(url, **client), **agent_options)


adapter = PydanticAIAdapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a
