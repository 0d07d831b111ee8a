"""LangChain Runnables as A2A agents, and A2A agents as LangChain Runnables.

Served (`to_a2a`): any Runnable, such as a chat model, an LCEL chain or a LangGraph graph
(`StateGraph(...).compile()`, `create_agent`, `create_react_agent`). Its input is found from
its input schema: a list of messages, `{"messages": [...]}`, a string, or a dict with one
text key and, optionally, one messages key that gets the earlier turns (a prompt's
`MessagesPlaceholder("history")`); `input_key` names the key that takes the new message when
the schema does not tell. A runnable whose input holds no messages cannot see the earlier
turns: it is served with a warning, and its card says so. Its output becomes the answer: a
message's content, a string, a graph state's last message (or, when it has a
`structured_response`, its last AI message and that data), the `output_key` value of a dict,
or any other value as a data part.
Tokens are streamed as they are produced (`astream`; `stream_mode="messages"` for graphs).
The config's `thread_id` is the contextId: a graph with a checkpointer keeps its own memory
under it, and a LangGraph `interrupt()` asks the caller (A2A input-required); every other
runnable is given the context's earlier turns as messages.

Remote (`from_a2a` / `A2ARunnable`): see `A2ARunnable`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from typing_extensions import Unpack

from a2a_bridges import Conversation, DataPart, FilePart, Part, TextPart, Turn
from a2a_bridges.adapter import Adapter, missing
from a2a_bridges.card import CardInfo, describe, tool_name, tool_skill
from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import JSON_MEDIA_TYPE, without_renderings
from a2a_bridges.runner import Event, InputRequired, Reply, TextDelta

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
        MessageLikeRepresentation,
        convert_to_messages,
    )
    from langchain_core.prompt_values import PromptValue
    from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
    from langchain_core.tools import BaseTool, StructuredTool
    from pydantic import PrivateAttr
    from pydantic_core import to_jsonable_python
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise missing("LangChain", "langchain") from _exc

__all__ = [
    "STATELESS",
    "A2AInput",
    "A2ARunnable",
    "LangChainAdapter",
    "LangChainRunner",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]

logger = logging.getLogger("a2a_bridges.adapters.langchain")

STATELESS = "(stateless: does not see earlier turns)"
"""The note on the card of a runnable whose input cannot hold the earlier turns."""

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


def _keys(schema: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """An input schema's messages keys, and its other (text) keys."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    arrays = [k for k, v in props.items() if k == "messages" or _is_array(v)]
    return arrays, [k for k in props if k not in arrays]


def _input_shape(runnable: Runnable[Any, Any], input_key: str | None) -> _Input:
    """How `runnable` takes a conversation, found from its input schema."""
    schema = _input_schema(runnable)
    props: dict[str, Any] = schema.get("properties") or {}
    arrays, texts = _keys(schema)
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
    name, example = runnable.get_name(), (texts or arrays)[0]
    raise ValueError(
        f"cannot tell which input of {name} takes the message: it takes "
        f"{', '.join(texts)} (text) and {', '.join(arrays) or 'no'} (messages); name one, "
        f"as in to_a2a(runnable, input_key={example!r}) or a2a-bridges serve ... "
        f"-o input_key={example}"
    )


def _is_graph(runnable: Any) -> bool:
    try:  # langgraph is optional: without it, nothing is a graph
        from langgraph.pregel.protocol import PregelProtocol
    except ImportError:
        return False
    return isinstance(runnable, PregelProtocol)


def _checkpointed(runnable: Any) -> bool:
    """Whether a graph keeps its own memory (`checkpointer=True` only marks a subgraph that
    uses its parent's)."""
    return _is_graph(runnable) and hasattr(getattr(runnable, "checkpointer", None), "aget_tuple")


def _sees_history(runnable: Runnable[Any, Any], shape: _Input) -> bool:
    """Whether a runnable sees the earlier turns: in its input, or in its own memory."""
    return shape.messages or shape.history_key is not None or _checkpointed(runnable)


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
        self.checkpointed = _checkpointed(runnable)
        if not _sees_history(runnable, self.input):
            where = f" (next to {{{self.input.key}}})" if self.input.key else ""
            logger.warning(
                "%s takes only the new message's text, so it answers every message without "
                "the earlier turns; to give it the conversation, add "
                'MessagesPlaceholder("history") to its prompt%s',
                runnable.get_name(),
                where,
            )

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


