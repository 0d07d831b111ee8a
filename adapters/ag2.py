"""AG2 (classic `autogen`) ConversableAgents as A2A servers, and A2A servers as ConversableAgents.

Served, an agent answers each message through `a_generate_reply`, as in a local chat: reply
functions, tools registered for execution, code execution and `llm_config` all take part. Its
human input becomes INPUT_REQUIRED, and streamed model output becomes artifact chunks. When the
caller is AG2's own `A2aRemoteAgent` (one text part per message, role and name in each part's
metadata), those parts are the conversation; otherwise the context's memory is.

`A2AConversableAgent(name, url)` is a ConversableAgent whose replies come from a remote agent,
usable with `initiate_chat`, `a_initiate_chat`, group chats, nested and sequential chats.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import warnings
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

with warnings.catch_warnings():
    # autogen's dependencies warn at import about optional packages the adapter does not use.
    warnings.simplefilter("ignore", ImportWarning)
    try:
        from autogen import Agent, ConversableAgent
        from autogen.agentchat.conversable_agent import normilize_message_to_oai
        from autogen.events.base_event import BaseEvent
        from autogen.events.client_events import StreamEvent
        from autogen.io.base import IOStream
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('the AG2 adapter needs autogen: pip install "a2a-bridges[ag2]"') from exc

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
from bridges.conversation import without_renderings

__all__ = ["A2AConversableAgent", "AG2Runner", "from_a2a", "handles", "to_a2a"]

TYPES = "AG2 ConversableAgents (autogen)"

QUESTION = "ag2_input_request"
"""Part metadata marking a question this adapter asked, so a fresh run can find its answer."""

# Message keys beyond content that travel in a text part's metadata, as AG2's own A2A code does.
_MESSAGE_KEYS = ("name", "tool_calls", "tool_responses", "tool_call_id", "function_call")
_HUMAN_CHECKS = (
    ConversableAgent.check_termination_and_human_reply,
    ConversableAgent.a_check_termination_and_human_reply,
)


def handles(agent: Any) -> bool:
    """Whether `agent` is an AG2 ConversableAgent."""
    return isinstance(agent, ConversableAgent)


# --- parts <-> AG2 message content ---


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _data_uri(part: FilePart) -> str:
    if part.uri is not None:
        return part.uri
    assert part.bytes is not None
    encoded = base64.b64encode(part.bytes).decode()
    return f"data:{part.media_type or 'application/octet-stream'};base64,{encoded}"


def _content_item(part: Part) -> dict[str, Any]:
    """One part as an OpenAI-style content item, the form AG2 passes to multimodal models."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, DataPart):
        return {"type": "text", "text": json.dumps(part.data, ensure_ascii=False)}
    media = part.media_type or ""
    if media.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": _data_uri(part)}}
    if part.bytes is not None and (media.startswith("text/") or media.endswith("json")):
        return {"type": "text", "text": part.bytes.decode(errors="replace")}
    where = part.uri or f"{len(part.bytes or b'')} bytes"
    return {
        "type": "text",
        "text": f"[file {part.name or ''} ({media or 'unknown type'}): {where}]",
    }


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
    index = next((i for i, p in enumerate(parts) if isinstance(p, TextPart)), None)
    if meta and index is None:
        parts.insert(0, TextPart(""))
        index = 0
    if meta and index is not None:
        first = parts[index]
        assert isinstance(first, TextPart)
        parts[index] = TextPart(first.text, metadata=_jsonable(meta))
    return tuple(parts)


def _message_from_parts(parts: Sequence[Part]) -> str | dict[str, Any] | None:
    """Parts as an AG2 message: a string when they are plain text, else a dict; None when empty."""
    if not parts:
        return None
    meta: dict[str, Any] = {}
    for part in parts:
        meta.update({k: v for k, v in (part.metadata or {}).items() if k in _MESSAGE_KEYS})
    meta.pop("name", None)
    content = _content(parts)
    if not meta and isinstance(content, str):
        return content
    return {"content": content, **meta}


