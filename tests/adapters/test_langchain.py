"""The LangChain adapter, against real servers on loopback: Runnables, LangGraph graphs and
`create_agent` agents served over A2A and answered by the a2a-sdk client, `RemoteAgent` and
`A2ARunnable`; remote agents (ours and fasta2a's) used as LangChain Runnables, tools and
LangGraph nodes."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

import asyncio
import json
import re
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from a2a.client import ClientConfig, create_client
from a2a.types import CancelTaskRequest, Message, Role, SendMessageRequest, TaskState
from a2a.types import Part as A2APart
from google.protobuf import json_format
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel, Field, PrivateAttr

import a2a_bridges
from a2a_bridges import RemoteAgent, RemoteAgentError, RemoteConversation
from a2a_bridges.adapters.langchain import A2ARunnable, LangChainRunner, from_a2a, to_a2a
from a2a_bridges.conversation import parts_text, without_renderings
from a2a_bridges.errors import AgentError
from a2a_bridges.testing import running

# --- signals between a test and the agents it serves (they run in the server's thread) ---

_signals: dict[str, threading.Event] = {}
_signals_lock = threading.Lock()


def signal(name: str) -> threading.Event:
    with _signals_lock:
        return _signals.setdefault(name, threading.Event())


async def wait(event: threading.Event, timeout: float = 5.0) -> bool:
    return await asyncio.to_thread(event.wait, timeout)


# --- a deterministic chat model ---


class ScriptedModel(BaseChatModel):
    """Answers `heard N: TEXT` (N: how many human messages it was given), or plays `script`
    in a loop (tool calls included). The last message can instead say `fail` (it raises),
    `hang KEY` (it waits to be cancelled) or `gate KEY` (it streams two words, then waits
    for the caller to open the gate before it finishes)."""

    script: list[AIMessage] = Field(default_factory=list)
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self  # the script holds the tool calls already

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        raise NotImplementedError("the served side uses the async API")

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        chunks = [c.message async for c in self._astream(messages)]
        message = chunks[0]
        for chunk in chunks[1:]:
            message += chunk
        assert isinstance(message, AIMessageChunk)
        full = AIMessage(content=message.content, tool_calls=message.tool_calls)
        return ChatResult(generations=[ChatGeneration(message=full)])

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        text = messages[-1].text
        command, _, key = text.partition(" ")
        if command == "fail":
            raise AgentError("the model broke")
        if command == "hang":
            signal(f"{key}-started").set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                signal(f"{key}-cancelled").set()
                raise
        if command == "gate":
            yield _chunk("first")
            yield _chunk(" part")
            for _ in range(500):
                if signal(f"{key}-open").is_set():
                    break
                await asyncio.sleep(0.01)
            else:
                signal(f"{key}-timeout").set()
            signal(f"{key}-done").set()
            yield _chunk(" second")
            return
        reply = self._reply(messages, text)
        if reply.tool_calls:
            calls = [
                tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                for i, c in enumerate(reply.tool_calls)
            ]
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=reply.text, tool_call_chunks=calls)
            )
            return
        for token in re.split(r"(\s)", reply.text):
            if token:
                await asyncio.sleep(0)
                yield _chunk(token)

    def _reply(self, messages: list[BaseMessage], text: str) -> AIMessage:
        if self.script:
            self._calls += 1
            return self.script[(self._calls - 1) % len(self.script)]
        heard = sum(1 for m in messages if m.type == "human")
        return AIMessage(f"heard {heard}: {text}")


def _chunk(text: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessageChunk(content=text))


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    celsius: int


WEATHER = {"city": "Paris", "celsius": 21}
WEATHER_CALL = AIMessage("", tool_calls=[{"name": "Weather", "args": WEATHER, "id": "call-w"}])


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"21 degrees in {city}"


# --- the served agents: a chat model, an LCEL chain, a LangGraph graph ---


def chat_model() -> Runnable[Any, Any]:
    return ScriptedModel()


def chain() -> Runnable[Any, Any]:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    return prompt | ScriptedModel() | StrOutputParser()


def messages_graph(model: BaseChatModel, **compile_options: Any) -> Runnable[Any, Any]:
    pytest.importorskip("langgraph")
    from langgraph.graph import START, MessagesState, StateGraph

    async def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    return builder.compile(**compile_options)


def graph() -> Runnable[Any, Any]:
    pytest.importorskip("langgraph")
    from langgraph.checkpoint.memory import InMemorySaver

    return messages_graph(ScriptedModel(), checkpointer=InMemorySaver())


def v1_agent(model: BaseChatModel, **options: Any) -> Runnable[Any, Any]:
    """LangChain v1's `create_agent` with the weather tool and a checkpointer."""
    pytest.importorskip("langchain.agents")
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver

    return create_agent(model, tools=[get_weather], checkpointer=InMemorySaver(), **options)