# --- the client direction ---

A2AInput: TypeAlias = str | Sequence[MessageLikeRepresentation] | dict[str, Any] | PromptValue
"""A string, messages (anything `convert_to_messages` takes), or `{"messages": [...]}`."""


def _input_messages(value: A2AInput) -> list[BaseMessage]:
    if isinstance(value, str):
        return [HumanMessage(value)]
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
    return messages


def _new_turn(messages: Sequence[BaseMessage]) -> Turn:
    """The input's newest messages, those after its last AI message: the remote agent
    remembers what came before."""
    last_ai = max((i for i, m in enumerate(messages) if isinstance(m, AIMessage)), default=-1)
    # An input that ends with an AI message (another agent's answer) sends that message.
    new = messages[last_ai + 1 :] or messages[-1:]
    parts = tuple(p for m in new for p in _message_parts(m))
    return Turn("user", parts or (TextPart(""),), name=new[-1].name)


def _tagged(message: BaseMessage, role: str | None = None) -> TextPart:
    """A message's text, with its role and name in the part's metadata."""
    role = role or {"human": "user", "ai": "assistant"}.get(message.type, message.type)
    meta = {"role": role, **({"name": message.name} if message.name else {})}
    return TextPart(message.text, metadata=meta)


def _whole_turn(messages: Sequence[BaseMessage]) -> Turn:
    """Every message, for a remote agent that knows none of them: a text part each, with its
    role and name in the part's metadata (AG2 classic's shape, which every server of this
    library reads as the conversation; any other server still reads every message's text).
    The last one is what the caller says now, whoever wrote it."""
    *earlier, last = messages
    if not any(m.text for m in earlier):
        return _new_turn(messages)
    parts: list[Part] = [_tagged(m) for m in earlier if m.text]
    parts.append(_tagged(last, "user"))
    parts += [p for p in _message_parts(last) if not isinstance(p, TextPart)]
    return Turn("user", tuple(parts), name=last.name)


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


