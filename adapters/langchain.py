"""LangChain Runnables as A2A agents, and A2A agents as LangChain Runnables.

Served (`to_a2a`): any Runnable, such as a chat model, an LCEL chain or a LangGraph graph
(`StateGraph(...).compile()`, `create_agent`, `create_react_agent`). Its input is found from
its input schema: a list of messages, `{"messages": [...]}`, a string, or a dict with one
text key (and, optionally, one messages key that gets the earlier turns); `input_key` names
the key that takes the new message when the schema does not tell. Its output becomes the
answer: a message's content, a string, a graph state's last message (or, when it has a
`structured_response`, its last AI message and that data), the `output_key` value of a dict,
or any other value as a data part.
Tokens are streamed as they are produced (`astream`; `stream_mode="messages"` for graphs).
The config's `thread_id` is the contextId: a graph with a checkpointer keeps its own memory
under it, and a LangGraph `interrupt()` asks the caller (A2A input-required); every other
runnable is given the context's earlier turns as messages.

Remote (`from_a2a` / `A2ARunnable`): see `A2ARunnable`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from pydantic import Field, PrivateAttr
from pydantic_core import to_jsonable_python
from starlette.applications import Starlette

from bridges import (
    CardInfo,
    Conversation,
    DataPart,
    Event,
    FilePart,
    InputRequired,
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
from bridges._sync import background_loop, iterate_sync, run_sync
from bridges.conversation import JSON_MEDIA_TYPE

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForChainRun,
        CallbackManagerForChainRun,
    )
    from langchain_core.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        HumanMessage,
        convert_to_messages,
    )
    from langchain_core.prompt_values import PromptValue
    from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
    from langchain_core.tools import BaseTool, StructuredTool
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the LangChain adapter needs langchain-core: pip install 'a2a-bridges[langchain]'"
    ) from exc

__all__ = ["A2AInput", "A2ARunnable", "LangChainRunner", "from_a2a", "handles", "to_a2a"]

TYPES = "LangChain Runnables (chat models, LCEL chains, LangGraph graphs)"

T = TypeVar("T")


def handles(agent: Any) -> bool:
    """Whether `agent` is a LangChain Runnable (LangGraph graphs are Runnables too)."""
    return isinstance(agent, Runnable)


# --- parts and messages ---


def _content(parts: Sequence[Part], *, data_as_text: bool) -> str | list[str | dict[str, Any]]:
    """Message content for parts: a string when they are all text, content blocks otherwise.

    A model reads data as JSON text (`data_as_text`); a caller gets it as a `non_standard`
    block `{"data": ..., "media_type": ...}`.
    """
    if all(isinstance(p, TextPart) for p in parts):
        return "\n".join(p.text for p in parts if isinstance(p, TextPart))
    blocks: list[str | dict[str, Any]] = []
    for p in parts:
        if isinstance(p, TextPart):
            blocks.append({"type": "text", "text": p.text})
        elif isinstance(p, DataPart) and data_as_text:
            blocks.append({"type": "text", "text": json.dumps(p.data)})
        elif isinstance(p, DataPart):
            blocks.append(
                {"type": "non_standard", "value": {"data": p.data, "media_type": p.media_type}}
            )
        elif isinstance(p, FilePart):
            blocks.append(_file_block(p))
    return blocks


def _file_block(part: FilePart) -> dict[str, Any]:
    kind = "image" if (part.media_type or "").startswith("image/") else "file"
    block: dict[str, Any] = {"type": kind}
    if part.bytes is not None:
        block["base64"] = base64.b64encode(part.bytes).decode()
    else:
        block["url"] = part.uri
    if part.media_type:
        block["mime_type"] = part.media_type
    if part.name:
        block["extras"] = {"filename": part.name}
    return block


def _message_parts(message: BaseMessage) -> tuple[Part, ...]:
    """A message's content as parts: text, data (`non_standard` blocks) and files."""
    if isinstance(message.content, str):
        return (TextPart(message.content),) if message.content else ()
    parts: list[Part] = []
    for block in message.content:
        if isinstance(block, str):
            parts.append(TextPart(block))
        elif block.get("type") == "text":
            parts.append(TextPart(str(block.get("text", ""))))
        elif block.get("type") == "non_standard":
            value = block.get("value")
            if isinstance(value, dict) and "data" in value:  # as `_content` writes it
                parts.append(DataPart(value["data"], value.get("media_type") or JSON_MEDIA_TYPE))
            else:
                parts.append(DataPart(to_jsonable_python(value)))
        elif block.get("type") in ("image", "file") and (block.get("url") or block.get("base64")):
            name = (block.get("extras") or {}).get("filename")
            raw = base64.b64decode(block["base64"]) if block.get("base64") else None
            url = None if raw is not None else block["url"]
            parts.append(FilePart(bytes=raw, uri=url, media_type=block.get("mime_type"), name=name))
    return tuple(parts)


