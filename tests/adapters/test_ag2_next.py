"""The ag2 1.x adapter against real servers on loopback: our RemoteAgent and ag2's own A2A client
calling ag2 agents we serve, our ag2 remote calling ag2's own A2AServer, a bare a2a-sdk server,
Pydantic AI and classic AG2 served by us. Models are scripted ag2 model configs, so everything is
offline."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("ag2")


from a2a.types import AgentCard
from ag2 import Agent, AgentReply, BinaryInput, DataInput, TextInput, Toolkit, tool
from ag2.a2a import A2AConfig, A2AServer
from ag2.config import LLMClient
from ag2.context import ConversationContext
from ag2.events import (
    BaseEvent,
    BinaryResult,
    BinaryType,
    FileIdInput,
    HumanInputRequest,
    ModelMessage,
    ModelMessageChunk,
    ModelRequest,
    ModelResponse,
    UrlInput,
)
from ag2.exceptions import UnsupportedInputError
from pydantic import BaseModel

import a2a_bridges
from a2a_bridges import Conversation, DataPart, FilePart, RemoteAgent, RemoteAgentError, TextPart
from a2a_bridges.adapters.ag2_next import A2AModelConfig, AG2NextRunner, from_a2a, to_a2a
from a2a_bridges.adapters.functions import to_a2a as functions_to_a2a
from a2a_bridges.adapters.participants.ag2_next import ScriptedConfig, TextOrData
from a2a_bridges.conversation import Turn
from a2a_bridges.registry import registered
from a2a_bridges.runner import Reply, TextDelta
from a2a_bridges.testing import running
from a2a_bridges.testing.participant import load_participant
from a2a_bridges.testing.quirky import quirky_app
from a2a_bridges.testing.script import PIXEL, QUESTION, VERDICT, Verdict

pytestmark = pytest.mark.anyio

STREAMED = "Four frameworks, one protocol, streamed word by word."


# --- models ---

Script = Callable[[Sequence[BaseEvent], ConversationContext], Awaitable[str | ModelResponse]]


class FnClient(LLMClient):
    """A model whose answer a test function writes, seeing what the model sees."""

    def __init__(self, fn: Script) -> None:
        self.fn = fn

    async def __call__(
        self, messages: Sequence[BaseEvent], context: ConversationContext, **_: Any
    ) -> ModelResponse:
        answer = await self.fn(messages, context)
        return answer if isinstance(answer, ModelResponse) else ModelResponse(ModelMessage(answer))


class FnConfig(ScriptedConfig):
    def __init__(self, fn: Script) -> None:
        super().__init__("fn", lambda _: None)
        self.fn = fn

    def create(self) -> FnClient:
        return FnClient(self.fn)


def scripted(name: str = "assistant", behaviour: str = "assistant", **options: Any) -> Agent[Any]:
    """An ag2 agent on the scripted model of the scenarios, answering data as data."""
    config = ScriptedConfig(behaviour, lambda _: None)
    return Agent(name, config=config, response_schema=TextOrData(), **options)


def _texts(event: BaseEvent) -> list[str]:
    if isinstance(event, ModelRequest):
        return [f"user:{p.content}" for p in event.parts if isinstance(p, TextInput)]
    if isinstance(event, ModelResponse):
        return [f"agent:{event.content}"]
    return []


async def counter(messages: Sequence[BaseEvent], context: ConversationContext) -> str:
    """Counts the user turns it has seen, and says the last."""
    requests = [m for m in messages if isinstance(m, ModelRequest)]
    return f"turn {len(requests)}: {' '.join(_texts(requests[-1]))}"


async def streamed(agent: Agent[Any], text: str) -> tuple[AgentReply[Any, Any], list[str]]:
    """The agent's reply to `text`, and the chunks its stream carried meanwhile."""
    chunks: list[str] = []

    async def chunk(event: ModelMessageChunk) -> None:
        chunks.append(event.content)

    async with agent.run(text) as run:
        run.stream.where(ModelMessageChunk).subscribe(chunk)
        reply = await run.result()
    return reply, chunks


@contextlib.contextmanager
def serving(agent: Agent[Any]) -> Iterator[str]:
    with running(to_a2a(agent)) as url:
        yield url


# --- the server: an ag2 Agent served ---


