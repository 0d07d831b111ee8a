"""LangChain participants: a chain on langchain-core's fake chat model, answering from the
script (or, for the `clarifier`, a LangGraph graph around it that asks through `interrupt()`),
and callers on `A2ARunnable` (the adapter's `from_a2a`), including a tool-calling agent whose
tools are remote agents (`A2ARunnable(...).as_tool()`)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from a2a_bridges.adapters.langchain import A2ARunnable, adapter
from a2a_bridges.errors import AgentError, RemoteAgentError
from a2a_bridges.testing import script
from a2a_bridges.testing.participant import Answer, Call, Caller, Message, Notes, Participant

__all__ = ["LangChainCaller", "LangChainParticipant", "ScriptedChatModel", "participant"]


def _text_and_files(message: BaseMessage) -> tuple[str, list[script.FileSeen]]:
    if isinstance(message.content, str):
        return message.content, []
    texts, files = [], []
    for block in message.content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") in ("image", "file") and block.get("base64"):
            files.append(
                script.FileSeen(str(block.get("mime_type", "")), base64.b64decode(block["base64"]))
            )
    return "\n".join(texts), files


def _request(messages: Sequence[BaseMessage]) -> script.Request:
    history = tuple(
        ("agent" if isinstance(m, AIMessage) else "user", _text_and_files(m)[0])
        for m in messages[:-1]
    )
    text, files = _text_and_files(messages[-1]) if messages else ("", [])
    return script.Request(text, history, tuple(files))


class ScriptedChatModel(GenericFakeChatModel):
    """langchain-core's fake chat model, answering from the script instead of a fixed list.

    It streams word by word like its parent, can be bound to tools (the calls it makes are
    scripted), and streams natively async so a cancelled run really stops.
    """

    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))
    behaviour: str = "assistant"
    tool_names: list[str] = Field(default_factory=list)
    notes: Any = None

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self.model_copy(update={"tool_names": names})

    def _answer(self, messages: list[BaseMessage]) -> AIMessage | script.Stall:
        if self.behaviour == "lead":
            return _lead(messages, self.tool_names)
        action = script.respond(self.behaviour, _request(messages))
        if isinstance(action, script.Give):
            call = {"name": self.tool_names[0], "args": action.value, "id": "call_0"}
            return AIMessage(content="", tool_calls=[call])
        if isinstance(action, script.Fail):
            raise AgentError(action.message)
        if isinstance(action, script.Stall):
            return action
        return AIMessage(content=action.question if isinstance(action, script.Ask) else action.text)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = self._answer(messages)
        message = AIMessage(content=answer.first) if isinstance(answer, script.Stall) else answer
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        answer = self._answer(messages)
        if isinstance(answer, script.Stall):
            yield ChatGenerationChunk(message=AIMessageChunk(content=answer.first))
            await script.stall(answer, self.notes or (lambda text: None))
            return
        if answer.tool_calls:
            calls = [
                tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                for i, c in enumerate(answer.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=calls))
            return
        for piece in script.chunks(answer.text):
            if run_manager is not None:
                await run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            await asyncio.sleep(0)


def _lead(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
    """The lead researcher: first asks every tool about the topic, then quotes them all."""
    topic = _text_and_files(messages[0])[0]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    if not results:
        calls = [
            {"name": n, "args": {"message": topic}, "id": f"call_{i}"} for i, n in enumerate(tools)
        ]
        return AIMessage(content="", tool_calls=calls)
    return AIMessage(
        content=script.lead_answer(topic, [(str(m.name), str(m.content)) for m in results])
    )


def _asking_graph(name: str, behaviour: str, chat: ScriptedChatModel) -> Runnable[Any, Any]:
    """A LangGraph graph: `interrupt()` when the script asks, else the chat model answers."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.types import interrupt

    async def answer(state: MessagesState) -> dict[str, list[BaseMessage]]:
        action = script.respond(behaviour, _request(state["messages"]))
        if isinstance(action, script.Ask):
            # The first run stops here; the resumed run gets the caller's answer back.
            reply = str(interrupt(action.question))
            return {"messages": [AIMessage(content=script.after_answer(action.question, reply))]}
        return {"messages": [await chat.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    # The checkpointer keeps each thread, and a question waiting in it for the answer.
    return builder.compile(checkpointer=InMemorySaver(), name=name)


def _server(name: str, behaviour: str, notes: Notes, model: str | None) -> Runnable[Any, Any]:
    """A chain that routes each request to the chat model, or to the same model with
    structured output when the script answers with data; the `clarifier` is a graph that can
    ask (it needs langgraph)."""
    if model is not None:
        raise ValueError("the LangChain participants run on the scripted chat model only")
    chat = ScriptedChatModel(behaviour=behaviour, notes=notes)
    if behaviour == "clarifier":
        return _asking_graph(name, behaviour, chat)
    structured = chat.with_structured_output(script.Verdict)

    def route(messages: list[BaseMessage]) -> Runnable[Any, Any]:
        wants_data = isinstance(script.respond(behaviour, _request(messages)), script.Give)
        return structured if wants_data else chat

    # Typed explicitly: the adapter reads the input shape (messages) from the schema.
    return RunnableLambda(route, name=name).with_types(input_type=list[BaseMessage])


# --- the callers ---


def _human(message: Message) -> HumanMessage:
    if message.file is None:
        return HumanMessage(content=message.text)
    f = message.file
    kind = "image" if f.media_type.startswith("image/") else "file"
    block = {"type": kind, "base64": base64.b64encode(f.data).decode(), "mime_type": f.media_type}
    return HumanMessage(content=[{"type": "text", "text": message.text}, block])


def _data(message: BaseMessage) -> Any:
    """The data an A2ARunnable answer carries (a `non_standard` content block), if any."""
    if isinstance(message.content, str):
        return None
    for block in message.content:
        if isinstance(block, dict) and block.get("type") == "non_standard":
            value = block.get("value")
            return value.get("data") if isinstance(value, dict) else value
    return None


class LangChainCaller(Caller):
    """Calls agents through `A2ARunnable`; a conversation is a `thread_id`."""

    def __init__(self, name: str, behaviour: str, headers: Mapping[str, str]) -> None:
        super().__init__(name, behaviour, headers)
        self._runnables: dict[str, A2ARunnable] = {}

    def _runnable(self, url: str) -> A2ARunnable:
        if url not in self._runnables:
            self._runnables[url] = adapter.from_a2a(url, headers=self.headers)
        return self._runnables[url]

    async def answer(self, call: Call) -> Answer:
        runnable = self._runnable(call.url)
        config: RunnableConfig = {"configurable": {"thread_id": f"{self.name}/{call.thread}"}}
        answer = Answer()
        try:
            if call.stream:
                final: AIMessageChunk | None = None
                async for chunk in runnable.astream([_human(call.message)], config):
                    if chunk.text:
                        answer.deltas.append(chunk.text)
                        if call.on_delta is not None:
                            call.on_delta(chunk.text)
                    final = chunk if final is None else final + chunk
                reply: BaseMessage = final if final is not None else AIMessage(content="")
            else:
                reply = await runnable.ainvoke([_human(call.message)], config)
        except RemoteAgentError as exc:
            answer.error = f"{type(exc).__name__}: {exc.message}"
            return answer
        answer.text, answer.data, answer.native = reply.text, _data(reply), type(reply).__name__
        answer.state = (reply.response_metadata.get("a2a") or {}).get("state")
        return answer

    async def orchestrate(self, remotes: Mapping[str, str], message: Message) -> Answer:
        if self.behaviour != "lead":
            return await super().orchestrate(remotes, message)
        # as_tool reads each card with a blocking call: keep it off the event loop.
        tools = [await asyncio.to_thread(self._runnable(url).as_tool) for url in remotes.values()]
        return await _tool_agent(ScriptedChatModel(behaviour="lead"), tools, message.text)

    async def aclose(self) -> None:
        for runnable in self._runnables.values():
            await runnable.aclose()


async def _tool_agent(model: ScriptedChatModel, tools: list[BaseTool], question: str) -> Answer:
    """The tool-calling loop of a LangChain agent: the model calls every tool it wants at
    once, sees their results, and streams its answer."""
    messages: list[BaseMessage] = [HumanMessage(content=question)]
    decision = await model.bind_tools(tools).ainvoke(messages)
    messages.append(decision)
    by_name = {tool.name: tool for tool in tools}
    results = await asyncio.gather(*(by_name[c["name"]].ainvoke(c) for c in decision.tool_calls))
    messages += results
    answer = Answer(native="AIMessageChunk")
    async for chunk in model.astream(messages):
        answer.deltas.append(chunk.text)
    answer.text = "".join(answer.deltas)
    answer.chat = [{"name": m.type, "content": m.content} for m in messages]
    answer.chat.append({"name": "ai", "content": answer.text})
    return answer


class LangChainParticipant(Participant):
    """Chains on a scripted fake chat model (and a LangGraph graph that asks); callers on
    `A2ARunnable`."""

    short = "lc"
    asks = True
    needs: ClassVar[Mapping[str, str]] = {"clarifier": "langgraph"}

    def server(
        self, name: str, behaviour: str, notes: Notes, model: str | None = None
    ) -> Runnable[Any, Any]:
        return _server(name, behaviour, notes, model)

    def caller(self, name: str, behaviour: str, headers: Mapping[str, str]) -> LangChainCaller:
        return LangChainCaller(name, behaviour, headers)


participant = LangChainParticipant()
