"""Pydantic AI agents as A2A servers, and remote A2A agents as Pydantic AI models and tools.

Served, an agent runs with the context's earlier turns as `message_history`, streams its text
as the model produces it, and answers a structured `output_type` with a data part (plus the
same JSON as text, for text-only callers). Incoming files and data arrive as `BinaryContent`,
`ImageUrl`/`DocumentUrl`/`AudioUrl`/`VideoUrl` and `StructuredContent`.

Called, a remote agent is a `Model` (`A2AModel`) inside an ordinary `Agent`: each request sends
only the new turn; the remote contextId rides in the response's `provider_details`, so going on
with `message_history` goes on with the same remote conversation. `A2AToolset` gives any agent
remote agents as tools.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import mimetypes
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, cast

try:
    import anyio
    import pydantic_core
    from pydantic_ai import Agent, AgentRunResultEvent, RunContext, ToolFailed
    from pydantic_ai import messages as ai
    from pydantic_ai.agent import AbstractAgent
    from pydantic_ai.exceptions import ModelAPIError
    from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
    from pydantic_ai.profiles import ModelProfile, ModelProfileSpec
    from pydantic_ai.settings import ModelSettings
    from pydantic_ai.tools import ToolDefinition
    from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, ToolsetTool
    from pydantic_core import SchemaValidator, core_schema
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the Pydantic AI adapter needs Pydantic AI: pip install 'a2a-bridges[pydantic-ai]'"
    ) from _exc
from starlette.applications import Starlette

from bridges import (
    CardInfo,
    Conversation,
    DataPart,
    Event,
    FilePart,
    Part,
    RemoteAgent,
    RemoteAgentError,
    Reply,
    TextDelta,
    TextPart,
    Turn,
    build_app,
    card_options,
)

__all__ = [
    "A2AModel",
    "A2AStreamedResponse",
    "A2AToolset",
    "PydanticAIRunner",
    "from_a2a",
    "handles",
    "to_a2a",
]

TYPES = "Pydantic AI agents (pydantic_ai.Agent)"

SYSTEM = "a2a"
"""`provider_name` of the responses `A2AModel` returns; its `provider_details` hold the remote
`context_id`, `task_id` and `state`."""

DepsFactory = Callable[[Conversation], Any]
"""Gives a request its agent dependencies; may be async."""


def handles(agent: Any) -> bool:
    """Whether `agent` is a Pydantic AI agent."""
    return isinstance(agent, AbstractAgent)


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


def _prompt(content: list[ai.UserContent]) -> str | list[ai.UserContent]:
    # A lone text stays a plain string, as a Pydantic AI user would pass it.
    return content[0] if len(content) == 1 and isinstance(content[0], str) else content


def _agent_text(turn: Turn) -> str:
    if turn.text:
        return turn.text
    return "\n".join(_json(p.data) for p in turn.parts if isinstance(p, DataPart))


def _message(role: str, turns: list[Turn]) -> ai.ModelMessage:
    if role == "user":
        return ai.ModelRequest([ai.UserPromptPart(_prompt(_user_content(t.parts))) for t in turns])
    return ai.ModelResponse([ai.TextPart(_agent_text(t)) for t in turns])


_Prompt = str | list[ai.UserContent]


def _history(turns: Sequence[Turn]) -> tuple[list[ai.ModelMessage], _Prompt | None]:
    """The turns as `message_history`, and the prompt: the request and the user turns before it."""
    groups = [(role, list(group)) for role, group in groupby(turns, key=lambda t: t.role)]
    if not groups or groups[-1][0] != "user":
        return [_message(role, group) for role, group in groups], None
    *earlier, (_, request) = groups
    prompt = [item for turn in request for item in _user_content(turn.parts)]
    return [_message(role, group) for role, group in earlier], _prompt(prompt)


# --- server: the run's output as parts ---


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _output_parts(output: Any) -> tuple[Part, ...]:
    """A text output as text; a file as a file; anything else as data plus its JSON as text."""
    if isinstance(output, str):
        return (TextPart(output),)
    if isinstance(output, ai.BinaryContent):
        return (FilePart(bytes=output.data, media_type=output.media_type),)
    data = pydantic_core.to_jsonable_python(output)
    return (TextPart(_json(data)), DataPart(data))


def _text_delta(event: object, streamed: bool) -> str:
    """The text an agent event adds; a text part after earlier text starts a paragraph."""
    if isinstance(event, ai.PartStartEvent) and isinstance(event.part, ai.TextPart):
        text = event.part.content
        return "\n\n" + text if streamed and text else text
    if isinstance(event, ai.PartDeltaEvent) and isinstance(event.delta, ai.TextPartDelta):
        return event.delta.content_delta
    return ""


def _skills(agent: AbstractAgent[Any, Any]) -> list[dict[str, Any]]:
    """The agent's function tools, as card skills."""
    tools: dict[str, str] = {}

    def visit(toolset: AbstractToolset[Any]) -> None:
        if isinstance(toolset, FunctionToolset):
            for tool in toolset.tools.values():
                tools[tool.name] = tool.description or tool.name

    for toolset in agent.toolsets:
        toolset.apply(visit)
    return [{"id": n, "name": n, "description": d, "tags": ["tool"]} for n, d in tools.items()]