async def test_card_names_the_agent_and_its_tools() -> None:
    @tool
    def lookup(city: str) -> str:
        """Looks a city up."""
        return city

    @tool
    def weather(city: str) -> str:
        """Today's weather."""
        return city

    config = ScriptedConfig("assistant", lambda _: None)
    agent = Agent("planner", "Plans trips.", config=config, tools=[lookup, Toolkit(weather)])
    with serving(agent) as url:
        async with RemoteAgent(url) as remote:
            card = await remote.card()
    assert (card.name, card.description) == ("planner", "Plans trips.")
    assert {(s.name, s.description) for s in card.skills} == {
        ("lookup", "Looks a city up."),
        ("weather", "Today's weather."),
    }
    assert card.capabilities.streaming
    assert "image/png" in card.default_input_modes


async def test_the_context_is_the_agents_history() -> None:
    seen: list[list[str]] = []

    async def model(messages: Sequence[BaseEvent], context: ConversationContext) -> str:
        seen.append([t for m in messages for t in _texts(m)])
        return f"heard {len(seen)}"

    with serving(Agent("a", config=FnConfig(model))) as url:
        remote = RemoteAgent(url)
        conversation = remote.conversation()
        await conversation.send("one")
        assert (await conversation.send("two")).text == "heard 2"
        await remote.send("elsewhere")
        await remote.aclose()
    assert seen[1] == ["user:one", "agent:heard 1", "user:two"]
    assert seen[2] == ["user:elsewhere"]  # another context sees nothing of it


async def test_data_and_files_arrive_as_ag2_inputs() -> None:
    inputs: list[Any] = []

    async def model(messages: Sequence[BaseEvent], context: ConversationContext) -> str:
        last = messages[-1]
        assert isinstance(last, ModelRequest)
        inputs.extend(last.parts)
        return "got them"

    turn = Turn(
        "user",
        (
            TextPart("look"),
            DataPart({"n": 1, "tags": ["a"]}),
            FilePart(bytes=PIXEL, media_type="image/png", name="pixel.png"),
            FilePart(uri="https://example.com/report.pdf"),
        ),
    )
    with serving(Agent("a", config=FnConfig(model))) as url:
        async with RemoteAgent(url) as remote:
            assert (await remote.send(turn)).text == "got them"
    text, data, binary, link = inputs
    assert isinstance(text, TextInput) and text.content == "look"
    assert isinstance(data, DataInput) and data.data == {"n": 1, "tags": ["a"]}
    assert isinstance(binary, BinaryInput)
    assert (binary.data, binary.media_type, binary.kind) == (PIXEL, "image/png", BinaryType.IMAGE)
    assert binary.vendor_metadata == {"filename": "pixel.png"}
    assert isinstance(link, UrlInput)
    assert (link.url, link.kind) == ("https://example.com/report.pdf", BinaryType.DOCUMENT)


class Trip(BaseModel):
    city: str
    days: int


async def test_a_response_schema_answers_data() -> None:
    async def model(messages: Sequence[BaseEvent], context: ConversationContext) -> str:
        return '{"city": "Porto", "days": 3}'

    with serving(Agent("a", config=FnConfig(model), response_schema=Trip)) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send("plan")
    assert reply.data == {"city": "Porto", "days": 3}


async def test_files_the_model_makes_are_file_parts_and_come_back_as_files() -> None:
    async def model(messages: Sequence[BaseEvent], context: ConversationContext) -> ModelResponse:
        made = BinaryResult(PIXEL, metadata={"media_type": "image/png", "filename": "p.png"})
        return ModelResponse(ModelMessage("drawn"), files=[made])

    with serving(Agent("painter", config=FnConfig(model))) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send("draw")
        native = await from_a2a(url).ask("draw")
    assert reply.parts[1] == FilePart(bytes=PIXEL, media_type="image/png", name="p.png")
    assert native.body == "drawn"
    assert [(f.data, f.metadata) for f in native.files] == [
        (PIXEL, {"media_type": "image/png", "filename": "p.png"})
    ]


async def test_streams_the_models_chunks() -> None:
    with serving(scripted()) as url:
        async with RemoteAgent(url) as remote:
            events = [e async for e in remote.stream("stream")]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 3 and "".join(deltas) == STREAMED
    assert isinstance(events[-1], Reply) and events[-1].text == STREAMED


