"""AG2 (classic `autogen`) ConversableAgents as A2A servers, and A2A servers as ConversableAgents.

Served, an agent answers each message through `a_generate_reply`, as in a local chat: reply
functions, tools registered for execution, code execution and `llm_config` all take part. Its
human input becomes INPUT_REQUIRED, and streamed model output becomes artifact chunks.
`A2AConversableAgent(name, url)` is a ConversableAgent whose replies come from a remote agent,
usable with `initiate_chat`, `a_initiate_chat`, group chats, nested and sequential chats.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import re
import warnings
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias, TypeGuard
from urllib.parse import urlsplit

from a2a_bridges.adapter import Adapter, missing

with warnings.catch_warnings():
    # autogen's dependencies warn at import about optional packages the adapter does not use.
    warnings.simplefilter("ignore", ImportWarning)
    try:
        from autogen import Agent, ConversableAgent
        from autogen.agentchat.conversable_agent import normilize_message_to_oai
        from autogen.events.base_event import BaseEvent
        from autogen.events.client_events import StreamEvent
        from autogen.io.base import IOStream, OutputStream
        from autogen.io.console import IOConsole
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise missing("AG2", "ag2") from exc

from pydantic import BaseModel
from typing_extensions import Unpack

from a2a_bridges import Conversation, FilePart, Part, TextPart, Turn
from a2a_bridges.card import CardInfo, tool_skill
from a2a_bridges.client import ClientOptions, RemoteAgent, RemoteConversation
from a2a_bridges.conversation import without_renderings
from a2a_bridges.errors import RemoteAgentError
from a2a_bridges.runner import Event, InputRequired, Reply, TextDelta

__all__ = [
    "QUESTION",
    "A2AConversableAgent",
    "AG2Adapter",
    "AG2Runner",
    "adapter",
    "from_a2a",
    "handles",
    "to_a2a",
]

QUESTION = "ag2_input_request"
"""Part metadata marking a question this adapter asked, so a fresh run can find its answer."""

# Message keys beyond content that travel in a text part's metadata, as AG2's own A2A code does.
_MESSAGE_KEYS = ("name", "tool_calls", "tool_responses", "tool_call_id", "function_call")
_HUMAN_CHECKS = (
    ConversableAgent.check_termination_and_human_reply,
    ConversableAgent.a_check_termination_and_human_reply,
)


# --- parts <-> AG2 message content ---


def _data_uri(part: FilePart) -> str:
    if part.uri is not None:
        return part.uri
    assert part.bytes is not None
    encoded = base64.b64encode(part.bytes).decode()
    return f"data:{part.media_type or 'application/octet-stream'};base64,{encoded}"


def _content_item(part: Part) -> dict[str, Any]:
    """One part as an OpenAI-style content item, the form AG2 passes to multimodal models."""
    if not isinstance(part, FilePart):
        text = (
            part.text if isinstance(part, TextPart) else json.dumps(part.data, ensure_ascii=False)
        )
        return {"type": "text", "text": text}
    media = part.media_type or ""
    if media.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": _data_uri(part)}}
    if part.bytes is not None and (media.startswith("text/") or media.endswith("json")):
        return {"type": "text", "text": part.bytes.decode(errors="replace")}
    where = part.uri or f"{len(part.bytes or b'')} bytes"
    text = f"[file {part.name or ''} ({media or 'unknown type'}): {where}]"
    return {"type": "text", "text": text}


def _content(parts: Sequence[Part]) -> str | list[dict[str, Any]]:
    """Parts as message content: plain text, or a list of items when there is an image."""
    items = [_content_item(p) for p in without_renderings(parts)]
    if any(item["type"] != "text" for item in items):
        return items
    return "\n".join(item["text"] for item in items)


def _parts_from_content(content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, list):
        parts: list[Part] = []
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append(TextPart(str(item.get("text", ""))))
            elif isinstance(item, dict) and item.get("type") == "image_url":
                parts.append(_file_from_url(str(item["image_url"]["url"])))
            else:
                parts.append(TextPart(json.dumps(item, default=str)))
        return parts
    return [TextPart(content if isinstance(content, str) else json.dumps(content, default=str))]


def _file_from_url(url: str) -> FilePart:
    head, sep, data = url.partition(";base64,")
    if url.startswith("data:") and sep:
        return FilePart(bytes=base64.b64decode(data), media_type=head.removeprefix("data:") or None)
    return FilePart(uri=url)


def _message_parts(message: Mapping[str, Any] | str, *, role: bool = False) -> tuple[Part, ...]:
    """An AG2 message as parts; its name, tool calls and (with `role`) role go in the metadata."""
    if isinstance(message, str):
        message = {"content": message}
    meta = {k: message[k] for k in _MESSAGE_KEYS if message.get(k)}
    if role:
        meta["role"] = message.get("role") or "user"
    parts = _parts_from_content(message.get("content"))
    if meta:
        # On a first part of text, where AG2's own A2A code reads it.
        if not parts or not isinstance(parts[0], TextPart):
            parts.insert(0, TextPart(""))
        parts[0] = replace(parts[0], metadata=json.loads(json.dumps(meta, default=str)))
    return tuple(parts)


def _message_from_parts(parts: Sequence[Part]) -> str | dict[str, Any] | None:
    """Parts as an AG2 message: a string when they are plain text, else a dict; None when empty."""
    if not parts:
        return None
    meta = {k: v for p in parts for k, v in (p.metadata or {}).items() if k in _MESSAGE_KEYS}
    meta.pop("name", None)
    content = _content(parts)
    if not meta and isinstance(content, str):
        return content
    return {"content": content, **meta}


# --- the server side ---


def _is_question(turn: Turn) -> bool:
    return turn.role == "agent" and any((p.metadata or {}).get(QUESTION) for p in turn.parts)


def _turn_messages(turn: Turn, agent_name: str) -> list[dict[str, Any]]:
    """One turn as AG2 messages: a message for each speaker its parts' metadata names.

    A part whose metadata has a `role` is a whole AG2 message, as AG2's clients send them;
    otherwise the turn says who spoke. A part without metadata belongs to the message before.
    """
    default = {
        "role": "assistant" if turn.role == "agent" else "user",
        "name": turn.name or (agent_name if turn.role == "agent" else None),
    }
    groups: list[tuple[dict[str, Any], list[Part]]] = []
    for part in turn.parts:
        meta = part.metadata or {}
        speaker = {k: meta.get(k) if "role" in meta else meta.get(k, v) for k, v in default.items()}
        if groups and (not meta or groups[-1][0] == speaker):
            groups[-1][1].append(part)
        else:
            groups.append((speaker, [part]))
    messages = []
    for speaker, parts in groups or [(default, [])]:
        message = _message_from_parts(parts)
        message = dict(message) if isinstance(message, dict) else {"content": message or ""}
        message["role"] = "tool" if "tool_responses" in message else speaker["role"]
        if speaker["name"]:
            message["name"] = speaker["name"]
        messages.append(message)
    return messages


def _prepare(conversation: Conversation, agent_name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The messages to reply to, and answers already given to questions of this very reply.

    A reply that asked for human input and lost its waiting run (a restart, or AG2's client,
    which answers in a new task of the same context) runs again and takes these answers.
    Answered questions are left out of the messages: the reply that followed tells.
    """
    turns = conversation.turns
    cut = len(turns)
    while cut >= 2 and _is_question(turns[cut - 2]):
        cut -= 2  # a question of this reply, and its answer
    messages: list[dict[str, Any]] = []
    after_question = False
    for turn in turns[:cut]:
        if after_question or _is_question(turn):
            after_question = _is_question(turn)
            continue
        messages.extend(_turn_messages(turn, agent_name))
    return messages, [t.text for t in turns[cut + 1 :: 2]]