GET_WEATHER_CALL = AIMessage(
    "", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call-1"}]
)
WEATHER_WORDS = "It is 21 degrees in Paris."


def weather_agent(builder: str = "create_react_agent", **options: Any) -> Runnable[Any, Any]:
    """A ReAct agent (`create_react_agent` or `create_agent`) that calls its tool, then answers."""
    pytest.importorskip("langgraph")
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.prebuilt import create_react_agent

    # `response_format`: create_agent's model calls the output tool with its answer;
    # create_react_agent's makes one more call for it.
    structured = bool(options.get("response_format"))
    if builder == "create_agent":
        answer = AIMessage(WEATHER_WORDS, tool_calls=WEATHER_CALL.tool_calls if structured else [])
        return v1_agent(ScriptedModel(script=[GET_WEATHER_CALL, answer]), **options)
    script = [GET_WEATHER_CALL, AIMessage(WEATHER_WORDS)]
    if structured:
        script.append(WEATHER_CALL)
    model = ScriptedModel(script=script)
    return create_react_agent(model, [get_weather], checkpointer=InMemorySaver(), **options)


AGENTS: dict[str, Callable[[], Runnable[Any, Any]]] = {
    "chat_model": chat_model,
    "chain": chain,
    "graph": graph,
    # A `create_agent` agent whose model answers without calling its tool.
    "create_agent": lambda: v1_agent(ScriptedModel()),
}

# The same kinds, shaped for structured output.
STRUCTURED: dict[str, Callable[[], Runnable[Any, Any]]] = {
    "chat_model": lambda: ScriptedModel(script=[WEATHER_CALL]).with_structured_output(Weather),
    "chain": lambda: (
        ChatPromptTemplate.from_messages([("human", "{question}")])
        | ScriptedModel(script=[AIMessage(json.dumps(WEATHER))])
        | JsonOutputParser()
    ),
    "graph": lambda: weather_agent(response_format=Weather),
    "create_agent": lambda: weather_agent("create_agent", response_format=Weather),
}


# --- three clients behind one small interface ---


@dataclass
class Answer:
    state: str
    text: str
    data: Any = None


class Caller(Protocol):
    async def ask(self, text: str, thread: str | None = None) -> Answer: ...

    def deltas(self, text: str) -> AsyncIterator[str]: ...

    async def cancel_while(self, text: str, started: threading.Event) -> str: ...


def _state(state: int) -> str:
    name: str = TaskState.Name(state)
    return name.removeprefix("TASK_STATE_").lower()


def _sdk_parts(parts: Any) -> tuple[str, Any]:
    text = "".join(p.text for p in parts if p.WhichOneof("content") == "text")
    data = [json_format.MessageToDict(p.data) for p in parts if p.WhichOneof("content") == "data"]
    return text, (data[0] if data else None)


