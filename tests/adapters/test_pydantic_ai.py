"""The Pydantic AI adapter against real servers on loopback: a2a-sdk, RemoteAgent and Pydantic AI
callers, fasta2a as a peer. Models are Pydantic AI's FunctionModel, so everything is offline."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import pytest

pytest.importorskip("pydantic_ai")

from a2a.client import ClientConfig, create_client
from a2a.types import (
    CancelTaskRequest,
    Message,
    Role,
    SendMessageRequest,
    StreamResponse,
    TaskState,
)
from a2a.types import Part as A2APart
from google.protobuf import json_format, struct_pb2
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai import messages as ai
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

import a2a_bridges
from a2a_bridges import (
    Conversation,
    DataPart,
    FilePart,
    InputRequired,
    RemoteAgent,
    RemoteAgentError,
    TextDelta,
    TextPart,
)
from a2a_bridges.adapters.functions import to_a2a as functions_to_a2a
from a2a_bridges.adapters.pydantic_ai import A2AModel, A2AToolset, from_a2a, to_a2a
from a2a_bridges.errors import AgentError
from a2a_bridges.testing import running

pytestmark = pytest.mark.anyio

WAIT = 10.0  # seconds a scripted model waits for the test before giving up


# --- the served agents: scripted FunctionModels ---


@dataclass
class Control:
    """Signals between a test and the model running in the server's thread."""

    go: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    tasks: list[str] = field(default_factory=list)  # the A2A tasks the echo agent ran


control = Control()


def note_task(conversation: Conversation) -> None:
    """The echo agent's deps factory: it notes the task, so a test can look it up."""
    control.tasks.append(conversation.task_id)


def _prompts(messages: list[ai.ModelMessage]) -> list[list[Any]]:
    out = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, ai.UserPromptPart):
                out.append([part.content] if isinstance(part.content, str) else list(part.content))
    return out


def _describe(item: Any) -> str:
    if isinstance(item, str):
        return f"text:{item}"
    if isinstance(item, ai.StructuredContent):
        return f"data:{json.dumps(item.value, sort_keys=True)}"
    if isinstance(item, ai.BinaryContent):
        return f"binary:{item.media_type}:{item.data!r}"
    if isinstance(item, ai.FileUrl):
        return f"{type(item).__name__}:{item.url}:{item.media_type}"
    return f"other:{type(item).__name__}"


