"""AG2 participants: ConversableAgents with a registered deterministic reply, and callers that
chat with `A2AConversableAgent` (the adapter's `from_a2a`) through `a_initiate_chat`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

with warnings.catch_warnings():
    # autogen warns at import about optional packages it does not find.
    warnings.simplefilter("ignore")
    from autogen import Agent, ConversableAgent
    from autogen.events.base_event import BaseEvent
    from autogen.events.client_events import StreamEvent
    from autogen.io.base import IOStream

from a2a_bridges.adapters.ag2 import A2AConversableAgent, adapter
from a2a_bridges.errors import AgentError
from a2a_bridges.testing import script
from a2a_bridges.testing.participant import (
    Answer,
    Call,
    Caller,
    Message,
    Notes,
    OnDelta,
    Participant,
)

__all__ = [
    "SYSTEM_MESSAGES",
    "AG2Caller",
    "AG2Participant",
    "participant",
]

SYSTEM_MESSAGES = {
    "checker": "You fact-check the topic you are given and answer in one sentence.",
}


def _content_parts(content: Any) -> tuple[str, list[script.FileSeen]]:
    """The text and the files of an AG2 message's content (a string, or OpenAI-style items)."""
    if not isinstance(content, list):
        return str(content or ""), []
    texts, files = [], []
    for item in content:
        if item.get("type") == "text":
            texts.append(str(item.get("text", "")))
        elif item.get("type") == "image_url":
            head, _, data = str(item["image_url"]["url"]).partition(";base64,")
            files.append(script.FileSeen(head.removeprefix("data:"), base64.b64decode(data)))
    return "\n".join(texts), files


def _request(messages: list[dict[str, Any]]) -> script.Request:
    history = []
    for m in messages[:-1]:
        text, _ = _content_parts(m.get("content"))
        history.append(("agent" if m.get("role") == "assistant" else "user", text))
    text, files = _content_parts(messages[-1].get("content") if messages else "")
    return script.Request(text, tuple(history), tuple(files))


async def _say(text: str) -> str:
    """Stream `text` the way AG2's model clients do (StreamEvents on the IOStream)."""
    iostream = IOStream.get_default()
    for piece in script.chunks(text):
        iostream.send(StreamEvent(content=piece))
        await asyncio.sleep(0)
    return text


def _scripted_reply(behaviour: str, notes: Notes) -> Callable[..., Any]:
    async def reply(
        recipient: ConversableAgent,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | None]:
        action = script.respond(behaviour, _request(messages or []))
        if isinstance(action, script.Say):
            return True, await _say(action.text)
        if isinstance(action, script.Give):
            return True, json.dumps(action.value)  # AG2 messages are text: JSON it is
        if isinstance(action, script.Ask):
            answer = await recipient.a_get_human_input(action.question)
            return True, await _say(script.after_answer(action.question, answer))
        if isinstance(action, script.Fail):
            raise AgentError(action.message)
        await script.stall(action, notes, say=_say)
        return True, "done"

    return reply


def _llm_config(model: str) -> dict[str, Any]:
    provider, _, name = model.partition(":")
    api_type = {"google-gla": "google", "gemini": "google"}.get(provider, provider)
    key = os.environ[script.PROVIDER_KEYS[provider]]
    return {"config_list": [{"model": name, "api_type": api_type, "api_key": key}]}


def _server(name: str, behaviour: str, notes: Notes, model: str | None) -> ConversableAgent:
    """A ConversableAgent answering through a registered deterministic reply, or `model`."""
    agent = ConversableAgent(
        name,
        system_message=SYSTEM_MESSAGES.get(behaviour, "You are a helpful agent."),
        llm_config=_llm_config(model) if model is not None else False,
        human_input_mode="NEVER",
        code_execution_config=False,
        description=f"A scripted AG2 {behaviour}.",
    )
    if model is None:
        agent.register_reply(
            [Agent, None],
            _scripted_reply(behaviour, notes),
            ignore_async_in_sync_chat=True,
        )
    return agent


# --- the caller ---