@dataclass
class _Question:
    prompt: str
    answer: asyncio.Future[str]


_DONE = object()


@dataclass
class _RunIO:
    """The IOStream of one run: streamed text and questions go to the runner, the rest nowhere."""

    loop: asyncio.AbstractEventLoop
    answers: list[str]
    events: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        return None

    def send(self, message: BaseEvent) -> None:
        # Model clients stream from worker threads (a_generate_oai_reply runs in an executor).
        if isinstance(message, StreamEvent):
            delta = TextDelta(str(message.content.content))  # type: ignore[attr-defined]
            self.loop.call_soon_threadsafe(self.events.put_nowait, delta)

    async def input(self, prompt: str = "", *, password: bool = False) -> str:
        if self.answers:
            return self.answers.pop(0)
        question = _Question(prompt, self.loop.create_future())
        self.events.put_nowait(question)
        return await question.answer


def _caller_name(messages: Sequence[Mapping[str, Any]]) -> str:
    """Who the remote caller is: the newest user message's name, or "user"."""
    name = next(
        (m["name"] for m in reversed(messages) if m.get("role") == "user" and m.get("name")), "user"
    )
    return str(name)


_ATOMS = (str, int, float, bytes, type(None))
"""Values that hold nothing: a run can only replace them, which their id shows."""