def _to_messages(turns: Sequence[Turn]) -> list[BaseMessage]:
    """Turns as LangChain messages, for a served runnable."""
    messages: list[BaseMessage] = []
    for turn in turns:
        content = _content(turn.parts, data_as_text=True)
        if turn.role == "agent":
            messages.append(AIMessage(content=content, name=turn.name))
        else:
            messages.append(HumanMessage(content=content, name=turn.name))
    return messages


def _value_parts(value: Any) -> tuple[Part, ...]:
    """Any output as parts: messages and strings as text, everything else as data."""
    if value is None:
        return ()
    if isinstance(value, BaseMessage):
        return _message_parts(value)
    if isinstance(value, str):
        return (TextPart(value),)
    if isinstance(value, list) and value and isinstance(value[-1], BaseMessage):
        return _message_parts(value[-1])
    return (DataPart(to_jsonable_python(value)),)


def _output_parts(output: Any, output_key: str | None) -> tuple[Part, ...]:
    """The answer in a runnable's output (a graph's final state is a dict with `messages`)."""
    if not isinstance(output, Mapping):
        return _value_parts(output)
    if output_key is not None:
        if output_key not in output:
            raise KeyError(f"the output has no key {output_key!r}; it has {sorted(output)}")
        return _value_parts(output[output_key])
    if "messages" not in output:
        return _value_parts(output)
    # create_agent / create_react_agent put a `response_format` answer here.
    structured = output.get("structured_response")
    if structured is None:
        return _value_parts(output["messages"])
    # create_agent ends on the tool message that returned it: the words are the model's.
    said = next((m for m in reversed(output["messages"]) if isinstance(m, AIMessage)), None)
    return (*_value_parts(said), DataPart(to_jsonable_python(structured)))


# --- the server direction ---


@dataclass(frozen=True)
class _Input:
    """Where the conversation goes in a runnable's input."""

    key: str | None = None  # None: the input is the value itself, not a dict
    messages: bool = True  # the new turn as messages (with the history), or as its text
    history_key: str | None = None  # a messages key for the earlier turns, next to a text key

    def build(self, conversation: Conversation, *, remembered: bool) -> Any:
        """The input for one request; `remembered`: the runnable keeps the earlier turns."""
        history = () if remembered else conversation.history
        if not self.messages:
            value: Any = conversation.text
        else:
            value = _to_messages((*history, conversation.last))
        if self.key is None:
            return value
        out = {self.key: value}
        if self.history_key is not None:
            out[self.history_key] = _to_messages(history)
        return out


def _is_array(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return schema.get("type") == "array" or any(_is_array(s) for s in options)


def _input_schema(runnable: Runnable[Any, Any]) -> dict[str, Any]:
    try:
        return runnable.get_input_jsonschema()
    except Exception:
        # A graph on a `typing.TypedDict` state has no schema on Python 3.11: use its channels.
        channels = getattr(runnable, "input_channels", None)
        if isinstance(channels, list):
            return {"type": "object", "properties": {c: {} for c in channels}}
        return {}


def _input_shape(runnable: Runnable[Any, Any], input_key: str | None) -> _Input:
    """How `runnable` takes a conversation, found from its input schema."""
    schema = _input_schema(runnable)
    props: dict[str, Any] = schema.get("properties") or {}
    arrays = [k for k, v in props.items() if k == "messages" or _is_array(v)]
    texts = [k for k in props if k not in arrays]
    if input_key is not None:
        is_messages = input_key in arrays
        history = None if is_messages else next((k for k in arrays if k != input_key), None)
        return _Input(key=input_key, messages=is_messages, history_key=history)
    if not props:
        # A chat model takes a string or messages; an untyped lambda is given the text.
        return _Input(messages=_is_array(schema))
    if "messages" in props:
        return _Input(key="messages")
    if len(texts) == 1 and len(arrays) <= 1:
        return _Input(key=texts[0], messages=False, history_key=next(iter(arrays), None))
    if not texts and len(arrays) == 1:
        return _Input(key=arrays[0])
    raise ValueError(
        f"cannot tell which input key takes the message among {sorted(props)}: pass input_key="
    )


def _is_graph(runnable: Any) -> bool:
    try:  # langgraph is optional: without it, nothing is a graph
        from langgraph.pregel.protocol import PregelProtocol
    except ImportError:
        return False
    return isinstance(runnable, PregelProtocol)


def _tools(runnable: Any) -> list[BaseTool]:
    """The tools of an agent graph: its `ToolNode`s hold them by name."""
    found: list[BaseTool] = []
    for node in (getattr(runnable, "nodes", None) or {}).values():
        by_name = getattr(getattr(node, "bound", None), "tools_by_name", None)
        if isinstance(by_name, Mapping):
            found += [t for t in by_name.values() if isinstance(t, BaseTool)]
    return found


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, AIMessage):  # AIMessageChunk included
        return chunk.text
    return ""