class _Console:
    """A quiet IOStream for the caller's side: keeps the streamed text, prints nothing.

    Chats with it are not `silent`: a silent chat streams nothing, not even to an IOStream.
    """

    def __init__(self, on_delta: OnDelta | None = None) -> None:
        self.deltas: list[str] = []
        self.on_delta = on_delta

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        return None

    def send(self, message: BaseEvent) -> None:
        if isinstance(message, StreamEvent):
            text = str(message.content.content)  # type: ignore[attr-defined]
            self.deltas.append(text)
            if self.on_delta is not None:
                self.on_delta(text)

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        return ""


def _content(message: Message) -> str | dict[str, Any]:
    if message.file is None:
        return message.text
    f = message.file
    url = f"data:{f.media_type};base64,{base64.b64encode(f.data).decode()}"
    items = [
        {"type": "text", "text": message.text},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    return {"content": items}


def _user(name: str) -> ConversableAgent:
    return ConversableAgent(
        name, llm_config=False, human_input_mode="NEVER", code_execution_config=False
    )


class AG2Caller(Caller):
    """A local AG2 agent that chats with remote agents, each an `A2AConversableAgent`.

    One conversation is one chat: its first message starts a new chat (`clear_history=True`,
    which also starts a new remote conversation), the next ones go on with it.
    """

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        super().__init__(name, behaviour, headers)
        self.user = _user(name)
        self._remotes: dict[str, A2AConversableAgent] = {}
        self._threads: dict[str, str] = {}  # url -> the conversation its chat holds

    def _remote(self, url: str, name: str | None = None) -> A2AConversableAgent:
        if url not in self._remotes:
            self._remotes[url] = adapter.remote(url, {"headers": self.headers}, name=name)
        return self._remotes[url]

    async def answer(self, call: Call) -> Answer:
        remote = self._remote(call.url)
        fresh = self._threads.get(call.url) != call.thread
        self._threads[call.url] = call.thread
        console = _Console(call.on_delta)
        with IOStream.set_default(console):
            result = await self.user.a_initiate_chat(
                remote,
                # AG2 takes a message dict here (for multimodal content), though typed str.
                message=_content(call.message),  # type: ignore[arg-type]
                max_turns=1,
                clear_history=fresh,
            )
        reply = result.chat_history[-1] if result.chat_history else {}
        content = reply.get("content")
        text, _ = _content_parts(content)
        return Answer(text=text, deltas=console.deltas, native=type(content).__name__)

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        if self.behaviour != "reviewer":
            return await super().orchestrate(remotes, message)
        ((name, url),) = remotes.items()
        coder = self._remote(url, name=name)
        reviewer = _user(self.name)
        reviewer.register_reply([Agent, None], _review)
        console = _Console()
        with IOStream.set_default(console):
            result = await reviewer.a_initiate_chat(coder, message=message.text, max_turns=3)
        chat = [{"name": m.get("name"), "content": m.get("content")} for m in result.chat_history]
        last = str(result.chat_history[-1].get("content") or "") if result.chat_history else ""
        return Answer(text=last, deltas=console.deltas, native="ChatResult", chat=chat)

    async def aclose(self) -> None:
        for remote in self._remotes.values():
            await remote.aclose()


def _review(
    recipient: ConversableAgent,
    messages: list[dict[str, Any]] | None = None,
    sender: Agent | None = None,
    config: Any = None,
) -> tuple[bool, str]:
    """The reviewer's scripted reply to the coder's latest code."""
    code = [m for m in messages or [] if m.get("role") == "user"]
    return True, script.reviewer_says(len(code), str(code[-1].get("content") if code else ""))


class AG2Participant(Participant):
    """ConversableAgents with a scripted reply (or a real model); callers chatting with
    `A2AConversableAgent`."""

    short = "ag2"
    takes_models = True
    asks = True
    text_only = True

    def server(
        self, name: str, behaviour: str, notes: Notes, model: str | None = None
    ) -> ConversableAgent:
        return _server(name, behaviour, notes, model)

    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> AG2Caller:
        return AG2Caller(name, behaviour, headers)


participant = AG2Participant()