class SdkCaller:
    """The a2a-sdk's own client, with no bridges code in the way."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.contexts: dict[str, str] = {}

    async def _events(
        self, text: str, thread: str | None = None, *, streaming: bool
    ) -> AsyncIterator[Any]:
        client = await create_client(self.url, client_config=ClientConfig(streaming=streaming))
        message = Message(
            role=Role.ROLE_USER,
            message_id=uuid.uuid4().hex,
            parts=[A2APart(text=text)],
            context_id=self.contexts.get(thread or "", ""),
        )
        try:
            async for event in client.send_message(SendMessageRequest(message=message)):
                yield event
        finally:
            await client.close()

    async def ask(self, text: str, thread: str | None = None) -> Answer:
        events = [e async for e in self._events(text, thread, streaming=False)]
        task = events[-1].task
        if thread is not None:
            self.contexts[thread] = task.context_id
        parts = [p for a in task.artifacts for p in a.parts] or list(task.status.message.parts)
        if task.status.state == TaskState.TASK_STATE_FAILED:
            parts = list(task.status.message.parts)
        return Answer(_state(task.status.state), *_sdk_parts(parts))

    async def deltas(self, text: str) -> AsyncIterator[str]:
        streamed = ""
        async for event in self._events(text, streaming=True):
            if event.HasField("artifact_update"):
                chunk = _sdk_parts(event.artifact_update.artifact.parts)[0]
                if streamed and not event.artifact_update.append:
                    # The whole answer again, replacing the chunks: only its news is new.
                    chunk = chunk.removeprefix(streamed) if chunk.startswith(streamed) else ""
                streamed += chunk
                if chunk:
                    yield chunk

    async def cancel_while(self, text: str, started: threading.Event) -> str:
        task_ids: list[str] = []

        async def consume() -> None:
            async for event in self._events(text, streaming=True):
                if event.HasField("task"):
                    task_ids.append(event.task.id)

        consumer = asyncio.create_task(consume())
        assert await wait(started)
        client = await create_client(self.url)
        try:
            task = await client.cancel_task(CancelTaskRequest(id=task_ids[0]))
        finally:
            await client.close()
        await asyncio.wait_for(consumer, 10)
        return _state(task.status.state)


class RemoteAgentCaller:
    """bridges' neutral client: one `RemoteConversation` (one contextId) per thread."""

    def __init__(self, url: str) -> None:
        self.remote = RemoteAgent(url)
        self.threads: dict[str, RemoteConversation] = {}

    async def ask(self, text: str, thread: str | None = None) -> Answer:
        target: RemoteAgent | RemoteConversation = self.remote
        if thread is not None:
            target = self.threads.setdefault(thread, self.remote.conversation())
        try:
            reply = await target.send(text)
        except RemoteAgentError as exc:
            return Answer(exc.state or "error", exc.message)
        # The server also renders data as JSON text, for text-only callers.
        return Answer(reply.state or "", parts_text(without_renderings(reply.parts)), reply.data)

    async def deltas(self, text: str) -> AsyncIterator[str]:
        async for event in self.remote.stream(text):
            if isinstance(event, a2a_bridges.TextDelta):
                yield event.text

    async def cancel_while(self, text: str, started: threading.Event) -> str:
        conversation = self.remote.conversation()
        sending = asyncio.create_task(conversation.send(text))
        assert await wait(started)
        while conversation.task_id is None:  # the Task event arrives before the model runs
            await asyncio.sleep(0.01)
        state = await conversation.cancel()
        with pytest.raises(RemoteAgentError) as failure:
            await sending
        assert failure.value.state == "canceled"
        return state

    async def aclose(self) -> None:
        await self.remote.aclose()


class RunnableCaller:
    """`A2ARunnable`: threads are LangChain's `configurable.thread_id`."""

    def __init__(self, url: str) -> None:
        self.runnable = A2ARunnable(url)

    async def ask(self, text: str, thread: str | None = None) -> Answer:
        config: RunnableConfig | None = {"configurable": {"thread_id": thread}} if thread else None
        try:
            message = await self.runnable.ainvoke(text, config)
        except RemoteAgentError as exc:
            return Answer(exc.state or "error", exc.message)
        assert isinstance(message, AIMessage)
        blocks = [
            b for b in message.content if isinstance(b, dict) and b.get("type") == "non_standard"
        ]
        data = blocks[0]["value"]["data"] if blocks else None
        return Answer(message.response_metadata["a2a"]["state"], message.text, data)

    async def deltas(self, text: str) -> AsyncIterator[str]:
        async for chunk in self.runnable.astream(text):
            assert isinstance(chunk, AIMessageChunk)
            if chunk.text:
                yield chunk.text

    async def cancel_while(self, text: str, started: threading.Event) -> str:
        invoking = asyncio.create_task(self.runnable.ainvoke(text))
        assert await wait(started)
        invoking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await invoking
        return "canceled"

    async def aclose(self) -> None:
        await self.runnable.aclose()