def _add(final: Any, chunk: Any) -> Any:
    """Chunks that add up (strings, message chunks, dicts of them) are added, as LangChain does."""
    if final is None:
        return chunk
    try:
        return final + chunk
    except TypeError:
        return chunk


@dataclass
class _Output:
    """The final output of one streamed run."""

    value: Any = None


class LangChainRunner:
    """Runs a LangChain Runnable or a LangGraph graph."""

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        *,
        input_key: str | None = None,
        output_key: str | None = None,
    ) -> None:
        self.runnable = runnable
        self.input = _input_shape(runnable, input_key)
        self.output_key = output_key
        self.graph = _is_graph(runnable)
        checkpointer = getattr(runnable, "checkpointer", None)
        # `checkpointer=True` only marks a subgraph that uses its parent's.
        self.checkpointed = self.graph and hasattr(checkpointer, "aget_tuple")

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        config = self._config(conversation)
        request = await self._pending_resume(conversation, config)
        if request is None:
            request = self.input.build(conversation, remembered=self.checkpointed)
        output = _Output()
        while True:
            async for delta in self._stream(request, config, output):
                yield delta
            question = await self._question(config)
            if question is None:
                break
            answer = yield InputRequired(question)
            assert answer is not None, "the executor resumes a question with the answer"
            request = _resume(answer)
        yield Reply(_output_parts(output.value, self.output_key))

    def _config(self, conversation: Conversation) -> RunnableConfig:
        # Every runnable gets the thread: a checkpointer keys its memory by it, and so does an
        # `A2ARunnable` inside (a proxy continues its remote conversation).
        metadata = {"a2a_context_id": conversation.context_id, "a2a_task_id": conversation.task_id}
        return {"configurable": {"thread_id": conversation.context_id}, "metadata": metadata}

    async def _stream(
        self, request: Any, config: RunnableConfig, output: _Output
    ) -> AsyncIterator[TextDelta]:
        if not self.graph:
            async for chunk in self.runnable.astream(request, config):
                if text := _chunk_text(chunk):
                    yield TextDelta(text)
                output.value = _add(output.value, chunk)
            return
        stream = self.runnable.astream(request, config, stream_mode=["messages", "values"])
        async for mode, payload in stream:
            if mode == "values":
                output.value = payload
            elif isinstance(payload[0], AIMessage) and (text := payload[0].text):
                yield TextDelta(text)

    async def _question(self, config: RunnableConfig) -> tuple[Part, ...] | None:
        """What a graph stopped at an `interrupt()` asks, if it did."""
        if not self.checkpointed:
            return None
        state = await self.runnable.aget_state(config)  # type: ignore[attr-defined]
        interrupts = getattr(state, "interrupts", ())
        return _value_parts(interrupts[0].value) if interrupts else None

    async def _pending_resume(self, conversation: Conversation, config: RunnableConfig) -> Any:
        """A graph still waiting at an `interrupt()` (the server restarted, or the caller
        answered in a new task of the context) is resumed with the new turn."""
        if await self._question(config) is None:
            return None
        return _resume(conversation.last)