def _sizes(value: object, depth: int = 3) -> tuple[object, ...]:
    """How many items a value holds, and those in it hold (a few levels down): what grows when
    a reply adds to it."""
    if depth == 0:
        return ()
    # Checked once a run: the plain types before the ABCs, whose checks cost more.
    if isinstance(value, (list, set, tuple)):
        return (len(value),)
    if isinstance(value, _ATOMS):
        return ()
    if isinstance(value, (dict, Mapping)):
        return (len(value), *[_sizes(v, depth - 1) for v in value.values()])
    if isinstance(value, BaseModel):  # ContextVariables, Handoffs
        return tuple([_sizes(v, depth - 1) for v in vars(value).values()])
    return ()


def _state(agent: ConversableAgent) -> tuple[object, ...]:
    """A stand-in's attributes and their sizes, to tell whether a run changed it."""
    return tuple([(name, id(value), _sizes(value)) for name, value in vars(agent).items()])


_StandIn: TypeAlias = tuple[ConversableAgent, tuple[object, ...]]
"""A stand-in for a caller, and its state as it was made."""


class _Callers:
    """Stand-ins for remote callers, so reply-function triggers see an Agent sender: one per
    run, reused by a later run with the same caller name only if the run left it as it was
    made (making a ConversableAgent costs more than a whole instant reply). At most `most`
    wait idle in all (about 6 KiB each), the oldest of the caller name given back to least
    recently dropped first: up to that many callers at once make none after their first wave."""

    def __init__(self, most: int = 256) -> None:
        self.most = most
        self._count = 0
        self._idle: OrderedDict[str, list[_StandIn]] = OrderedDict()  # never an empty list

    def take(self, name: str) -> _StandIn:
        if idle := self._idle.get(name):
            self._count -= 1
            if len(idle) == 1:
                del self._idle[name]
            return idle.pop()
        caller = ConversableAgent(
            name, llm_config=False, human_input_mode="NEVER", code_execution_config=False
        )
        return caller, _state(caller)

    def give_back(self, stand_in: _StandIn, *, reusable: bool) -> None:
        caller, state = stand_in
        if not reusable or _state(caller) != state:
            return  # still in use, or a reply kept something in it: it goes with this run
        self._idle.setdefault(caller.name, []).append(stand_in)
        self._idle.move_to_end(caller.name)
        self._count += 1
        while self._count > self.most:
            name, oldest = next(iter(self._idle.items()))
            oldest.pop(0)
            self._count -= 1
            if not oldest:
                del self._idle[name]

    def idle(self) -> int:
        """How many stand-ins wait to be reused."""
        return self._count