# --- the server side ---


def _is_history(turn: Turn) -> bool:
    """Whether a turn carries a whole AG2 chat history, as AG2's `A2aRemoteAgent` sends it."""
    return turn.role == "user" and any("role" in (p.metadata or {}) for p in turn.parts)


def _is_question(turn: Turn) -> bool:
    return turn.role == "agent" and any((p.metadata or {}).get(QUESTION) for p in turn.parts)


def _history_messages(turn: Turn) -> list[dict[str, Any]]:
    messages = []
    for part in turn.parts:
        meta = dict(part.metadata or {})
        if isinstance(part, TextPart) and "role" in meta:
            messages.append({**meta, "content": part.text})
        else:
            messages.append({"role": "user", "content": _content([part])})
    return messages


def _turn_messages(turn: Turn, agent_name: str) -> list[dict[str, Any]]:
    """One turn as AG2 messages, one per speaker when its parts name several."""
    if _is_history(turn):
        return _history_messages(turn)
    default = turn.name or (agent_name if turn.role == "agent" else None)
    groups: list[tuple[str | None, list[Part]]] = []
    for part in turn.parts:
        name = (part.metadata or {}).get("name", default)
        if groups and groups[-1][0] == name:
            groups[-1][1].append(part)
        else:
            groups.append((name, [part]))
    messages = []
    for name, parts in groups or [(default, [])]:
        message = _message_from_parts(parts)
        message = dict(message) if isinstance(message, dict) else {"content": message or ""}
        message["role"] = "assistant" if turn.role == "agent" else "user"
        if "tool_responses" in message:
            message["role"] = "tool"
        if name:
            message["name"] = name
        messages.append(message)
    return messages


def _chat_messages(turns: Sequence[Turn], agent_name: str) -> list[dict[str, Any]]:
    """The turns as AG2 messages; answered questions are left out, the reply that followed tells."""
    messages: list[dict[str, Any]] = []
    after_question = False
    for turn in turns:
        if after_question or _is_question(turn):
            after_question = _is_question(turn)
            continue
        messages.extend(_turn_messages(turn, agent_name))
    return messages


def _pending_questions(turns: Sequence[Turn]) -> int:
    """How many question-and-answer pairs end the conversation."""
    pending = 0
    while len(turns) >= 2 * pending + 2 and _is_question(turns[-2 * pending - 2]):
        pending += 1
    return pending


def _answer_text(turn: Turn) -> str:
    """The human's answer in a turn: its text, or the last message of a history turn."""
    if _is_history(turn):
        return str(_history_messages(turn)[-1].get("content") or "")
    return turn.text