class A2ARunnable(RunnableSerializable[A2AInput, Any]):
    """A remote A2A agent as a LangChain Runnable.

    Input: a string, a list of messages, or `{"messages": [...]}`. Output: an `AIMessage`
    whose content is the answer's text, or content blocks when it also holds data
    (`non_standard` blocks with `{"data": ..., "media_type": ...}`) or files; a dict input gets
    the state update `{"messages": [AIMessage]}`, so the runnable is a LangGraph node as it is.
    `stream` and `astream` yield `AIMessageChunk`s as the text arrives, then one with the rest.
    `response_metadata["a2a"]` holds the url, context_id, task_id and state.

    `config["configurable"]["thread_id"]` keeps one remote conversation (contextId) per
    thread: only the newest messages, those after the last AI message, are sent, and a
    question the remote agent asked is answered by the thread's next call. Without a thread,
    each call is a new conversation and every message of the input is sent along. Make a
    thread's calls one at a time: its first call opens the conversation. Failures raise
    `RemoteAgentError`.

    Takes the `ClientOptions` (`headers`, `token`, `timeout`, ...). Async calls run on the
    caller's event loop, blocking ones on a background one; `close()` releases the blocking
    calls' connections, `aclose()` the running loop's.
    """

    url: str
    _remote: RemoteAgent = PrivateAttr()
    _threads: dict[str, RemoteConversation] = PrivateAttr(default_factory=dict)

    def __init__(self, url: str, **options: Unpack[ClientOptions]) -> None:
        super().__init__(url=url.rstrip("/"))  # type: ignore[call-arg]
        self._remote = RemoteAgent(self.url, **options)

    def _conversation(
        self, value: A2AInput, config: RunnableConfig
    ) -> tuple[RemoteConversation, Turn]:
        """The conversation a call continues, and what it says there."""
        messages = _input_messages(value)
        thread_id = (config.get("configurable") or {}).get("thread_id")
        if thread_id is None:
            return self._remote.conversation(), _whole_turn(messages)
        if (conversation := self._threads.get(str(thread_id))) is None:
            conversation = self._threads[str(thread_id)] = self._remote.conversation()
        return conversation, _new_turn(messages)

    def _output(self, value: A2AInput, reply: Reply) -> Any:
        message = AIMessage(
            content=_content(without_renderings(reply.parts), data_as_text=False),
            response_metadata=_metadata(reply, self.url),
        )
        return {"messages": [message]} if isinstance(value, Mapping) else message

    def _chunk(self, event: TextDelta | Reply, streamed: bool) -> AIMessageChunk:
        if isinstance(event, TextDelta):
            return AIMessageChunk(content=event.text)
        # The text has arrived already, unless the peer sent none until the end.
        parts = without_renderings(event.parts)
        rest = [p for p in parts if not (streamed and isinstance(p, TextPart))]
        content = _content(rest, data_as_text=False) if rest else ""
        return AIMessageChunk(content=content, response_metadata=_metadata(event, self.url))

    # invoke

    def _invoke(
        self, value: A2AInput, run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Any:
        conversation, turn = self._conversation(value, config)
        return self._output(value, conversation.send_sync(turn))

    async def _ainvoke(
        self, value: A2AInput, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig
    ) -> Any:
        conversation, turn = self._conversation(value, config)
        return self._output(value, await conversation.send(turn))

    def invoke(self, input: A2AInput, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Send the input; return the answer as an `AIMessage`."""
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
        for value in inputs:
            conversation, turn = self._conversation(value, config)
            streamed = False
            for event in conversation.stream_sync(turn):
                yield self._chunk(event, streamed)
                streamed = streamed or isinstance(event, TextDelta)

    async def _astream_chunks(
        self,
        inputs: AsyncIterator[A2AInput],
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> AsyncIterator[AIMessageChunk]:
        async for value in inputs:
            conversation, turn = self._conversation(value, config)
            streamed = False
            async with contextlib.aclosing(conversation.stream(turn)) as events:
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
            card = self._remote.card_sync()
            name, description = name or tool_name(card), description or describe(card)

        def ask(message: str, config: RunnableConfig) -> str:
            return _tool_text(self.invoke(message, config))

        async def aask(message: str, config: RunnableConfig) -> str:
            return _tool_text(await self.ainvoke(message, config))

        return StructuredTool.from_function(
            func=ask, coroutine=aask, name=name, description=description
        )

    def close(self) -> None:
        """Close the connections the blocking calls opened."""
        self._remote.close()

    async def aclose(self) -> None:
        """Close the running event loop's connections."""
        await self._remote.aclose()


class LangChainAdapter(Adapter):
    """LangChain Runnables served over A2A, and remote agents as `A2ARunnable`s."""

    name = "langchain"
    serves = "LangChain Runnables (chat models, LCEL chains, LangGraph graphs)"
    participant = "a2a_bridges.adapters.participants.langchain:participant"
    agent_types = (Runnable,)

    def card(self, agent: Runnable[Any, Any]) -> CardInfo:
        """The runnable's name; an agent graph's tools are skills."""
        name = agent.get_name()
        try:
            stateless = not _sees_history(agent, _input_shape(agent, None))
        except ValueError:
            # Only `input_key` tells which key takes the message; the history goes in a
            # messages key next to it, if there is one.
            stateless = not _keys(_input_schema(agent))[0] and not _checkpointed(agent)
        skills = [tool_skill(t.name, t.description) for t in _tools(agent)]
        return CardInfo(
            name=name, description=f"{name} {STATELESS}" if stateless else "", skills=skills
        )

    def runner(
        self,
        agent: Runnable[Any, Any],
        *,
        input_key: str | None = None,
        output_key: str | None = None,
        **unknown: Any,
    ) -> LangChainRunner:
        """`input_key` names the input key that takes the new message, `output_key` the output
        key that holds the answer, where the schema does not tell."""
        if unknown:
            raise TypeError(
                f"unknown option(s) {', '.join(sorted(unknown))} for a LangChain Runnable: "
                "it takes input_key and output_key"
            )
        return LangChainRunner(agent, input_key=input_key, output_key=output_key)

    def remote(self, url: str, client: ClientOptions, **native: Any) -> A2ARunnable:
        """An `A2ARunnable`; it takes no option beyond the client's."""
        return A2ARunnable(url, **client, **native)


adapter = LangChainAdapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a