async def test_a_question_is_input_required_and_answered_in_the_same_task() -> None:
    with serving(scripted()) as url:
        async with RemoteAgent(url) as remote:
            conversation = remote.conversation()
            asked = await conversation.send("plan a trip")
            assert asked.input_required and asked.text == QUESTION
            done = await conversation.send("Lisbon")
    assert (done.state, done.task_id) == ("completed", asked.task_id)
    assert done.text == "Planned three days in Lisbon."


async def test_questions_asked_at_once_reach_each_its_own_caller() -> None:
    agent = scripted()
    with serving(agent) as url:
        async with RemoteAgent(url) as remote:
            first, second = remote.conversation(), remote.conversation()
            asked = await asyncio.gather(first.send("plan a trip"), second.send("plan a trip"))
            assert all(a.input_required and a.text == QUESTION for a in asked)
            done = await asyncio.gather(second.send("Porto"), first.send("Lisbon"))
    assert [d.text for d in done] == [
        "Planned three days in Porto.",
        "Planned three days in Lisbon.",
    ]
    assert [d.task_id for d in done] == [asked[1].task_id, asked[0].task_id]
    assert not agent.has_hitl_hook  # the hook that relays questions is on a copy


async def test_an_agent_changed_after_its_first_run_runs_as_changed() -> None:
    agent = Agent("counter", config=FnConfig(counter))
    with serving(agent) as url:
        async with RemoteAgent(url) as remote:
            before = await remote.send("hello")
            agent.config = ScriptedConfig("assistant", lambda _: None)
            after = await remote.send("echo changed")
    assert (before.text, after.text) == ("turn 1: user:hello", "echo: changed")


async def test_an_agent_with_its_own_hitl_hook_answers_itself() -> None:
    def hook(event: HumanInputRequest) -> str:
        return "Porto"

    with serving(scripted(hitl_hook=hook)) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send("plan a trip")
    assert (reply.state, reply.text) == ("completed", "Planned three days in Porto.")


async def test_an_error_fails_the_task_with_a_short_message() -> None:
    with serving(scripted()) as url:
        async with RemoteAgent(url) as remote:
            with pytest.raises(RemoteAgentError) as failed:
                await remote.send("fail now")
            assert (await remote.send("echo still here")).text == "echo: still here"
    assert failed.value.state == "failed"
    assert "remote task failed: the build broke" in failed.value.message
    assert "Traceback" not in failed.value.message


async def test_closing_the_runner_stops_the_ag2_run() -> None:
    notes: list[str] = []
    agent = Agent("a", config=ScriptedConfig("assistant", notes.append))
    turn = Turn("user", (TextPart("slow please"),))
    run = AG2NextRunner(agent).run(Conversation("c", "t", (turn,)))
    assert await run.__anext__() == TextDelta("working ")
    async with asyncio.timeout(5):
        while notes != ["run started"]:
            await asyncio.sleep(0.01)
    await run.aclose()
    assert notes == ["run started", "run cancelled"]


async def test_cancel_stops_the_served_run() -> None:
    notes: list[str] = []
    agent = Agent("a", config=ScriptedConfig("assistant", notes.append))
    with serving(agent) as url:
        async with RemoteAgent(url) as remote:
            conversation = remote.conversation()
            events = conversation.stream("slow please")
            assert isinstance(await events.__anext__(), TextDelta)
            assert await conversation.cancel() == "canceled"
            await events.aclose()
    assert notes == ["run started", "run cancelled"]


# --- ag2's own A2A client against every adapter's server ---


def _assistants() -> list[Any]:
    """Each registered framework's scripted assistant, by framework."""
    found = []
    for entry in registered():
        if entry.adapter is None:
            reason = f"{entry.name} is not installed"
            found.append(pytest.param(None, id=entry.name, marks=pytest.mark.skip(reason)))
        elif entry.adapter.participant is not None:  # the proxy has no agents of its own
            found.append(pytest.param(load_participant(entry.adapter.participant), id=entry.name))
    return found