def _resume(answer: Turn) -> Any:
    from langgraph.types import Command  # only graphs get here

    data = next((p.data for p in answer.parts if isinstance(p, DataPart)), None)
    return Command(resume=answer.text if data is None else data)


def to_a2a(
    agent: Runnable[Any, Any],
    *,
    input_key: str | None = None,
    output_key: str | None = None,
    **options: Any,
) -> Starlette:
    """Serve a LangChain Runnable or LangGraph graph as an A2A app; an agent's tools are skills."""
    runner = LangChainRunner(agent, input_key=input_key, output_key=output_key)
    skills = [
        {"id": t.name, "name": t.name, "description": t.description or t.name, "tags": ["tool"]}
        for t in _tools(agent)
    ]
    info = CardInfo(name=agent.get_name(), skills=skills)
    return build_app(runner, **card_options(info, options))


# --- the client direction ---

A2AInput: TypeAlias = str | Sequence[BaseMessage] | dict[str, Any] | PromptValue
"""A string, messages (or anything `convert_to_messages` takes), or `{"messages": [...]}`."""

_DONE = object()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def _pump(agen: AsyncIterator[Any], put: Callable[[Any], None]) -> None:
    """Hand `agen`'s items, then its error if it fails, to `put`."""
    try:
        async for item in agen:
            put(item)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        put(_Raised(exc))
        if not isinstance(exc, Exception):
            raise