def _prepare(conversation: Conversation, agent_name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The messages to reply to, and answers already given to questions of this very reply.

    A reply that asked for human input and lost its waiting run (a restart, or AG2's client,
    which answers in a new task of the same context) runs again and takes these answers.
    """
    turns = conversation.turns
    pending = _pending_questions(turns)
    if _is_history(turns[-1]):
        messages = _history_messages(turns[-1])
        cut = max(len(messages) - pending, 0)
        return messages[:cut], [str(m.get("content") or "") for m in messages[cut:]]
    cut = len(turns) - 2 * pending
    return _chat_messages(turns[:cut], agent_name), [t.text for t in turns[cut + 1 :: 2]]


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


def _caller(messages: Sequence[Mapping[str, Any]]) -> ConversableAgent:
    """A stand-in for the remote caller, so reply-function triggers see an Agent sender."""
    name = next(
        (m["name"] for m in reversed(messages) if m.get("role") == "user" and m.get("name")), "user"
    )
    return ConversableAgent(
        str(name), llm_config=False, human_input_mode="NEVER", code_execution_config=False
    )


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

    async def run(self, conversation: Conversation) -> AsyncGenerator[Event, Turn | None]:
        messages, answers = _prepare(conversation, self.agent.name)
        caller = _caller(messages)
        io = _RunIO(asyncio.get_running_loop(), answers)
        with IOStream.set_default(io):
            task = asyncio.create_task(self._reply(messages, caller))
        task.add_done_callback(lambda _: io.events.put_nowait(_DONE))
        try:
            while (event := await io.events.get()) is not _DONE:
                if isinstance(event, _Question):
                    question = TextPart(event.prompt, metadata={QUESTION: True})
                    answer = yield InputRequired((question,))
                    event.answer.set_result(_answer_text(answer) if answer else "")
                else:
                    yield event
            yield Reply(_reply_parts(task.result()))
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            _forget(self.agent, caller)

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
    if reply is None:
        return ()
    if isinstance(reply, str):
        return (TextPart(reply),)
    message = {k: v for k, v in reply.items() if k not in ("role", "name")}
    return _message_parts(message)


def _skills(agent: ConversableAgent) -> list[dict[str, Any]]:
    """A skill for each function the agent offers its model or executes."""
    found: dict[str, str] = {}
    for tool in agent.tools:
        found[tool.name] = tool.description or tool.name
    for name, fn in agent.function_map.items():
        doc = (getattr(fn, "__doc__", None) or "").strip().splitlines()
        found.setdefault(name, doc[0] if doc else name)
    return [{"id": n, "name": n, "description": d, "tags": ["function"]} for n, d in found.items()]


def to_a2a(agent: ConversableAgent, *, max_tool_rounds: int = 10, **options: Any) -> Starlette:
    """Serve an AG2 ConversableAgent as an A2A app."""
    info = CardInfo(
        name=agent.name, description=agent.description or agent.name, skills=_skills(agent)
    )
    runner = AG2Runner(agent, max_tool_rounds=max_tool_rounds)
    return build_app(runner, **card_options(info, options))


# --- the client side ---


def _new_messages(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The messages after this agent's latest reply: what the remote agent has not seen."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    return list(messages[last + 1 :]) or list(messages[-1:])


@dataclass
class _Partner:
    """The remote conversation held with one chat partner."""

    remote: RemoteAgent
    asking: bool = False  # the remote agent's last reply was a question


class A2AConversableAgent(ConversableAgent):
    """A ConversableAgent whose replies come from a remote A2A agent.

    Each chat partner gets its own remote conversation (contextId); a new chat with a partner
    (`clear_history`) starts a new one. By default only the messages the remote agent has not
    seen are sent; `send_history=True` sends the whole chat each time, for stateless servers.
    A remote question (input-required) becomes this agent's reply, and the partner's next
    message answers it. A remote failure or timeout becomes a readable reply, or with
    `raise_errors=True` a `RemoteAgentError`.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        description: str | None = None,
        send_history: bool = False,
        raise_errors: bool = False,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        streaming: bool | None = None,
        human_input_mode: Literal["ALWAYS", "NEVER", "TERMINATE"] = "NEVER",
        **kwargs: Any,
    ) -> None:
        self._partners: dict[Agent | None, _Partner] = {}
        super().__init__(
            name,
            system_message="",
            llm_config=False,
            human_input_mode=human_input_mode,
            description=description or f"A remote A2A agent at {url}",
            **kwargs,
        )
        self.url = url
        self.send_history = send_history
        self.raise_errors = raise_errors
        self._remote_options: dict[str, Any] = {
            "headers": headers,
            "timeout": timeout,
            "streaming": streaming,
        }
        # In place of the model call, so termination checks and human input still come first.
        self.replace_reply_func(
            ConversableAgent.generate_oai_reply, A2AConversableAgent.generate_remote_reply
        )
        self.replace_reply_func(
            ConversableAgent.a_generate_oai_reply, A2AConversableAgent.a_generate_remote_reply
        )

    def remote(self, partner: Agent | None = None) -> RemoteAgent:
        """The client of the conversation held with `partner` (for `cancel`, `get_task`, ...)."""
        return self._partner(partner).remote

    def _partner(self, partner: Agent | None) -> _Partner:
        if partner not in self._partners:
            self._partners[partner] = _Partner(RemoteAgent(self.url, **self._remote_options))
        return self._partners[partner]

    def clear_history(
        self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None
    ) -> None:
        """Clear the chat history; the remote conversations cleared with it start afresh."""
        super().clear_history(recipient, nr_messages_to_preserve)
        if nr_messages_to_preserve:
            return
        for key, partner in self._partners.items():
            if recipient is None or key is recipient:
                partner.remote.new_conversation()
                partner.asking = False

    def _request(
        self, messages: Sequence[Mapping[str, Any]], partner: _Partner, sender: Agent | None
    ) -> Turn:
        name = sender.name if sender is not None else None
        if self.send_history:
            if not partner.asking:
                partner.remote.new_conversation()
            parts = [p for m in messages for p in _message_parts(m, role=True)]
            return Turn("user", tuple(parts) or (TextPart(""),), name=name)
        new = _new_messages(messages)
        parts = [p for m in new for p in _message_parts(m)]
        speaker = new[-1].get("name") if new else None
        return Turn("user", tuple(parts) or (TextPart(""),), name=str(speaker or name or "user"))

    def _answer(self, partner: _Partner, reply: Reply) -> str | dict[str, Any] | None:
        partner.asking = reply.input_required
        return _message_from_parts(reply.parts)

    def _failure(self, exc: RemoteAgentError) -> str:
        if self.raise_errors:
            raise exc
        return f"[{self.name} could not answer: {exc.message}]"

    def generate_remote_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | dict[str, Any] | None]:
        """Reply with the remote agent's answer (blocking)."""
        partner = self._partner(sender)
        turn = self._request(
            self._oai_messages[sender] if messages is None else messages, partner, sender
        )
        iostream = IOStream.get_default()
        reply: Reply | None = None
        try:
            for event in partner.remote.stream_sync(turn):
                if isinstance(event, TextDelta):
                    iostream.send(StreamEvent(content=event.text))
                else:
                    reply = event
        except RemoteAgentError as exc:
            return True, self._failure(exc)
        assert reply is not None
        return True, self._answer(partner, reply)

    async def a_generate_remote_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | dict[str, Any] | None]:
        """Reply with the remote agent's answer."""
        partner = self._partner(sender)
        turn = self._request(
            self._oai_messages[sender] if messages is None else messages, partner, sender
        )
        iostream = IOStream.get_default()
        reply: Reply | None = None
        try:
            async for event in partner.remote.stream(turn):
                if isinstance(event, TextDelta):
                    iostream.send(StreamEvent(content=event.text))
                else:
                    reply = event
        except RemoteAgentError as exc:
            return True, self._failure(exc)
        except asyncio.CancelledError:
            await _cancel_quietly(partner.remote)
            raise
        assert reply is not None
        return True, self._answer(partner, reply)

    async def aclose(self) -> None:
        """Close this event loop's connections to the remote agent."""
        for partner in self._partners.values():
            await partner.remote.aclose()

    def close(self) -> None:
        """Close the connections the blocking calls opened."""
        for partner in self._partners.values():
            partner.remote.close()


async def _cancel_quietly(remote: RemoteAgent) -> None:
    # Our caller gave up on the reply: stop the remote task too, without waiting long for it.
    if remote.task_id:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(remote.cancel()), timeout=5)


def from_a2a(url: str, name: str | None = None, **options: Any) -> A2AConversableAgent:
    """A remote A2A agent as an `A2AConversableAgent`, named and described by its card."""
    probe = RemoteAgent(url, headers=options.get("headers"), timeout=options.get("timeout", 60.0))
    card = probe.card_sync()
    options.setdefault("description", card.description or None)
    return A2AConversableAgent(name or card.name or "remote", url, **options)