CALLERS: dict[str, Callable[[str], Caller]] = {
    "a2a-sdk": SdkCaller,
    "RemoteAgent": RemoteAgentCaller,
    "A2ARunnable": RunnableCaller,
}


@pytest.fixture(params=sorted(AGENTS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=sorted(CALLERS))
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def call(kind: str, client: str) -> AsyncIterator[Caller]:
    """The `kind` of agent, served, and a `client` of it."""
    with running(to_a2a(AGENTS[kind]())) as url:
        caller = CALLERS[client](url)
        yield caller
        if isinstance(caller, RunnableCaller | RemoteAgentCaller):
            await caller.aclose()


# --- every served kind, answered by every client ---


@pytest.mark.anyio
async def test_single_turn(call: Caller) -> None:
    answer = await call.ask("hello there")
    assert answer == Answer("completed", "heard 1: hello there")


@pytest.mark.anyio
async def test_multi_turn_in_a_thread(call: Caller) -> None:
    assert (await call.ask("one", thread="a")).text == "heard 1: one"
    assert (await call.ask("two", thread="a")).text == "heard 2: two"
    # Another thread is another conversation.
    assert (await call.ask("three", thread="b")).text == "heard 1: three"
    assert (await call.ask("four", thread="a")).text == "heard 3: four"


@pytest.mark.anyio
async def test_deltas_arrive_before_the_model_finishes(call: Caller) -> None:
    key = uuid.uuid4().hex
    deltas: list[str] = []
    async for delta in call.deltas(f"gate {key}"):
        if not deltas:
            assert not signal(f"{key}-done").is_set()
            signal(f"{key}-open").set()
        deltas.append(delta)
    assert len(deltas) >= 2
    assert "".join(deltas) == "first part second"
    assert not signal(f"{key}-timeout").is_set()


@pytest.mark.anyio
async def test_an_error_fails_the_task_readably(call: Caller) -> None:
    answer = await call.ask("fail")
    assert answer.state == "failed"
    assert "the model broke" in answer.text
    assert "Traceback" not in answer.text


@pytest.mark.anyio
async def test_cancel_cancels_the_run(call: Caller) -> None:
    key = uuid.uuid4().hex
    state = await call.cancel_while(f"hang {key}", signal(f"{key}-started"))
    assert state == "canceled"
    assert await wait(signal(f"{key}-cancelled"))


@pytest.mark.anyio
async def test_structured_output_is_a_data_part(kind: str, client: str) -> None:
    with running(to_a2a(STRUCTURED[kind]())) as url:
        caller = CALLERS[client](url)
        answer = await caller.ask("weather in Paris?")
        if isinstance(caller, RunnableCaller | RemoteAgentCaller):
            await caller.aclose()
    assert answer.state == "completed"
    assert answer.data == WEATHER
    # The agents also say it in words; the chain and the model only return the data.
    words = WEATHER_WORDS if kind in ("graph", "create_agent") else ""
    # A text-only caller also gets the data as JSON text; the others keep the value once.
    rendered = json.dumps(WEATHER) if client == "a2a-sdk" else ""
    assert answer.text == words + rendered


# --- the server direction, further ---


@pytest.mark.anyio
@pytest.mark.parametrize("builder", ["create_react_agent", "create_agent"])
async def test_agent_tools_are_card_skills_and_run(builder: str) -> None:
    # The tool that returns the structured output is the agent's own, not a skill.
    agent = weather_agent(builder, response_format=Weather)
    with running(to_a2a(agent, name="weather")) as url:
        async with RemoteAgent(url) as remote:
            card = await remote.card()
            reply = await remote.send("weather in Paris?")
    assert card.name == "weather"
    assert [(s.name, s.description) for s in card.skills] == [
        ("get_weather", "Get the current weather in a city.")
    ]
    said = parts_text(without_renderings(reply.parts))
    assert (reply.state, said, reply.data) == ("completed", WEATHER_WORDS, WEATHER)
    # The tool really ran, in the graph's thread for the task's context.
    thread: RunnableConfig = {"configurable": {"thread_id": reply.context_id}}
    state = await agent.aget_state(thread)  # type: ignore[attr-defined]
    results = [(m.name, m.content) for m in state.values["messages"] if m.type == "tool"]
    assert ("get_weather", "21 degrees in Paris") in results


def test_input_shape_is_found_and_overridable() -> None:
    def shout(text: str) -> str:
        return text.upper()

    with running(to_a2a(RunnableLambda(shout))) as url:
        assert RemoteAgent(url).send_sync("psst").text == "PSST"

    two_texts = ChatPromptTemplate.from_messages([("human", "{question} in {language}")])
    with pytest.raises(ValueError, match="input_key"):
        to_a2a(two_texts | ScriptedModel())
    pinned = {
        "question": RunnableLambda(lambda d: d["q"]),
        "n": RunnableLambda(lambda d: 1),
    } | RunnableLambda(lambda d: {"answer": d["question"], "n": d["n"]})
    with running(to_a2a(pinned, input_key="q", output_key="answer")) as url:
        assert RemoteAgent(url).send_sync("hi").text == "hi"
    runner = LangChainRunner(chain())
    assert (runner.input.key, runner.input.messages, runner.input.history_key) == (
        "question",
        False,
        "history",
    )


@pytest.mark.anyio
async def test_graph_without_checkpointer_gets_the_history() -> None:
    with running(to_a2a(messages_graph(ScriptedModel()))) as url:
        async with RemoteAgent(url) as remote:
            conversation = remote.conversation()
            assert (await conversation.send("one")).text == "heard 1: one"
            assert (await conversation.send("two")).text == "heard 2: two"


@pytest.mark.anyio
async def test_graph_interrupt_asks_the_caller() -> None:
    pytest.importorskip("langgraph")
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.types import interrupt

    def ask_city(state: MessagesState) -> dict[str, Any]:
        city = interrupt("Which city?")
        return {"messages": [AIMessage(f"Sunny in {city}.")]}

    builder = StateGraph(MessagesState)
    builder.add_node("ask_city", ask_city)
    builder.add_edge(START, "ask_city")
    with running(to_a2a(builder.compile(checkpointer=InMemorySaver()))) as url:
        async with RemoteAgent(url) as remote:
            conversation = remote.conversation()
            question = await conversation.send("what is the weather?")
            assert question.input_required and question.text == "Which city?"
            assert conversation.asking
            answer = await conversation.send("Paris")
    assert (answer.state, answer.text) == ("completed", "Sunny in Paris.")
    assert answer.task_id == question.task_id


@pytest.mark.anyio
async def test_served_a2a_runnable_is_a_proxy_that_keeps_the_conversation() -> None:
    with running(to_a2a(ScriptedModel())) as inner, running(to_a2a(STRUCTURED["chain"]())) as data:
        proxies = [A2ARunnable(inner), A2ARunnable(data)]
        with running(to_a2a(proxies[0])) as outer, running(to_a2a(proxies[1])) as data_outer:
            async with RemoteAgent(outer) as remote, RemoteAgent(data_outer) as data_remote:
                conversation = remote.conversation()
                assert (await conversation.send("one")).text == "heard 1: one"
                assert (await conversation.send("two")).text == "heard 2: two"
                assert (await data_remote.send("weather?")).data == WEATHER
        for proxy in proxies:
            await proxy.aclose()


# --- the client direction, further ---


@pytest.fixture
def served_url() -> Iterator[str]:
    with running(
        to_a2a(ScriptedModel(), name="echo expert", description="Repeats what it heard.")
    ) as url:
        yield url


def test_sync_calls_without_an_event_loop(served_url: str) -> None:
    remote = from_a2a(served_url)
    try:
        assert remote.invoke("hi").text == "heard 1: hi"
        chunks = list(remote.stream("one two three"))
        assert [c.text for c in chunks if c.text] == [
            "heard",
            " ",
            "1:",
            " ",
            "one",
            " ",
            "two",
            " ",
            "three",
        ]
        assert chunks[-1].response_metadata["a2a"]["state"] == "completed"
        assert [m.text for m in remote.batch(["a", "b"])] == ["heard 1: a", "heard 1: b"]
        thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
        remote.invoke("x", thread)
        assert remote.invoke("y", thread).text == "heard 2: y"
    finally:
        remote.close()


@pytest.mark.anyio
async def test_sync_calls_inside_a_running_loop(served_url: str) -> None:
    remote = A2ARunnable(served_url)
    assert remote.invoke("hi").text == "heard 1: hi"
    assert "".join(c.text for c in remote.stream("hey")) == "heard 1: hey"
    assert len(remote.batch(["a", "b", "c"])) == 3
    await remote.aclose()


@pytest.mark.anyio
async def test_inputs_and_outputs(served_url: str) -> None:
    remote = A2ARunnable(served_url)
    history = [("user", "old"), ("ai", "older answer"), ("user", "new")]
    # Without a thread every message is sent; in one, only what follows the last AI message.
    assert (await remote.ainvoke(history)).text == "heard 2: new"
    thread: RunnableConfig = {"configurable": {"thread_id": "inputs"}}
    assert (await remote.ainvoke(history, thread)).text == "heard 1: new"
    update = await remote.ainvoke({"messages": history})
    assert isinstance(update, dict) and update["messages"][0].text == "heard 2: new"
    threads: list[RunnableConfig] = [{"configurable": {"thread_id": t}} for t in ("x", "y")]
    replies = await remote.abatch(["a", "b"], threads)
    assert [m.text for m in replies] == ["heard 1: a", "heard 1: b"]
    replies = await remote.abatch(["c", "d"], threads)
    assert [m.text for m in replies] == ["heard 2: c", "heard 2: d"]
    chunks = [c async for c in remote.astream([("user", "new")])]
    assert sum(chunks[1:], chunks[0]).text == "heard 1: new"
    await remote.aclose()


@pytest.mark.anyio
async def test_remote_errors_raise(served_url: str) -> None:
    remote = A2ARunnable(served_url)
    with pytest.raises(RemoteAgentError, match="remote task failed: the model broke") as failure:
        await remote.ainvoke("fail")
    assert failure.value.state == "failed"
    with pytest.raises(RemoteAgentError):
        await A2ARunnable("http://127.0.0.1:9").ainvoke("anyone?")
    await remote.aclose()


def test_as_tool_takes_name_and_description_from_the_card(served_url: str) -> None:
    remote = A2ARunnable(served_url)
    default = remote.as_tool()
    assert (default.name, default.description) == (
        "echo_expert",
        "Repeats what it heard. (skills: chat)",
    )
    assert default.invoke({"message": "hi"}) == "heard 1: hi"
    named = remote.as_tool(name="echo", description="Echoes.")
    assert (named.name, named.description) == ("echo", "Echoes.")
    remote.close()


@pytest.mark.anyio
async def test_agent_calls_a_served_agent_through_a_tool(served_url: str) -> None:
    pytest.importorskip("langgraph")
    from langgraph.prebuilt import create_react_agent

    remote = A2ARunnable(served_url)
    expert = remote.as_tool()
    ask = AIMessage(
        "", tool_calls=[{"name": expert.name, "args": {"message": "weather?"}, "id": "c1"}]
    )
    agent = create_react_agent(
        ScriptedModel(script=[ask, AIMessage("The expert says hi.")]), [expert]
    )
    state = await agent.ainvoke({"messages": [("user", "ask the expert")]})
    tool_results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_results] == ["heard 1: weather?"]
    assert state["messages"][-1].text == "The expert says hi."
    await remote.aclose()