async def _on_background(agen: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """Iterate `agen` on the shared background loop, from any other event loop.

    The connections then live on that one long-lived loop, never on a caller's loop that
    may close before they do ("Event loop is closed"). Stopping early cancels `agen` and
    waits for its cleanup.
    """
    loop, background = asyncio.get_running_loop(), background_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()
    pumps: list[asyncio.Task[None]] = []

    def put(item: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody listens
            loop.call_soon_threadsafe(items.put_nowait, item)

    def start() -> None:
        pumping = background.create_task(_pump(agen, put))
        # Called once the task is over, its cleanup included, even if it never started.
        pumping.add_done_callback(lambda _: put(_DONE))
        pumps.append(pumping)

    # Callbacks run in order, so the pump exists before anything can cancel it.
    background.call_soon_threadsafe(start)
    done = False
    try:
        while not (done := (item := await items.get()) is _DONE):
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        if not done:  # stopped early: cancel, and wait for the cleanup (the remote cancel)
            background.call_soon_threadsafe(lambda: pumps[0].cancel())
            while await items.get() is not _DONE:
                pass


async def _stream(remote: RemoteAgent, turn: Turn) -> AsyncIterator[TextDelta | Reply]:
    """`remote.stream(turn)`; if the caller gives up, the remote task is cancelled too.

    The stream runs in a task of its own, so that when the caller gives up before any text
    came, it still goes on long enough to tell the task's id (`RemoteAgent` sets `task_id`
    from the Task event, which it does not yield).
    """
    before = remote.task_id
    items: asyncio.Queue[Any] = asyncio.Queue()
    pumping = asyncio.create_task(_pump(remote.stream(turn), items.put_nowait))
    pumping.add_done_callback(lambda _: items.put_nowait(_DONE))
    answered = False
    try:
        while (item := await items.get()) is not _DONE:
            if isinstance(item, _Raised):
                raise item.exc
            answered = isinstance(item, Reply)
            yield item
    except (asyncio.CancelledError, GeneratorExit):
        if not answered:
            with contextlib.suppress(RemoteAgentError, TimeoutError):
                await asyncio.wait_for(_cancel_started(remote, before, pumping), 10)
        raise
    finally:
        pumping.cancel()


async def _cancel_started(
    remote: RemoteAgent, before: str | None, pumping: asyncio.Task[None]
) -> None:
    while remote.task_id in (None, before) and not pumping.done():
        await asyncio.sleep(0.01)
    if remote.task_id not in (None, before) and not pumping.done():
        await remote.cancel(remote.task_id)


def _new_turn(value: Any) -> Turn:
    """The turn to send: the input's newest messages, those after its last AI message.

    The remote agent remembers what came before through the thread's contextId.
    """
    if isinstance(value, str):
        return Turn("user", (TextPart(value),))
    if isinstance(value, PromptValue):
        value = value.to_messages()
    elif isinstance(value, Mapping):
        if "messages" not in value:
            raise ValueError(f"an input dict needs a 'messages' key; it has {sorted(value)}")
        value = value["messages"]
    elif isinstance(value, BaseMessage):
        value = [value]
    messages = convert_to_messages(value)
    if not messages:
        raise ValueError("no message to send")
    last_ai = max((i for i, m in enumerate(messages) if isinstance(m, AIMessage)), default=-1)
    # An input that ends with an AI message (another agent's answer) sends that message.
    new = messages[last_ai + 1 :] or messages[-1:]
    parts = tuple(p for m in new for p in _message_parts(m))
    return Turn("user", parts or (TextPart(""),), name=new[-1].name)


def _metadata(reply: Reply, url: str) -> dict[str, Any]:
    return {
        "a2a": {
            "url": url,
            "context_id": reply.context_id,
            "task_id": reply.task_id,
            "state": reply.state,
        }
    }


def _tool_text(message: AIMessage) -> str:
    """A tool result: the answer's text, then its data parts as JSON."""
    data = [json.dumps(p.data) for p in _message_parts(message) if isinstance(p, DataPart)]
    return "\n".join([message.text, *data] if message.text else data)


def _tool_name(name: str) -> str:
    # Model APIs accept tool names of letters, digits, `_` and `-` only, up to 64 characters.
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:64] or "remote_agent"


class _Remotes:
    """One `RemoteAgent` per thread_id, and a pool for calls without one.

    Used only on the background loop, so each agent has one set of connections.
    """

    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        self.url = url
        self.options = dict(options)
        self.threads: dict[str, RemoteAgent] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.idle: list[RemoteAgent] = []

    async def events(self, turn: Turn, thread_id: str | None) -> AsyncIterator[TextDelta | Reply]:
        """The remote agent's answer to `turn`, in the thread's conversation or a new one."""
        if thread_id is None:
            remote = self.idle.pop() if self.idle else RemoteAgent(self.url, **self.options)
            remote.new_conversation()
            try:
                async for event in _stream(remote, turn):
                    yield event
            finally:
                self.idle.append(remote)
            return
        # One conversation answers one message at a time.
        async with self.locks.setdefault(thread_id, asyncio.Lock()):
            if thread_id not in self.threads:
                self.threads[thread_id] = RemoteAgent(self.url, **self.options)
            async for event in _stream(self.threads[thread_id], turn):
                yield event

    async def card_text(self) -> tuple[str, str]:
        """The remote card's name and description."""
        remote = self.idle.pop() if self.idle else RemoteAgent(self.url, **self.options)
        try:
            card = await remote.card()
        finally:
            self.idle.append(remote)
        return card.name, card.description

    async def aclose(self) -> None:
        """Close every agent's connections."""
        remotes = [*self.threads.values(), *self.idle]
        self.threads.clear()
        self.idle.clear()
        for remote in remotes:
            await remote.aclose()


def _close_soon(remotes: _Remotes) -> None:
    """Close `remotes` from a finalizer, waiting unless it runs on the background loop itself."""
    background = background_loop()
    closing = asyncio.run_coroutine_threadsafe(remotes.aclose(), background)
    with contextlib.suppress(RuntimeError):
        if asyncio.get_running_loop() is background:
            return
    with contextlib.suppress(Exception):
        closing.result(timeout=5)


class A2ARunnable(RunnableSerializable[A2AInput, Any]):
    """A remote A2A agent as a LangChain Runnable.

    Input: a string, a list of messages, or `{"messages": [...]}`; only the newest messages,
    those after the last AI message, are sent. Output: an `AIMessage` whose content is the
    answer's text, or content blocks when it also holds data (`non_standard` blocks with
    `{"data": ..., "media_type": ...}`) or files; a dict input gets the state update
    `{"messages": [AIMessage]}`, so the runnable is a LangGraph node as it is. `stream` and
    `astream` yield `AIMessageChunk`s as the text arrives, then one with the rest.
    `response_metadata["a2a"]` holds the url, context_id, task_id and state.
    `config["configurable"]["thread_id"]` keeps one remote conversation (contextId) per
    thread; without it every call starts a new one. Failures raise `RemoteAgentError`.
    The connections live on one background event loop, so blocking and async calls work
    with or without a running loop; `close()` (or `aclose()`) releases them.
    """

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 60.0
    streaming: bool | None = None
    _remotes: _Remotes = PrivateAttr()

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url=url.rstrip("/"), **kwargs)  # type: ignore[call-arg]
        options = {"headers": self.headers, "timeout": self.timeout, "streaming": self.streaming}
        self._remotes = _Remotes(self.url, options)
        # Connections are closed when the runnable is collected, or else at exit.
        weakref.finalize(self, _close_soon, self._remotes)

    def _events(self, value: A2AInput, config: RunnableConfig) -> AsyncIterator[TextDelta | Reply]:
        thread_id = (config.get("configurable") or {}).get("thread_id")
        return self._remotes.events(_new_turn(value), None if thread_id is None else str(thread_id))

    def _output(self, value: A2AInput, reply: Reply) -> Any:
        message = AIMessage(
            content=_content(reply.parts, data_as_text=False),
            response_metadata=_metadata(reply, self.url),
        )
        return {"messages": [message]} if isinstance(value, Mapping) else message

    def _chunk(self, event: TextDelta | Reply, streamed: bool) -> AIMessageChunk:
        if isinstance(event, TextDelta):
            return AIMessageChunk(content=event.text)
        # The text has arrived already, unless the peer sent none until the end.
        rest = [p for p in event.parts if not (streamed and isinstance(p, TextPart))]
        content = _content(rest, data_as_text=False) if rest else ""
        return AIMessageChunk(content=content, response_metadata=_metadata(event, self.url))

    # invoke

    def _invoke(
        self, value: A2AInput, run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Any:
        async def final() -> Reply:
            return [e async for e in self._events(value, config) if isinstance(e, Reply)][-1]

        return self._output(value, run_sync(final()))

    async def _ainvoke(
        self, value: A2AInput, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig
    ) -> Any:
        events = [e async for e in _on_background(self._events(value, config))]
        reply = events[-1]
        assert isinstance(reply, Reply)
        return self._output(value, reply)

    def invoke(self, input: A2AInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Send the input's newest messages; return the answer as an `AIMessage`."""
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(
        self, input: A2AInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        """Async `invoke`."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    # stream

    def _stream_chunks(
        self,
        inputs: Iterator[A2AInput],
        run_manager: CallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> Iterator[AIMessageChunk]:
        streamed = False
        for value in inputs:
            for event in iterate_sync(self._events(value, config)):
                yield self._chunk(event, streamed)
                streamed = streamed or isinstance(event, TextDelta)

    async def _astream_chunks(
        self,
        inputs: AsyncIterator[A2AInput],
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> AsyncIterator[AIMessageChunk]:
        streamed = False
        async for value in inputs:
            async with contextlib.aclosing(_on_background(self._events(value, config))) as events:
                async for event in events:
                    yield self._chunk(event, streamed)
                    streamed = streamed or isinstance(event, TextDelta)

    def stream(
        self, input: A2AInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Yield the answer as `AIMessageChunk`s as it arrives."""
        return self._transform_stream_with_config(
            iter([input]), self._stream_chunks, config, **kwargs
        )

    async def astream(
        self, input: A2AInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async `stream`."""

        async def one() -> AsyncIterator[A2AInput]:
            yield input

        async for chunk in self._atransform_stream_with_config(
            one(), self._astream_chunks, config, **kwargs
        ):
            yield chunk

    # tools and lifetime

    def as_tool(  # type: ignore[override]
        self, *, name: str | None = None, description: str | None = None
    ) -> BaseTool:
        """The remote agent as a tool taking one `message`; name and description from its card."""
        if name is None or description is None:
            card_name, card_description = run_sync(self._remotes.card_text())
            name = name or _tool_name(card_name)
            description = description or card_description or f"Ask the agent {card_name}."

        def ask(message: str, config: RunnableConfig) -> str:
            return _tool_text(self.invoke(message, config))

        async def aask(message: str, config: RunnableConfig) -> str:
            return _tool_text(await self.ainvoke(message, config))

        return StructuredTool.from_function(
            func=ask, coroutine=aask, name=name, description=description
        )

    def close(self) -> None:
        """Close the connections."""
        run_sync(self._remotes.aclose())

    async def aclose(self) -> None:
        """Async `close`."""
        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(self._remotes.aclose(), background_loop())
        )


def from_a2a(url: str, **options: Any) -> A2ARunnable:
    """A remote agent as a LangChain Runnable: `from_a2a(url).invoke("hello")`."""
    return A2ARunnable(url, **options)