def _forget(agent: ConversableAgent, caller: Agent) -> None:
    # The agent keys per-sender state by the sender; each run's stand-in is new, so drop it.
    for table in (
        agent._oai_messages,
        agent._consecutive_auto_reply_counter,
        agent._max_consecutive_auto_reply_dict,
        agent.reply_at_receive,
    ):
        table.pop(caller, None)


def _calls_own_tools(reply: object, agent: ConversableAgent) -> TypeGuard[dict[str, Any]]:
    """Whether the reply calls tools, all of which the agent itself executes."""
    calls = reply.get("tool_calls") if isinstance(reply, dict) else None
    names = [c.get("function", {}).get("name", "") for c in calls or []]
    return bool(names) and all(name in agent.function_map for name in names)


class AG2Runner:
    """Runs a ConversableAgent's reply machinery for each message."""

    def __init__(self, agent: ConversableAgent, *, max_tool_rounds: int = 10) -> None:
        self.agent = agent
        self.max_tool_rounds = max_tool_rounds
        self._callers = _Callers()

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        messages, answers = _prepare(conversation, self.agent.name)
        stand_in = self._callers.take(_caller_name(messages))
        caller = stand_in[0]
        io = _RunIO(asyncio.get_running_loop(), answers)
        with IOStream.set_default(io):
            task = asyncio.create_task(self._reply(messages, caller))
        task.add_done_callback(lambda _: io.events.put_nowait(_DONE))
        try:
            while (event := await io.events.get()) is not _DONE:
                if isinstance(event, _Question):
                    question = TextPart(event.prompt, metadata={QUESTION: True})
                    answer = yield InputRequired((question,))
                    event.answer.set_result(answer.text if answer else "")
                else:
                    yield event
            yield Reply(_reply_parts(task.result()))
        finally:
            try:
                if not task.done():  # closed: cancelled, or its question is never answered
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            finally:
                _forget(self.agent, caller)
                self._callers.give_back(stand_in, reusable=task.done())

    async def _reply(self, messages: list[dict[str, Any]], caller: ConversableAgent) -> Any:
        agent = self.agent
        reply = await agent.a_generate_reply(messages, sender=caller)
        for _ in range(self.max_tool_rounds):
            # Tools this agent executes itself are run here, as its chat partner would run them.
            if not _calls_own_tools(reply, agent):
                break
            _, call = normilize_message_to_oai(reply, agent.name, role="assistant")
            _, result = await agent.a_generate_tool_calls_reply([call], sender=caller)
            assert result is not None  # there were calls, so there are results
            messages = [*messages, call, result]
            reply = await agent.a_generate_reply(messages, sender=caller, exclude=_HUMAN_CHECKS)
        return reply


def _reply_parts(reply: str | Mapping[str, Any] | None) -> tuple[Part, ...]:
    """An AG2 reply as the answer's parts; None (no reply) as none."""
    if isinstance(reply, Mapping):
        reply = {k: v for k, v in reply.items() if k != "name"}
    return () if reply is None else _message_parts(reply)


# --- the client side ---