class PydanticAIRunner:
    """Runs a Pydantic AI agent on the conversation, streaming its text."""

    def __init__(
        self,
        agent: AbstractAgent[Any, Any],
        *,
        deps: Any = None,
        deps_factory: DepsFactory | None = None,
        stream: bool = True,
    ) -> None:
        if deps is not None and deps_factory is not None:
            raise ValueError("pass deps or deps_factory, not both")
        self.agent = agent
        self.deps = deps
        self.deps_factory = deps_factory
        self.stream = stream

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
        if not self.stream:
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


def to_a2a(
    agent: AbstractAgent[Any, Any],
    *,
    deps: Any = None,
    deps_factory: DepsFactory | None = None,
    **options: Any,
) -> Starlette:
    """Serve a Pydantic AI agent as an A2A app.

    `deps` gives every request the same dependencies; `deps_factory(conversation)` (sync or
    async) makes them per request. The other options are the core's (`name`, `description`,
    `url`, `store`, `auth`, `streaming`, ...); `streaming=False` runs the agent without
    streaming, for models that cannot.
    """
    info = CardInfo(
        name=agent.name or "pydantic-ai-agent",
        description=agent.description or "",
        skills=_skills(agent),
        input_modes=("text/plain", "application/json", "image/*", "application/pdf"),
    )
    runner = PydanticAIRunner(
        agent, deps=deps, deps_factory=deps_factory, stream=options.get("streaming", True)
    )
    return build_app(runner, **card_options(info, options))


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
    messages: list[ai.ModelMessage], url: str
) -> tuple[str | None, list[ai.ModelMessage]]:
    """The contextId of this remote's latest answer in the history, and the messages after it."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if isinstance(message, ai.ModelResponse):
            details = message.provider_details or {}
            ours = message.provider_name == SYSTEM and message.provider_url == url
            if ours and details.get("context_id"):
                return str(details["context_id"]), messages[i + 1 :]
            # Another model answered last: only what followed it is new.
            return None, messages[i + 1 :]
    return None, messages


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
    text, data = reply.text, reply.data
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
    history holds them continues that remote context. A remote data part becomes the agent's
    output tool call, so it validates into a structured `output_type`. Cancelling a run cancels
    the remote task. A failed remote task, or a failed call, raises `ModelAPIError`.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        streaming: bool | None = None,
        settings: ModelSettings | None = None,
        profile: ModelProfileSpec | None = None,
    ) -> None:
        # The remote agent answers with text or JSON, so every output mode can be offered.
        profile = profile or ModelProfile(
            supports_json_schema_output=True, supports_json_object_output=True
        )
        super().__init__(settings=settings, profile=profile)
        self.remote = RemoteAgent(url, headers=headers, timeout=timeout, streaming=streaming)
        self._entered = 0

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

    async def __aenter__(self) -> A2AModel:
        self._entered += 1
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        self._entered -= 1
        if self._entered == 0:  # concurrent runs may share the model: close with the last one
            await self.remote.aclose()
        return None

    async def request(
        self,
        messages: list[ai.ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ai.ModelResponse:
        _, params = self.prepare_request(model_settings, model_request_parameters)
        reply: Reply | None = None
        async for event in self._events(messages):
            if isinstance(event, Reply):
                reply = event
        assert reply is not None
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
        events = self._events(messages)
        try:
            yield A2AStreamedResponse(
                model_request_parameters=params,
                _model_name=self.model_name,
                _url=self.remote.url,
                _events=events,
            )
        finally:
            await events.aclose()

    async def _events(self, messages: list[ai.ModelMessage]) -> AsyncGenerator[TextDelta | Reply]:
        """The remote's deltas and reply to the new turn; stopped early, it cancels the task."""
        context_id, new = _continuation(messages, self.remote.url)
        turn = Turn("user", tuple(_request_parts(new)) or (TextPart(""),))
        # RemoteAgent continues its own latest context (and a task waiting for input in it):
        # only keep that when the history continues the same context.
        if context_id is None or context_id != self.remote.context_id:
            self.remote.new_conversation()
        task_id: str | None = None
        done = False
        try:
            # Closed with this generator, so an abandoned answer's stream does not linger.
            # `stream` is an async generator, though annotated as an iterator.
            stream = cast(
                "AsyncGenerator[TextDelta | Reply]", self.remote.stream(turn, context_id=context_id)
            )
            async with contextlib.aclosing(stream):
                async for event in stream:
                    task_id = self.remote.task_id
                    done = isinstance(event, Reply)
                    yield event
        except RemoteAgentError as exc:
            raise ModelAPIError(self.model_name, exc.message) from exc
        finally:
            if task_id and not done:
                await self._cancel(task_id)

    async def _cancel(self, task_id: str) -> None:
        with anyio.CancelScope(shield=True), contextlib.suppress(RemoteAgentError):
            await self.remote.cancel(task_id)


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