async def script(messages: list[ai.ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
    """Answers by the first word of the latest prompt: fail, slow, describe, or echo."""
    prompts = _prompts(messages)
    words = str(prompts[-1][0]) if prompts and prompts[-1] else ""
    if words.startswith("fail"):
        raise AgentError("the model broke down")
    if words.startswith("slow"):
        yield "one "
        yield "two "
        try:
            deadline = time.monotonic() + WAIT
            while not control.go.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            control.cancelled.set()
            raise
        yield "three" if control.go.is_set() else "gave up waiting"
        return
    if words.startswith("lookup"):
        returns = [p for p in messages[-1].parts if isinstance(p, ai.ToolReturnPart)]
        if not returns:
            yield {0: DeltaToolCall(name="lookup", json_args=json.dumps({"term": words[7:]}))}
        else:
            yield f"found {returns[0].content}"
        return
    if words.startswith("describe"):
        yield " | ".join(_describe(item) for item in prompts[-1][1:])
        return
    replies = sum(isinstance(m, ai.ModelResponse) for m in messages)
    texts = [str(p[0]) for p in prompts]
    yield "echo: "
    yield f"{' > '.join(texts)} ({replies} replies before)"


class Person(BaseModel):
    name: str
    age: int


async def person(messages: list[ai.ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
    yield {0: DeltaToolCall(name=info.output_tools[0].name, json_args='{"name": "Ada", ')}
    yield {0: DeltaToolCall(json_args='"age": 36}')}


def echo_agent() -> Agent[None, str]:
    model = FunctionModel(stream_function=script)
    agent = Agent(model, name="echo", description="Echoes the chat.")

    @agent.tool_plain
    def lookup(term: str) -> str:
        """Look a term up."""
        return term.upper()

    return agent


@pytest.fixture(autouse=True)
def fresh_control() -> Iterator[Control]:
    control.go.clear()
    control.cancelled.clear()
    control.tasks.clear()
    yield control
    control.go.set()  # release a scripted model a failed test left waiting


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with running(to_a2a(echo_agent(), deps_factory=note_task)) as url:
        yield url


@pytest.fixture(scope="module")
def person_url() -> Iterator[str]:
    agent = Agent(FunctionModel(stream_function=person), output_type=Person, name="people")
    with running(to_a2a(agent)) as url:
        yield url


async def wait_for(event: threading.Event, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not event.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return event.is_set()


# --- callers: the a2a-sdk client, RemoteAgent, and Pydantic AI through from_a2a ---


@dataclass
class Answer:
    text: str
    data: Any = None


def _a2a_part(part: TextPart | DataPart | FilePart) -> A2APart:
    if isinstance(part, TextPart):
        return A2APart(text=part.text)
    if isinstance(part, DataPart):
        value = json_format.ParseDict(part.data, struct_pb2.Value())
        return A2APart(data=value, media_type="application/json")
    assert part.bytes is not None
    return A2APart(raw=part.bytes, media_type=part.media_type or "", filename=part.name or "")


@dataclass
class SdkRun:
    """What one a2a-sdk call saw: its events, folded."""

    events: list[StreamResponse] = field(default_factory=list)
    artifacts: dict[str, list[A2APart]] = field(default_factory=dict)
    task_id: str = ""
    context_id: str = ""
    state: int = 0
    status_text: str = ""

    def take(self, event: StreamResponse) -> None:
        self.events.append(event)
        kind = event.WhichOneof("payload")
        if kind == "task":
            self.task_id, self.context_id = event.task.id, event.task.context_id
            self.state = event.task.status.state
            for artifact in event.task.artifacts:
                self.artifacts[artifact.artifact_id] = list(artifact.parts)
        elif kind == "artifact_update":
            update = event.artifact_update
            parts = self.artifacts.setdefault(update.artifact.artifact_id, [])
            if not update.append:
                parts.clear()
            parts.extend(update.artifact.parts)
        elif kind == "status_update":
            self.state = event.status_update.status.state
            message = event.status_update.status.message
            self.status_text = "".join(p.text for p in message.parts)

    @property
    def answer(self) -> Answer:
        parts = [p for ps in self.artifacts.values() for p in ps]
        data = next((json_format.MessageToDict(p.data) for p in parts if p.HasField("data")), None)
        return Answer("".join(p.text for p in parts), data)


class SdkCaller:
    """The a2a-sdk 1.x client, straight."""

    def __init__(self, url: str, streaming: bool = True) -> None:
        self.url = url
        self.streaming = streaming
        self.context_id = ""

    async def run(self, parts: list[Any], on_event: Any = None) -> SdkRun:
        http = httpx.AsyncClient(timeout=30)
        config = ClientConfig(streaming=self.streaming, httpx_client=http)
        client = await create_client(self.url, config)
        message = Message(
            message_id=uuid.uuid4().hex,
            role=Role.ROLE_USER,
            parts=[_a2a_part(p) for p in parts],
            context_id=self.context_id,
        )
        run = SdkRun()
        try:
            async for event in client.send_message(SendMessageRequest(message=message)):
                run.take(event)
                if on_event is not None:
                    await on_event(client, run)
        finally:
            await client.close()
            await http.aclose()
        self.context_id = run.context_id
        return run

    async def ask(self, *parts: Any) -> Answer:
        run = await self.run([TextPart(p) if isinstance(p, str) else p for p in parts])
        if run.state != TaskState.TASK_STATE_COMPLETED:
            raise RuntimeError(run.status_text)
        return run.answer


class RemoteCaller:
    """One conversation of a2a_bridges.RemoteAgent."""

    def __init__(self, url: str, streaming: bool | None = None) -> None:
        self.conversation = RemoteAgent(url, streaming=streaming).conversation()

    async def ask(self, *parts: Any) -> Answer:
        message = [TextPart(p) if isinstance(p, str) else p for p in parts]
        reply = await self.conversation.send(message)
        return Answer(reply.text, reply.data)


class PydanticAICaller:
    """A Pydantic AI agent on the remote, keeping its own message history."""

    def __init__(self, url: str, output_type: Any = str) -> None:
        self.agent = from_a2a(url, output_type=output_type)
        self.history: list[ai.ModelMessage] = []

    async def ask(self, *parts: Any) -> Answer:
        content = [p if isinstance(p, str) else _user_content(p) for p in parts]
        prompt = content[0] if len(content) == 1 else content
        result = await self.agent.run(prompt, message_history=self.history)
        self.history = result.all_messages()
        output = result.output
        if isinstance(output, BaseModel):
            return Answer(output.model_dump_json(), output)
        return Answer(output)


def _user_content(part: DataPart | FilePart) -> Any:
    if isinstance(part, DataPart):
        return ai.StructuredContent(part.data)
    assert part.bytes is not None
    return ai.BinaryContent(part.bytes, media_type=part.media_type or "application/octet-stream")


class Caller(Protocol):
    async def ask(self, *parts: Any) -> Answer: ...


CALLERS: dict[str, Callable[[str], Caller]] = {
    "a2a-sdk": SdkCaller,
    "RemoteAgent": RemoteCaller,
    "pydantic_ai": PydanticAICaller,
}


@pytest.fixture(params=list(CALLERS))
def caller_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- server direction, every caller ---


async def test_single_turn(echo_url: str, caller_kind: str) -> None:
    answer = await CALLERS[caller_kind](echo_url).ask("hello")
    assert answer.text == "echo: hello (0 replies before)"


async def test_multi_turn_memory(echo_url: str, caller_kind: str) -> None:
    caller = CALLERS[caller_kind](echo_url)
    await caller.ask("my name is Ada")
    answer = await caller.ask("what is my name?")
    # The agent saw the first turn and its own reply, as history, with one new turn.
    assert answer.text == "echo: my name is Ada > what is my name? (1 replies before)"
    other = await CALLERS[caller_kind](echo_url).ask("who am I?")
    assert other.text == "echo: who am I? (0 replies before)"


async def test_structured_output(person_url: str, caller_kind: str) -> None:
    if caller_kind == "pydantic_ai":
        answer = await PydanticAICaller(person_url, output_type=Person).ask("who?")
        assert answer.data == Person(name="Ada", age=36)
        return
    answer = await CALLERS[caller_kind](person_url).ask("who?")
    assert answer.data == {"name": "Ada", "age": 36}
    assert json.loads(answer.text) == {"name": "Ada", "age": 36}  # the text rendering


async def test_served_agent_calls_its_tools(echo_url: str) -> None:
    events = [e async for e in RemoteAgent(echo_url).stream("lookup otter")]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["found OTTER"]


async def test_file_part(echo_url: str, caller_kind: str) -> None:
    png = FilePart(bytes=b"\x89PNG", media_type="image/png", name="dot.png")
    answer = await CALLERS[caller_kind](echo_url).ask("describe", png)
    assert answer.text == "binary:image/png:b'\\x89PNG'"


async def test_data_and_url_parts_arrive_as_native_inputs(echo_url: str) -> None:
    reply = await RemoteAgent(echo_url).send(
        [
            TextPart("describe"),
            DataPart({"city": "Paris"}),
            FilePart(uri="http://127.0.0.1:9/cat.png"),
            FilePart(uri="http://127.0.0.1:9/paper", media_type="application/pdf"),
        ]
    )
    assert reply.text.split(" | ") == [
        'data:{"city": "Paris"}',
        "ImageUrl:http://127.0.0.1:9/cat.png:image/png",
        "DocumentUrl:http://127.0.0.1:9/paper:application/pdf",
    ]


async def test_error_fails_the_task_readably(echo_url: str) -> None:
    run = await SdkCaller(echo_url).run([TextPart("fail now")])
    assert run.state == TaskState.TASK_STATE_FAILED
    assert "the model broke down" in run.status_text
    assert "Traceback" not in run.status_text

    with pytest.raises(RemoteAgentError) as caught:
        await RemoteAgent(echo_url).send("fail now")
    assert caught.value.state == "failed"
    assert "remote task failed: the model broke down" in caught.value.message

    with pytest.raises(ModelAPIError, match="the model broke down"):
        await from_a2a(echo_url).run("fail now")


# streaming order: the model yields "one ", "two ", then waits until the test has seen a delta.


async def test_streaming_order_a2a_sdk(echo_url: str) -> None:
    seen: list[str] = []

    async def on_event(client: Any, run: SdkRun) -> None:
        if run.events[-1].WhichOneof("payload") == "artifact_update":
            seen.append(run.answer.text)
            control.go.set()

    run = await SdkCaller(echo_url).run([TextPart("slow")], on_event)
    assert seen[0] == "one "  # arrived while the model was still waiting
    assert run.answer.text == "one two three"


async def test_streaming_order_remote_agent(echo_url: str) -> None:
    deltas: list[str] = []
    async for event in RemoteAgent(echo_url).stream("slow"):
        if isinstance(event, TextDelta):
            assert control.go.is_set() == bool(deltas)
            deltas.append(event.text)
            control.go.set()
    assert deltas == ["one ", "two ", "three"]


async def test_streaming_order_pydantic_ai(echo_url: str) -> None:
    deltas: list[str] = []
    async with from_a2a(echo_url).run_stream("slow") as result:
        async for text in result.stream_text(delta=True, debounce_by=None):
            assert control.go.is_set() == bool(deltas)
            deltas.append(text)
            control.go.set()
        output = await result.get_output()
    assert deltas == ["one ", "two ", "three"]
    assert output == "one two three"


# cancel: the model's coroutine sees CancelledError, the task ends CANCELED


async def test_cancel_a2a_sdk(echo_url: str) -> None:
    states: list[int] = []

    async def on_event(client: Any, run: SdkRun) -> None:
        if run.events[-1].WhichOneof("payload") == "artifact_update" and not states:
            task = await client.cancel_task(CancelTaskRequest(id=run.task_id))
            states.append(task.status.state)

    run = await SdkCaller(echo_url).run([TextPart("slow")], on_event)
    assert states == [TaskState.TASK_STATE_CANCELED]
    assert await wait_for(control.cancelled)
    assert run.answer.text == "one two "  # never "three"
    # The stream ends without a CANCELED event (core executor); the stored task has it.
    task = await RemoteAgent(echo_url).get_task(run.task_id)
    assert task.status.state == TaskState.TASK_STATE_CANCELED


async def test_cancel_remote_agent(echo_url: str) -> None:
    conversation = RemoteAgent(echo_url).conversation()
    states: list[str] = []
    with pytest.raises(RemoteAgentError) as caught:
        async for event in conversation.stream("slow"):
            if isinstance(event, TextDelta) and not states:
                states.append(await conversation.cancel())
    assert states == ["canceled"]
    assert caught.value.state == "canceled"
    assert await wait_for(control.cancelled)


async def test_cancel_pydantic_ai_cancels_the_remote_task(echo_url: str) -> None:
    agent = from_a2a(echo_url)
    first = asyncio.Event()

    async def consume() -> None:
        async with agent.run_stream("slow") as result:
            async for _ in result.stream_text(delta=True, debounce_by=None):
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_for(control.cancelled)
    [task_id] = control.tasks
    remote = RemoteAgent(echo_url)
    deadline = time.monotonic() + 5
    while (await remote.get_task(task_id)).status.state != TaskState.TASK_STATE_CANCELED:
        assert time.monotonic() < deadline, "the remote task was not cancelled"
        await asyncio.sleep(0.01)


# --- server direction: the card, deps, non-streaming models ---


async def test_card_names_the_agent_and_lists_its_tools(echo_url: str) -> None:
    card = await RemoteAgent(echo_url).card()
    assert card.name == "echo"
    assert card.description == "Echoes the chat."
    assert [(s.name, s.description) for s in card.skills] == [("lookup", "Look a term up.")]
    assert card.capabilities.streaming


def deps_agent() -> Agent[str, str]:
    async def instructions(messages: list[Any], info: AgentInfo) -> AsyncIterator[str]:
        yield info.instructions or ""

    agent = Agent(FunctionModel(stream_function=instructions), deps_type=str)

    @agent.instructions
    def who(ctx: RunContext[str]) -> str:
        return f"deps={ctx.deps}"

    return agent


async def test_deps() -> None:
    with running(to_a2a(deps_agent(), deps="static")) as url:
        assert (await RemoteAgent(url).send("hi")).text == "deps=static"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_deps_factory_per_request(is_async: bool) -> None:
    def factory(conversation: Any) -> str:
        return f"{conversation.context_id}:{conversation.text}"

    async def async_factory(conversation: Any) -> str:
        return factory(conversation)

    app = to_a2a(deps_agent(), deps_factory=async_factory if is_async else factory)
    with running(app) as url:
        reply = await RemoteAgent(url).send("hi")
        assert reply.text == f"deps={reply.context_id}:hi"


# models that cannot stream, and callers that do not (issue 11)


def count_prompts(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
    return ai.ModelResponse([ai.TextPart(f"{len(_prompts(messages))} prompts")])


async def in_pieces(messages: list[ai.ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    yield "streamed "
    yield "answer"


@pytest.fixture(scope="module")
def plain_url() -> Iterator[str]:
    """An agent on a model that cannot stream (a FunctionModel with no stream_function)."""
    with running(to_a2a(Agent(FunctionModel(count_prompts), name="plain"))) as url:
        yield url


@pytest.fixture(scope="module")
def both_url() -> Iterator[str]:
    """An agent on a model that answers one way streamed, another way not."""
    model = FunctionModel(count_prompts, stream_function=in_pieces)
    with running(to_a2a(Agent(model, name="both"))) as url:
        yield url


def streaming_callers(url: str, streaming: bool) -> list[Caller]:
    return [SdkCaller(url, streaming=streaming), RemoteCaller(url, streaming=streaming)]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_model_that_cannot_stream_answers_every_caller(
    plain_url: str, streaming: bool
) -> None:
    assert (await RemoteAgent(plain_url).card()).capabilities.streaming
    for caller in streaming_callers(plain_url, streaming):
        assert (await caller.ask("a")).text == "1 prompts"
        assert (await caller.ask("b")).text == "2 prompts"  # the conversation goes on


async def test_caller_that_does_not_stream_gets_the_model_unstreamed(both_url: str) -> None:
    for caller in streaming_callers(both_url, streaming=False):
        assert (await caller.ask("a")).text == "1 prompts"
    events = [e async for e in RemoteAgent(both_url, streaming=True).stream("a")]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["streamed ", "answer"]


async def test_model_that_cannot_stream_served_with_streaming_off() -> None:
    with running(to_a2a(Agent(FunctionModel(count_prompts)), streaming=False)) as url:
        conversation = RemoteAgent(url).conversation()
        assert (await conversation.send("a")).text == "1 prompts"
        assert (await conversation.send("b")).text == "2 prompts"
        assert not (await conversation.remote.card()).capabilities.streaming


async def test_bridges_entry_points_dispatch_here(echo_url: str) -> None:
    agent = a2a_bridges.from_a2a(echo_url, framework="pydantic_ai")
    assert isinstance(agent, Agent) and isinstance(agent.model, A2AModel)
    with running(a2a_bridges.to_a2a(echo_agent())) as url:
        assert (await RemoteAgent(url).card()).name == "echo"


# --- client direction: A2AModel details ---


async def test_a2a_model_carries_the_context_and_sends_only_the_new_turn(echo_url: str) -> None:
    agent = from_a2a(echo_url)
    first = await agent.run("hi")
    response = first.all_messages()[-1]
    assert isinstance(response, ai.ModelResponse)
    assert response.provider_name == "a2a"
    details = response.provider_details or {}
    assert details["state"] == "completed"

    second = await agent.run("again", message_history=first.all_messages())
    assert second.output == "echo: hi > again (1 replies before)"
    again = second.all_messages()[-1]
    assert isinstance(again, ai.ModelResponse)
    assert (again.provider_details or {})["context_id"] == details["context_id"]

    # Without the history, a new remote conversation starts.
    assert (await agent.run("alone")).output == "echo: alone (0 replies before)"


async def test_a2a_model_iter(echo_url: str) -> None:
    async with from_a2a(echo_url).iter("hi") as run:
        nodes = [type(node).__name__ async for node in run]
    assert "ModelRequestNode" in nodes
    assert run.result is not None and run.result.output == "echo: hi (0 replies before)"


async def test_a2a_model_answers_a_remote_question_in_the_same_task() -> None:
    async def ask_name(conversation: Any) -> AsyncIterator[Any]:
        answer: Any = yield InputRequired((TextPart("What is your name?"),))
        yield f"Hello, {answer.text}"

    with running(functions_to_a2a(ask_name)) as url:
        agent = from_a2a(url)
        first = await agent.run("hi")
        assert first.output == "What is your name?"
        question = first.all_messages()[-1]
        assert isinstance(question, ai.ModelResponse)
        assert (question.provider_details or {})["state"] == "input-required"
        second = await agent.run("Ada", message_history=first.all_messages())
        assert second.output == "Hello, Ada"
        answer = second.all_messages()[-1]
        assert isinstance(answer, ai.ModelResponse) and answer.provider_details is not None
        assert answer.provider_details["task_id"] == (question.provider_details or {})["task_id"]


async def test_client_options_reach_the_remote() -> None:
    def ask_echo(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        returns = [p for m in messages for p in m.parts if isinstance(p, ai.ToolReturnPart)]
        if not returns:
            return ai.ModelResponse([ai.ToolCallPart("echo", {"message": "hi"})])
        return ai.ModelResponse([ai.TextPart(f"{returns[0].outcome}: {returns[0].content}")])

    with running(to_a2a(echo_agent(), auth={"s3cret": "alice"})) as url:
        agent = from_a2a(url, token="s3cret", timeout=5, name="caller")
        assert agent.name == "caller"
        assert (await agent.run("hi")).output == "echo: hi (0 replies before)"
        with pytest.raises(ModelAPIError, match="refused the credentials"):
            await from_a2a(url).run("hi")
        toolset = A2AToolset(url, token="s3cret")
        result = await Agent(FunctionModel(ask_echo), toolsets=[toolset]).run("go")
        assert result.output == "success: echo: hi (0 replies before)"
    with pytest.raises(TypeError, match="unknown client option"):
        A2AModel(url, tokens="s3cret")  # type: ignore[call-arg]


def test_a2a_model_run_sync(echo_url: str) -> None:
    assert from_a2a(echo_url).run_sync("hi").output == "echo: hi (0 replies before)"


async def test_a2a_model_streams_structured_output(person_url: str) -> None:
    async with from_a2a(person_url, output_type=Person).run_stream("who?") as result:
        output = await result.get_output()
    assert output == Person(name="Ada", age=36)


def test_missing_pydantic_ai_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pydantic_ai", None)
    monkeypatch.delitem(sys.modules, "a2a_bridges.adapters.pydantic_ai")
    with pytest.raises(ImportError, match=re.escape("pip install 'a2a-bridges[pydantic-ai]'")):
        importlib.import_module("a2a_bridges.adapters.pydantic_ai")


# --- client direction: A2AToolset ---


async def test_orchestrator_delegates_through_a2a_toolset(echo_url: str, person_url: str) -> None:
    seen_tools: dict[str, str] = {}

    def orchestrate(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        seen_tools.update({t.name: t.description or "" for t in info.function_tools})
        returns = [p for m in messages for p in m.parts if isinstance(p, ai.ToolReturnPart)]
        if len(returns) < 2:
            message = "first question" if not returns else "second question"
            return ai.ModelResponse([ai.ToolCallPart("echo", {"message": message})])
        return ai.ModelResponse([ai.TextPart(" / ".join(str(r.content) for r in returns))])

    toolset = A2AToolset([echo_url, person_url])
    orchestrator = Agent(FunctionModel(orchestrate), toolsets=[toolset])
    # Two runs at once: each has remote conversations of its own.
    results = await asyncio.gather(orchestrator.run("go"), orchestrator.run("go"))
    assert seen_tools == {
        "echo": "Echoes the chat. (skills: lookup)",
        "people": "people (skills: chat)",
    }
    # The second call continued the remote conversation the first one started.
    assert [r.output for r in results] == 2 * [
        "echo: first question (0 replies before) / "
        "echo: first question > second question (1 replies before)"
    ]


async def test_a2a_toolset_reports_a_failed_remote_to_the_model(echo_url: str) -> None:
    def orchestrate(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        returns = [p for m in messages for p in m.parts if isinstance(p, ai.ToolReturnPart)]
        if not returns:
            return ai.ModelResponse([ai.ToolCallPart("echo", {"message": "fail please"})])
        return ai.ModelResponse([ai.TextPart(f"{returns[0].outcome}: {returns[0].content}")])

    result = await Agent(FunctionModel(orchestrate), toolsets=[A2AToolset(echo_url)]).run("go")
    assert result.output.startswith("failed: ")
    assert "the model broke down" in result.output


# --- client direction against a peer: fasta2a ---


@pytest.fixture(scope="module")
def fasta2a_url() -> Iterator[str]:
    fasta2a = pytest.importorskip("fasta2a.pydantic_ai")
    with running(fasta2a.agent_to_a2a(echo_agent())) as url:
        yield url


async def test_fasta2a_single_and_multi_turn(fasta2a_url: str) -> None:
    agent = from_a2a(fasta2a_url)
    first = await agent.run("hi")
    assert first.output == "echo: hi (0 replies before)"
    second = await agent.run("again", message_history=first.all_messages())
    assert second.output == "echo: hi > again (1 replies before)"


async def test_fasta2a_streaming_does_not_duplicate(fasta2a_url: str) -> None:
    deltas: list[str] = []
    async with from_a2a(fasta2a_url).run_stream("hi") as result:
        async for text in result.stream_text(delta=True, debounce_by=None):
            deltas.append(text)
        output = await result.get_output()
    assert output == "echo: hi (0 replies before)"
    assert "".join(deltas) == output