@pytest.fixture(scope="module", params=_assistants())
def assistant(request: pytest.FixtureRequest) -> Iterator[str]:
    agent = request.param.server(f"{request.param.short}-assistant", "assistant", lambda _: None)
    with running(a2a_bridges.to_a2a(agent)) as url:
        yield url


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_ag2_client_gets_the_answer_once_and_remembers(
    assistant: str, streaming: bool
) -> None:
    # ag2's A2AConfig leaves ModelConfig's members to the protocol: fine at run time.
    config = A2AConfig(card_url=assistant, streaming=streaming)  # type: ignore[abstract]
    caller = Agent("caller", config=config)
    first = await caller.ask("remember kiwi")
    assert first.body == "I will remember kiwi."
    second = await first.ask("recall")
    assert second.body == "You asked me to remember kiwi."
    other = await caller.ask("recall")
    assert other.body == "I remember nothing."


async def test_ag2_client_streams_each_piece_once(assistant: str) -> None:
    caller = Agent("caller", config=A2AConfig(card_url=assistant))  # type: ignore[abstract]
    reply, chunks = await streamed(caller, "stream")
    assert reply.body == STREAMED
    assert len(chunks) >= 3 and "".join(chunks) == STREAMED


async def test_ag2_client_answers_our_question_through_its_hitl_hook() -> None:
    with serving(scripted()) as url:
        config = A2AConfig(card_url=url)  # type: ignore[abstract]
        caller = Agent("caller", config=config, hitl_hook=lambda: "Lisbon")
        reply = await caller.ask("plan a weekend trip")
    assert reply.body == "Planned three days in Lisbon."


# --- the client: remote agents as ag2 agents ---


def test_from_a2a_is_an_agent_and_does_no_io() -> None:
    agent = a2a_bridges.from_a2a("http://127.0.0.1:9", framework="ag2_next", name="far", timeout=5)
    assert isinstance(agent, Agent) and agent.name == "far"
    assert isinstance(agent.config, A2AModelConfig)
    assert agent.config.model == "http://127.0.0.1:9"


async def test_an_input_a2a_cannot_carry_is_refused_before_any_call() -> None:
    with pytest.raises(UnsupportedInputError, match="FileIdInput"):
        await from_a2a("http://127.0.0.1:9").ask(FileIdInput("file-1"))


async def test_remote_counts_turns_per_reply_chain() -> None:
    with serving(Agent("counter", config=FnConfig(counter))) as url:
        agent = from_a2a(url)
        first = await agent.ask("hello")
        second = await first.ask("again")
        fresh = await agent.ask("anew")
        assert isinstance(agent.config, A2AModelConfig)
        await agent.config.remote.aclose()
    assert first.body == "turn 1: user:hello"  # once, not three times
    assert second.body == "turn 2: user:again"
    assert fresh.body == "turn 1: user:anew"


async def test_remote_streams_model_message_chunks() -> None:
    with serving(scripted()) as url:
        agent = from_a2a(url)
        reply, chunks = await streamed(agent, "stream")
    assert reply.body == STREAMED and "".join(chunks) == STREAMED and len(chunks) >= 3


@pytest.mark.parametrize("card_streams", [True, False], ids=["streaming=False", "card says no"])
async def test_a_remote_that_does_not_stream_sends_no_chunks(card_streams: bool) -> None:
    # As ag2's own model clients do: chunks only from a model that streams, else one message.
    with running(quirky_app("none", streaming=card_streams)) as url:
        agent = from_a2a(url, streaming=False if card_streams else None)
        reply, chunks = await streamed(agent, "hello there")
    assert (reply.body, chunks) == ("echo: hello there", [])


async def test_remote_question_goes_to_the_hitl_hook() -> None:
    asked: list[str] = []

    def hook(event: HumanInputRequest) -> str:
        asked.append(event.content)
        return "Lisbon"

    with serving(scripted()) as url:
        reply = await from_a2a(url, hitl_hook=hook).ask("plan a trip")
    assert asked == [QUESTION]
    assert (reply.body, reply.response.finish_reason) == (
        "Planned three days in Lisbon.",
        "completed",
    )


async def test_without_a_hook_the_question_is_the_reply() -> None:
    with serving(scripted()) as url:
        asked = await from_a2a(url).ask("plan a trip")
        assert (asked.body, asked.response.finish_reason) == (QUESTION, "input_required")
        done = await asked.ask("Lisbon")
    assert done.body == "Planned three days in Lisbon."