def from_a2a(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
    streaming: bool | None = None,
    **agent_options: Any,
) -> Agent[Any, Any]:
    """A remote agent as a Pydantic AI `Agent` on `A2AModel(url)`; other options go to `Agent`."""
    model = A2AModel(url, headers=headers, timeout=timeout, streaming=streaming)
    return Agent(model, **agent_options)


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


def _tool_name(name: str, taken: Iterable[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "agent"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


class A2AToolset(AbstractToolset[Any]):
    """Remote A2A agents as tools: one per agent, named and described by its card.

    A call sends the tool's `message` to the agent and returns its answer (its data, when it
    answers with data, else its text). Within one run, calls to the same agent continue one
    remote conversation. A failed remote task is reported to the model as a failed tool call.
    """

    def __init__(
        self,
        url_or_urls: str | Sequence[str],
        *,
        id: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        max_retries: int = 1,
    ) -> None:
        urls = [url_or_urls] if isinstance(url_or_urls, str) else list(url_or_urls)
        self.remotes = [RemoteAgent(url, headers=headers, timeout=timeout) for url in urls]
        self.max_retries = max_retries
        self._id = id
        self._by_name: dict[str, RemoteAgent] = {}
        self._descriptions: dict[str, str] = {}
        self._contexts: dict[tuple[str | None, str], str] = {}  # (run, tool) -> remote contextId
        self._entered = 0

    @property
    def id(self) -> str | None:
        return self._id

    async def __aenter__(self) -> A2AToolset:
        self._entered += 1
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        self._entered -= 1
        if self._entered == 0:  # the last run using these connections ended
            self._contexts.clear()
            for remote in self.remotes:
                await remote.aclose()
        return None

    async def _load(self) -> None:
        by_name: dict[str, RemoteAgent] = {}
        descriptions: dict[str, str] = {}
        for remote in self.remotes:
            card = await remote.card()
            name = _tool_name(card.name, by_name)
            by_name[name] = remote
            skills = ", ".join(s.name for s in card.skills)
            about = card.description or card.name
            descriptions[name] = f"{about} (skills: {skills})" if skills else about
        # Assigned together, so runs listing the tools at the same time agree on the names.
        self._by_name, self._descriptions = by_name, descriptions

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        if not self._by_name:
            await self._load()
        return {
            name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=name,
                    description=self._descriptions[name],
                    parameters_json_schema=_ASK_SCHEMA,
                ),
                max_retries=self.max_retries,
                args_validator=_ASK_VALIDATOR,
            )
            for name in self._by_name
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        remote = self._by_name[name]
        key = (ctx.run_id, name)
        context_id = self._contexts.get(key)
        if context_id is None or context_id != remote.context_id:
            remote.new_conversation()
        try:
            reply = await remote.send(tool_args["message"], context_id=context_id)
        except RemoteAgentError as exc:
            raise ToolFailed(exc.message) from exc
        if reply.context_id:
            self._contexts[key] = reply.context_id
        return reply.data if reply.data is not None else reply.text