@pytest.mark.anyio
async def test_a2a_runnable_is_a_langgraph_node(served_url: str) -> None:
    pytest.importorskip("langgraph")
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph

    remote = A2ARunnable(served_url)
    builder = StateGraph(MessagesState)
    builder.add_node("remote", remote)  # type: ignore[type-var]  # it takes the state too
    builder.add_edge(START, "remote")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "node"}}
    await graph.ainvoke({"messages": [HumanMessage("one")]}, config)
    state = await graph.ainvoke({"messages": [HumanMessage("two")]}, config)
    # The graph's thread is the remote conversation: it heard both turns, each once.
    assert [m.text for m in state["messages"]] == ["one", "heard 1: one", "two", "heard 2: two"]
    await remote.aclose()


@pytest.mark.anyio
async def test_a2a_runnable_against_pydantic_ai_on_fasta2a() -> None:
    pytest.importorskip("pydantic_ai")
    pytest.importorskip("fasta2a")
    from fasta2a.pydantic_ai import agent_to_a2a
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, UserPromptPart
    from pydantic_ai.models.function import AgentInfo, DeltaToolCalls, FunctionModel

    def heard(messages: list[ModelMessage]) -> str:
        prompts = [
            p.content
            for m in messages
            for p in getattr(m, "parts", [])
            if isinstance(p, UserPromptPart)
        ]
        return f"heard {len(prompts)}: {prompts[-1]}"

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(heard(messages))])

    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        for word in re.split(r"(\s)", heard(messages)):
            yield word

    agent = Agent(FunctionModel(answer, stream_function=stream), name="pydantic")
    with running(agent_to_a2a(agent)) as url:
        remote = A2ARunnable(url)
        thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
        first = await remote.ainvoke("hello", thread)
        second = await remote.ainvoke("again", thread)
        chunks = [c async for c in remote.astream("streamed")]
        # A server that knows nothing of the shape still reads every message's text.
        chat = [("user", "hello"), ("ai", "hi"), ("user", "second")]
        whole = await remote.ainvoke(chat)
        await remote.aclose()
    assert first.text == "heard 1: hello"
    assert second.text == "heard 2: again"
    assert whole.text == "heard 3: second"  # a user prompt for each of the three messages
    # fasta2a resends the whole answer at the end: it must not be added twice.
    assert "".join(c.text for c in chunks) == "heard 1: streamed"