async def test_remote_data_validates_into_a_response_schema() -> None:
    with serving(scripted()) as url:
        reply = await from_a2a(url).ask("data", response_schema=Verdict)
        embedded = await from_a2a(url).ask("data", response_schema=list[Verdict] | Verdict)
    assert await reply.content() == VERDICT
    assert await embedded.content() == VERDICT  # a schema ag2 answers as {"data": ...}


async def test_remote_json_text_validates_into_a_response_schema() -> None:
    def verdict(text: str) -> str:
        return json.dumps(VERDICT)  # a text-only peer's structured answer

    with running(functions_to_a2a(verdict)) as url:
        reply = await from_a2a(url).ask("data", response_schema=list[Verdict] | Verdict)
    assert await reply.content() == VERDICT


async def test_remote_gets_text_data_and_files() -> None:
    def describe(conversation: Conversation) -> str:
        return "; ".join(type(p).__name__ for p in conversation.last.parts)

    with running(functions_to_a2a(describe)) as url:
        file = BinaryInput(PIXEL, media_type="image/png")
        reply = await from_a2a(url).ask(TextInput("see"), DataInput({"n": 1}), file)
    assert reply.body == "TextPart; DataPart; FilePart"


async def test_remote_failure_raises_remote_agent_error() -> None:
    with serving(scripted()) as url, pytest.raises(RemoteAgentError) as failed:
        await from_a2a(url).ask("fail now")
    assert "the build broke" in failed.value.message


async def test_remote_against_ag2s_own_server() -> None:
    where: dict[str, str] = {}

    async def at_address(card: AgentCard) -> AgentCard:
        # The app is built before its port is known: the card names it once it is.
        served = AgentCard()
        served.CopyFrom(card)
        for interface in served.supported_interfaces:
            interface.url = where["url"]
        return served

    server = A2AServer(scripted(), card_modifier=at_address)
    with running(server.build_jsonrpc(url="http://127.0.0.1:1/")) as url:
        where["url"] = f"{url}/"
        agent = from_a2a(url)
        reply, chunks = await streamed(agent, "stream")
        echo = await agent.ask("echo from ag2")
    assert reply.body == STREAMED and "".join(chunks) == STREAMED
    assert echo.body == "echo: from ag2"


async def test_remote_against_a_bare_sdk_server() -> None:
    with running(quirky_app("none")) as url:
        reply = await from_a2a(url).ask("hello there")
    assert reply.body == "echo: hello there"


async def test_remote_against_our_pydantic_ai_server() -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import Agent as PydanticAgent
    from pydantic_ai import messages as ai
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def count(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        turns = sum(isinstance(m, ai.ModelRequest) for m in messages)
        return ai.ModelResponse([ai.TextPart(f"turn {turns}")])

    with running(a2a_bridges.to_a2a(PydanticAgent(FunctionModel(count)))) as url:
        first = await from_a2a(url).ask("hello")
        second = await first.ask("again")
    assert (first.body, second.body) == ("turn 1", "turn 2")


# --- classic AG2 and ag2 1.x, through this project ---


def _classic() -> Any:
    pytest.importorskip("autogen")
    return importlib.import_module("a2a_bridges.adapters.ag2")


async def test_classic_conversable_agent_calls_an_ag2_agent() -> None:
    classic = _classic()
    from autogen import ConversableAgent

    with serving(Agent("counter", config=FnConfig(counter))) as url:
        remote = classic.from_a2a(url, name="counter")
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
        said = []
        for text in ("hello", "again"):
            chat = await user.a_initiate_chat(
                remote, message=text, max_turns=1, clear_history=text == "hello", silent=True
            )
            said.append(chat.chat_history[-1]["content"])
        await remote.aclose()
    assert said == ["turn 1: user:hello", "turn 2: user:again"]


async def test_ag2_agent_calls_a_classic_conversable_agent() -> None:
    classic = _classic()
    from autogen import ConversableAgent

    def reply(recipient: Any, messages: Any = None, sender: Any = None, config: Any = None) -> Any:
        said = [m["content"] for m in messages or [] if m.get("role") == "user"]
        return True, f"heard {len(said)}: {said[-1]}"

    agent = ConversableAgent("classic", llm_config=False, human_input_mode="NEVER")
    agent.register_reply([object, None], reply)
    with running(classic.to_a2a(agent)) as url:
        first = await from_a2a(url).ask("hello")
        second = await first.ask("again")
    assert (first.body, second.body) == ("heard 1: hello", "heard 2: again")