def _new_messages(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The messages after this agent's latest reply: what the remote agent has not seen."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    return list(messages[last + 1 :]) or list(messages[-1:])


def _default_name(url: str) -> str:
    """An agent name from a URL, as AG2 accepts names: its last path segment, or its host."""
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rpartition("/")[2]
    base = segment or parts.netloc
    return re.sub(r"[^A-Za-z0-9_-]+", "_", base).strip("_") or "remote_agent"


_chat_silent: ContextVar[bool | None] = ContextVar("a2a_bridges_ag2_chat_silent", default=None)
"""Whether the chat a reply is being made for is silent (None outside `receive`)."""


@contextlib.contextmanager
def _in_chat(silent: bool | None) -> Iterator[None]:
    token = _chat_silent.set(silent)
    try:
        yield
    finally:
        _chat_silent.reset(token)


@dataclass
class _Call:
    """One reply from the remote agent, as a context manager around its stream: what is said,
    where its text streams, and the answer (a remote failure's text, unless the agent raises).

    Text goes on AG2's console on one line (its `StreamEvent` prints each piece on a line of
    its own, in colour); to another IOStream as `StreamEvent`s, as AG2's model clients send
    them; nowhere in a silent chat (`iostream` None). The IOStream is context-local, so it is
    read and written from the caller's thread.
    """

    agent: A2AConversableAgent
    conversation: RemoteConversation
    turn: Turn
    iostream: OutputStream | None
    answer: str | dict[str, Any] | None = None
    printed: bool = False

    def take(self, event: TextDelta | Reply) -> None:
        if isinstance(event, Reply):
            self.answer = _message_from_parts(event.parts)
        elif isinstance(self.iostream, IOConsole):
            self.iostream.print(event.text, end="", flush=True)
            self.printed = self.printed or bool(event.text)
        elif self.iostream is not None:
            self.iostream.send(StreamEvent(content=event.text))

    def __enter__(self) -> _Call:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> bool:
        if self.printed and self.iostream is not None:
            self.iostream.print(flush=True)
        if isinstance(exc, RemoteAgentError) and not self.agent.raise_errors:
            self.answer = f"[{self.agent.name} could not answer: {exc.message}]"
            return True
        return False


class A2AConversableAgent(ConversableAgent):
    """A ConversableAgent whose replies come from a remote A2A agent.

    Each chat partner gets its own remote conversation (contextId); a new chat with a partner
    (`clear_history`) starts a new one. By default only the messages the remote agent has not
    seen are sent; `send_history=True` sends the whole chat each time, for stateless servers.
    A remote question (input-required) becomes this agent's reply, and the partner's next
    message answers it. A remote failure or timeout becomes a readable reply, or with
    `raise_errors=True` a `RemoteAgentError`. Text streams unless the chat is silent. The
    description, unless given, is the card's, read when first needed (group chats read it to
    choose speakers): nothing is fetched at construction. `options` are the client's.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        description: str | None = None,
        send_history: bool = False,
        raise_errors: bool = False,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        is_termination_msg: Callable[[dict[str, Any]], bool] | None = None,
        max_consecutive_auto_reply: int | None = None,
        silent: bool | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.remote = RemoteAgent(url, **options)
        self._partners: dict[Agent | None, RemoteConversation] = {}
        super().__init__(
            name,
            system_message="",
            llm_config=False,
            human_input_mode=human_input_mode,
            is_termination_msg=is_termination_msg,
            max_consecutive_auto_reply=max_consecutive_auto_reply,
            silent=silent,
        )
        self._description: str | None = description
        self.send_history = send_history
        self.raise_errors = raise_errors
        # In place of the model call, so termination checks and human input still come first.
        self.replace_reply_func(
            ConversableAgent.generate_oai_reply, A2AConversableAgent.generate_remote_reply
        )
        self.replace_reply_func(
            ConversableAgent.a_generate_oai_reply, A2AConversableAgent.a_generate_remote_reply
        )

    @property
    def description(self) -> str:
        """What the remote agent does: as given, or as its card says (read once)."""
        if self._description is None:
            self._description = ""  # read once: an unreachable agent's first call says why
            with contextlib.suppress(RemoteAgentError):
                self._description = self.remote.card_sync().description
        return self._description or f"A remote A2A agent at {self.remote.url}"

    @description.setter
    def description(self, description: str) -> None:
        self._description = description

    def conversation(self, partner: Agent | None = None) -> RemoteConversation:
        """The remote conversation held with `partner`: its context, latest task, question."""
        return self._partners.setdefault(partner, self.remote.conversation())

    def clear_history(
        self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None
    ) -> None:
        """Clear the chat history; the remote conversations cleared with it start afresh."""
        super().clear_history(recipient, nr_messages_to_preserve)
        if not nr_messages_to_preserve:
            for partner in [p for p in self._partners if recipient is None or p is recipient]:
                del self._partners[partner]

    def receive(
        self,
        message: dict[str, Any] | str,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Receive a message; the reply streams unless the chat is silent."""
        with _in_chat(silent):
            super().receive(message, sender, request_reply, silent)

    async def a_receive(
        self,
        message: dict[str, Any] | str,
        sender: Agent,
        request_reply: bool | None = None,
        silent: bool | None = False,
    ) -> None:
        """Receive a message; the reply streams unless the chat is silent."""
        with _in_chat(silent):
            await super().a_receive(message, sender, request_reply, silent)

    def _call(self, messages: list[dict[str, Any]] | None, sender: Agent | None) -> _Call:
        """The reply to make: the conversation with `sender`, what to say, where it streams."""
        messages = self._oai_messages[sender] if messages is None else messages
        if self.send_history and not self.conversation(sender).asking:
            self._partners[sender] = self.remote.conversation()  # stateless: a new context
        said = messages if self.send_history else _new_messages(messages)
        parts = [p for m in said for p in _message_parts(m, role=self.send_history)]
        speaker = None if self.send_history or not said else said[-1].get("name")
        name = str(speaker or (sender.name if sender is not None else "user"))
        turn = Turn("user", tuple(parts) or (TextPart(""),), name=name)
        silent = self.silent if self.silent is not None else _chat_silent.get()
        iostream = None if silent else IOStream.get_default()
        return _Call(self, self.conversation(sender), turn, iostream)

    def generate_remote_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | dict[str, Any] | None]:
        """Reply with the remote agent's answer (blocking)."""
        with self._call(messages, sender) as call:
            for event in call.conversation.stream_sync(call.turn):
                call.take(event)
        return True, call.answer

    async def a_generate_remote_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | dict[str, Any] | None]:
        """Reply with the remote agent's answer."""
        with self._call(messages, sender) as call:
            async for event in call.conversation.stream(call.turn):
                call.take(event)
        return True, call.answer

    async def aclose(self) -> None:
        """Close this event loop's connections to the remote agent."""
        await self.remote.aclose()

    def close(self) -> None:
        """Close the connections the blocking calls opened."""
        self.remote.close()