def test_entry_points_dispatch_to_this_adapter() -> None:
    model = GenericFakeChatModel(messages=iter(["Bonjour le monde"]))
    app = a2a_bridges.to_a2a(model)
    assert isinstance(app.state.runner, LangChainRunner)
    with running(app) as url:
        remote = a2a_bridges.from_a2a(url, framework="langchain")
        assert isinstance(remote, A2ARunnable)
        assert remote.invoke("hi").text == "Bonjour le monde"
        remote.close()


SHUTDOWN_SCRIPT = """
import asyncio
from a2a_bridges.adapters.langchain import A2ARunnable, to_a2a
from a2a_bridges.testing import running
from tests.adapters.test_langchain import ScriptedModel

with running(to_a2a(ScriptedModel(), name="echo")) as url:
    remote = A2ARunnable(url)
    tool = remote.as_tool()

    async def main():
        assert (await remote.ainvoke("a")).text == "heard 1: a"
        assert "".join([c.text async for c in remote.astream("b")]) == "heard 1: b"
        assert await tool.ainvoke({"message": "c"}) == "heard 1: c"

    asyncio.run(main())
    asyncio.run(main())  # a second event loop, after the first one closed
    assert remote.invoke("d").text == "heard 1: d"
    print("ok")
"""


def test_nothing_leaks_or_complains_at_shutdown() -> None:
    # A fresh interpreter, so its exit (with the connections still open) is what is checked.
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",
            "-W",
            "always::ResourceWarning",
            "-c",
            textwrap.dedent(SHUTDOWN_SCRIPT),
        ],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "ok", done.stderr
    assert "Event loop is closed" not in done.stderr
    assert "nclosed" not in done.stderr, done.stderr