# --- the adapter ---


class AG2Adapter(Adapter):
    """AG2 ConversableAgents served, and remote agents as `A2AConversableAgent`s."""

    name = "ag2"
    aliases = ("autogen",)
    serves = "AG2 ConversableAgents (autogen)"
    participant = "a2a_bridges.adapters.participants.ag2:participant"
    agent_types = (ConversableAgent,)

    def card(self, agent: ConversableAgent) -> CardInfo:
        """A skill for each function the agent offers its model or executes."""
        found = {tool.name: tool.description or tool.name for tool in agent.tools}
        for name, fn in agent.function_map.items():
            found.setdefault(name, (inspect.getdoc(fn) or name).splitlines()[0])
        skills = [tool_skill(name, description) for name, description in found.items()]
        return CardInfo(agent.name, agent.description or agent.name, skills)

    def runner(self, agent: ConversableAgent, *, max_tool_rounds: int = 10) -> AG2Runner:
        """`max_tool_rounds`: how many rounds of its own tool calls a reply may make."""
        return AG2Runner(agent, max_tool_rounds=max_tool_rounds)

    def remote(
        self, url: str, client: ClientOptions, *, name: str | None = None, **native: Any
    ) -> A2AConversableAgent:
        """`name` (by default from the URL), and `A2AConversableAgent`'s own options."""
        return A2AConversableAgent(name or _default_name(url), url, **native, **client)


adapter = AG2Adapter()
handles = adapter.handles
to_a2a = adapter.to_a2a
from_a2a = adapter.from_a2a
