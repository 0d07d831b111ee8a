"""The AG2 adapter: ConversableAgents served over A2A, and A2A servers as ConversableAgents.

Every server is real (uvicorn on 127.0.0.1); every agent is deterministic and offline.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("autogen")

with warnings.catch_warnings():
    # autogen.a2a announces itself as experimental, and a dependency misses an optional package.
    warnings.simplefilter("ignore", ImportWarning)
    from autogen import Agent, ConversableAgent, GroupChat, GroupChatManager
    from autogen.a2a import A2aAgentServer, A2aRemoteAgent
    from autogen.a2a.errors import A2aClientError
    from autogen.code_utils import content_str
    from autogen.events.client_events import StreamEvent
    from autogen.io.base import IOStream

import anyio
import httpx
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types import (
    CancelTaskRequest,
    Message,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.types import (
    Part as A2APart,
)

from a2a_bridges import api
from a2a_bridges.adapters.ag2 import A2AConversableAgent, _Callers, from_a2a, to_a2a
from a2a_bridges.client import RemoteAgent, RemoteConversation
from a2a_bridges.conversation import DataPart, FilePart, Part, TextPart
from a2a_bridges.errors import AgentError, RemoteAgentError
from a2a_bridges.runner import TextDelta
from a2a_bridges.testing import running

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


# --- deterministic agents ---


def echo_agent(name: str = "echo") -> ConversableAgent:
    """Numbers what it hears by the messages it sees, so memory shows in the count."""
    agent = ConversableAgent(
        name, llm_config=False, human_input_mode="NEVER", description="Repeats what it hears."
    )

    def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        return (
            True,
            f"echo #{len(messages)} to {sender.name}: {content_str(messages[-1]['content'])}",
        )

    # A class trigger only fires for a real Agent sender (AG2's own server passes none).
    agent.register_reply(ConversableAgent, reply)
    return agent


def probe_agent() -> ConversableAgent:
    """Answers with the last message it received, as JSON."""
    agent = ConversableAgent("probe", llm_config=False, human_input_mode="NEVER")
    agent.register_reply(
        [Agent, None], lambda recipient, messages, sender, config: (True, json.dumps(messages[-1]))
    )
    return agent


def booker_agent() -> ConversableAgent:
    """Asks its human which city, then books it."""
    agent = ConversableAgent("booker", llm_config=False, human_input_mode="NEVER")

    async def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        city = await recipient.a_get_human_input("Which city?")
        return True, f"Booked {city} for {messages[-1]['content']}"

    agent.register_reply([Agent, None], reply)
    return agent


class Drafter(ConversableAgent):
    """A model stand-in, the way AG2's docs fake one: generate_oai_reply overridden."""

    def generate_oai_reply(
        self, messages: Any = None, sender: Any = None, config: Any = None, **kw: Any
    ) -> Any:
        return True, f"draft {len(messages)}"


def failing_agent() -> ConversableAgent:
    agent = ConversableAgent("failing", llm_config=False, human_input_mode="NEVER")

    def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        raise AgentError("the tank is empty")

    agent.register_reply([Agent, None], reply)
    return agent


def adder_agent() -> ConversableAgent:
    """Adds the numbers in the messages since it last spoke."""
    agent = ConversableAgent(
        "adder",
        llm_config=False,
        human_input_mode="NEVER",
        description="Adds the numbers it is given.",
    )

    def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        text = " ".join(content_str(m["content"]) for m in messages if m["role"] == "user")
        total = sum(int(n) for n in re.findall(r"-?\d+", text))
        return True, f"The sum is {total}"

    agent.register_reply([Agent, None], reply)
    return agent


class ScriptedModel:
    """An AG2 model client that streams its answer word by word, or calls the tool `add`."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        pass

    def create(self, params: dict[str, Any]) -> Any:
        messages = params["messages"]
        last = messages[-1]
        if params.get("tools") and last.get("role") != "tool":
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "add", "arguments": json.dumps({"a": 2, "b": 3})},
            }
            message: Any = {"role": "assistant", "content": None, "tool_calls": [call]}
        elif last.get("role") == "tool":
            message = f"The sum is {last['content']}"
        else:
            words = ["Once", " upon", " a", " time"]
            for word in words:
                IOStream.get_default().send(StreamEvent(content=word))
            message = "".join(words)
        # With this attribute AG2 reads the answer through `message_retrieval`.
        return SimpleNamespace(
            choices=[SimpleNamespace(message=message)],
            model="scripted",
            cost=0.0,
            message_retrieval_function=None,
        )

    def message_retrieval(self, response: Any) -> list[Any]:
        return [choice.message for choice in response.choices]

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {}


SCRIPTED = {"config_list": [{"model": "scripted", "model_client_cls": "ScriptedModel"}]}


def streaming_agent() -> ConversableAgent:
    agent = ConversableAgent("storyteller", llm_config=SCRIPTED, human_input_mode="NEVER")
    agent.register_model_client(ScriptedModel)  # type: ignore[arg-type]  # AG2 takes the class
    return agent


def calculator_agent() -> ConversableAgent:
    """A model that calls a tool the same agent executes."""
    agent = ConversableAgent("calculator", llm_config=SCRIPTED, human_input_mode="NEVER")

    @agent.register_for_execution()
    @agent.register_for_llm(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    # Registering a tool rebuilds the model client, so the custom client comes last.
    agent.register_model_client(ScriptedModel)  # type: ignore[arg-type]  # AG2 takes the class
    return agent


@contextlib.contextmanager
def slow_server() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """An agent that takes 30 s unless cancelled; yields its URL, `started` and `cancelled`."""
    started, cancelled = threading.Event(), threading.Event()
    agent = ConversableAgent("slow", llm_config=False, human_input_mode="NEVER")

    async def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True, "finally"

    agent.register_reply([Agent, None], reply)
    with running(to_a2a(agent)) as url:
        yield url, started, cancelled


async def wait_for(event: threading.Event, seconds: float = 10) -> None:
    assert await anyio.to_thread.run_sync(event.wait, seconds), "timed out waiting"


async def task_known(conversation: RemoteConversation) -> None:
    """Wait until the client has seen the remote task's id (the first streamed event)."""
    with anyio.fail_after(10):
        while conversation.task_id is None:
            await anyio.sleep(0.01)


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    agents = {
        "echo": echo_agent(),
        "probe": probe_agent(),
        "booker": booker_agent(),
        "always": Drafter("always", llm_config=False, human_input_mode="ALWAYS"),
        "failing": failing_agent(),
        "adder": adder_agent(),
        "storyteller": streaming_agent(),
        "calculator": calculator_agent(),
    }
    with contextlib.ExitStack() as stack:
        # Through the public entry point, which finds this adapter by the agent's type.
        yield {name: stack.enter_context(running(api.to_a2a(a))) for name, a in agents.items()}


class Script:
    """An AG2 IOStream that answers input from a script and keeps what was streamed."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.streamed: list[str] = []

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        pass

    def send(self, message: Any) -> None:
        if isinstance(message, StreamEvent):
            self.streamed.append(message.content.content)  # type: ignore[attr-defined]

    async def input(self, prompt: str = "", *, password: bool = False) -> str:
        self.prompts.append(prompt)
        assert self.answers, f"asked once too often: {prompt!r}"
        return self.answers.pop(0)


def scripted_user(name: str, *lines: str) -> ConversableAgent:
    """A local agent that says `lines` in turn."""
    agent = ConversableAgent(name, llm_config=False, human_input_mode="NEVER")
    said = iter(lines)
    agent.register_reply(
        [Agent, None], lambda recipient, messages, sender, config: (True, next(said))
    )
    return agent


# --- the a2a-sdk client, directly ---


@contextlib.asynccontextmanager
async def sdk_client(url: str, *, streaming: bool = False) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=20) as http:
        card = await A2ACardResolver(http, url).get_agent_card()
        client = ClientFactory(ClientConfig(httpx_client=http, streaming=streaming)).create(card)
        try:
            yield client
        finally:
            await client.close()


def request(text: str, *, context_id: str = "", task_id: str = "") -> SendMessageRequest:
    message = Message(
        message_id=uuid.uuid4().hex,
        role=Role.ROLE_USER,
        parts=[A2APart(text=text)],
        context_id=context_id,
        task_id=task_id,
    )
    return SendMessageRequest(message=message)


async def send(client: Client, req: SendMessageRequest) -> Task:
    events = [event async for event in client.send_message(req)]
    assert len(events) == 1 and events[0].HasField("task")
    return events[0].task


def answer_text(task: Task) -> str:
    return "".join(p.text for a in task.artifacts for p in a.parts)


@pytest.mark.anyio
async def test_sdk_client_single_and_multi_turn(urls: dict[str, str]) -> None:
    async with sdk_client(urls["echo"]) as client:
        first = await send(client, request("hello"))
        assert first.status.state == TaskState.TASK_STATE_COMPLETED
        assert answer_text(first) == "echo #1 to user: hello"
        assert not first.status.message.parts  # the answer is in the artifact only
        second = await send(client, request("again", context_id=first.context_id))
        assert answer_text(second) == "echo #3 to user: again"
        other = await send(client, request("elsewhere"))
        assert answer_text(other) == "echo #1 to user: elsewhere"


@pytest.mark.anyio
async def test_sdk_client_human_input_round_trip(urls: dict[str, str]) -> None:
    async with sdk_client(urls["booker"]) as client:
        asked = await send(client, request("a weekend"))
        assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        assert asked.status.message.parts[0].text == "Which city?"
        done = await send(client, request("Porto", context_id=asked.context_id, task_id=asked.id))
        assert done.id == asked.id
        assert done.status.state == TaskState.TASK_STATE_COMPLETED
        assert answer_text(done) == "Booked Porto for a weekend"


@pytest.mark.anyio
async def test_sdk_client_streaming(urls: dict[str, str]) -> None:
    async with sdk_client(urls["storyteller"], streaming=True) as client:
        events: list[StreamResponse] = [e async for e in client.send_message(request("a story"))]
    chunks = [e.artifact_update for e in events if e.HasField("artifact_update")]
    deltas = [c for c in chunks if not c.last_chunk]
    assert [p.text for c in deltas for p in c.artifact.parts] == ["Once", " upon", " a", " time"]
    assert [c.append for c in deltas] == [False, True, True, True]
    # The last chunk adds nothing the deltas lacked: clients that join chunks show it once.
    assert chunks[-1].last_chunk and chunks[-1].append
    assert [p.text for p in chunks[-1].artifact.parts] == [""]
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.anyio
async def test_sdk_client_error(urls: dict[str, str]) -> None:
    async with sdk_client(urls["failing"]) as client:
        task = await send(client, request("fill it up"))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert task.status.message.parts[0].text == "the tank is empty"


@pytest.mark.anyio
async def test_sdk_client_cancel() -> None:
    with slow_server() as (url, started, cancelled):
        async with sdk_client(url, streaming=True) as client:
            stream = client.send_message(request("take your time"))
            first = await anext(stream)
            await wait_for(started)
            canceled = await client.cancel_task(CancelTaskRequest(id=first.task.id))
            assert canceled.status.state == TaskState.TASK_STATE_CANCELED
            await wait_for(cancelled)
            await stream.aclose()  # type: ignore[attr-defined]  # an async generator


# --- a2a_bridges.RemoteAgent ---


@pytest.mark.anyio
async def test_remote_agent_turns_memory_and_card(urls: dict[str, str]) -> None:
    async with RemoteAgent(urls["echo"]) as remote:
        chat = remote.conversation()
        assert (await chat.send("one")).text == "echo #1 to user: one"
        assert (await chat.send("two")).text == "echo #3 to user: two"
        assert (await remote.send("alone")).text == "echo #1 to user: alone"
        card = await remote.card()
    assert card.name == "echo"
    assert card.description == "Repeats what it hears."
    assert card.supported_interfaces[0].url == urls["echo"] + "/"


@pytest.mark.anyio
async def test_remote_agent_human_input_round_trip(urls: dict[str, str]) -> None:
    async with RemoteAgent(urls["booker"]) as remote:
        chat = remote.conversation()
        asked = await chat.send("a weekend")
        assert asked.input_required and asked.text == "Which city?"
        done = await chat.send("Nice")
        assert done.state == "completed" and done.text == "Booked Nice for a weekend"
        assert done.task_id == asked.task_id


@pytest.mark.anyio
async def test_remote_agent_human_input_mode_always(urls: dict[str, str]) -> None:
    # ALWAYS: the human's answer is the reply; an empty one lets the agent reply itself.
    async with RemoteAgent(urls["always"]) as remote:
        chat = remote.conversation()
        asked = await chat.send("write something")
        assert asked.input_required and asked.text.startswith("Replying as always.")
        assert (await chat.send("Looks good")).text == "Looks good"
        assert (await chat.send("more")).input_required
        assert (await chat.send(TextPart(""))).text == "draft 3"
        assert (await chat.send("and more")).input_required
        ended = await chat.send("exit")  # the human ends the chat: no reply
        assert ended.state == "completed" and ended.parts == ()


@pytest.mark.anyio
async def test_remote_agent_streaming(urls: dict[str, str]) -> None:
    async with RemoteAgent(urls["storyteller"]) as remote:
        events = [e async for e in remote.stream("a story")]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["Once", " upon", " a", " time"]
    assert events[-1].text == "Once upon a time"


@pytest.mark.anyio
async def test_remote_agent_error(urls: dict[str, str]) -> None:
    async with RemoteAgent(urls["failing"]) as remote:
        with pytest.raises(RemoteAgentError, match="the tank is empty") as caught:
            await remote.send("fill it up")
    assert caught.value.state == "failed"


@pytest.mark.anyio
async def test_remote_agent_cancel() -> None:
    with slow_server() as (url, started, cancelled):
        async with RemoteAgent(url) as remote, anyio.create_task_group() as tg:
            outcome: list[BaseException] = []
            chat = remote.conversation()

            async def ask() -> None:
                try:
                    await chat.send("take your time")
                except RemoteAgentError as exc:
                    outcome.append(exc)

            tg.start_soon(ask)
            await wait_for(started)
            await task_known(chat)
            assert await chat.cancel() == "canceled"
            await wait_for(cancelled)
        assert isinstance(outcome[0], RemoteAgentError) and outcome[0].state == "canceled"


@pytest.mark.anyio
async def test_each_run_has_a_sender_of_its_own_reused_once_it_ends() -> None:
    """Runs at once never share the stand-in for their caller; a later run reuses one, and
    the agent keeps nothing per sender once a run ends."""
    senders: list[Agent] = []
    gate = threading.Event()
    agent = ConversableAgent("keeper", llm_config=False, human_input_mode="NEVER")

    async def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        senders.append(sender)
        if messages[-1]["content"] == "wait":
            await asyncio.to_thread(gate.wait, 10)
        return True, f"ok from {sender.name}"

    agent.register_reply(ConversableAgent, reply)
    with running(api.to_a2a(agent)) as url:
        async with RemoteAgent(url) as remote, anyio.create_task_group() as tg:
            tg.start_soon(remote.send, "wait")
            tg.start_soon(remote.send, "wait")
            with anyio.fail_after(10):
                while len(senders) < 2:
                    await anyio.sleep(0.01)
            gate.set()
        async with RemoteAgent(url) as remote:
            assert (await remote.send("again")).text == "ok from user"
    first, second, third = senders
    assert first is not second and third in (first, second)
    tables = (agent._oai_messages, agent._consecutive_auto_reply_counter, agent.reply_at_receive)
    assert not any(s in table for s in senders for table in tables)


@pytest.mark.anyio
async def test_many_callers_at_once_reuse_every_sender_in_the_next_wave() -> None:
    """Forty runs at once, then forty more: the second wave makes no new stand-in (a per-name
    pool of sixteen made 24 of them again, each costlier than an instant reply)."""
    senders: list[Agent] = []
    wave = 40
    agent = ConversableAgent("keeper", llm_config=False, human_input_mode="NEVER")

    async def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        senders.append(sender)
        with anyio.fail_after(10):  # every run of the wave holds its stand-in at once
            while len(senders) % wave:
                await anyio.sleep(0.01)
        return True, "ok"

    agent.register_reply(ConversableAgent, reply)
    with running(api.to_a2a(agent)) as url:
        async with RemoteAgent(url) as remote:
            for _ in range(2):
                async with anyio.create_task_group() as tg:
                    for _ in range(wave):
                        tg.start_soon(remote.send, "hi")
    first, second = {id(s) for s in senders[:wave]}, {id(s) for s in senders[wave:]}
    assert len(first) == len(second) == wave  # runs at once never share one
    assert second == first


def test_idle_senders_are_bounded() -> None:
    """At most `most` stand-ins wait, the least recently given back dropped first."""
    callers = _Callers(most=3)
    taken = [callers.take(name) for name in ("a", "a", "b", "c", "c")]
    for stand_in in taken:
        callers.give_back(stand_in, reusable=True)
    assert callers.idle() == 3
    assert callers.take("a")[0] not in [s[0] for s in taken[:2]]  # both "a" were dropped
    assert callers.take("c")[0] in [s[0] for s in taken[3:]]


@pytest.mark.anyio
async def test_a_sender_a_reply_kept_something_in_is_not_reused() -> None:
    """What one conversation's reply stores in its sender never reaches another's."""
    seen: list[Any] = []
    agent = ConversableAgent("keeper", llm_config=False, human_input_mode="NEVER")

    def reply(recipient: ConversableAgent, messages: Any, sender: Agent, config: Any) -> Any:
        seen.append(sender.context_variables.get("secret"))  # type: ignore[attr-defined]
        sender.context_variables.set("secret", messages[-1]["content"])  # type: ignore[attr-defined]
        return True, "kept"

    agent.register_reply(ConversableAgent, reply)
    with running(api.to_a2a(agent)) as url:
        async with RemoteAgent(url) as remote:
            await remote.send("4111-1111-1111-1111")
            await remote.send("hello")
    assert seen == [None, None]


@pytest.mark.anyio
async def test_tools_registered_for_execution_run(urls: dict[str, str]) -> None:
    async with RemoteAgent(urls["calculator"]) as remote:
        assert (await remote.send("what is 2 + 3?")).text == "The sum is 5"
        card = await remote.card()
    assert [(s.name, s.description) for s in card.skills] == [("add", "Add two integers.")]


@pytest.mark.anyio
async def test_file_and_data_parts_reach_the_agent(urls: dict[str, str]) -> None:
    parts: list[Part] = [
        TextPart("look"),
        DataPart({"x": 1}),
        FilePart(bytes=PNG, media_type="image/png"),
    ]
    async with RemoteAgent(urls["probe"]) as remote:
        seen = json.loads((await remote.send(parts)).text)
    assert seen["role"] == "user"
    assert seen["content"][:2] == [
        {"type": "text", "text": "look"},
        {"type": "text", "text": '{"x": 1}'},
    ]
    image = seen["content"][2]["image_url"]["url"]
    assert image.startswith("data:image/png;base64,")
    assert base64.b64decode(image.partition(",")[2]) == PNG


# --- AG2's own client, autogen.a2a.A2aRemoteAgent ---


@pytest.mark.anyio
async def test_ag2_client_history_is_the_conversation(urls: dict[str, str]) -> None:
    user = scripted_user("user", "second")
    remote = A2aRemoteAgent(url=urls["echo"], name="echo")
    result = await user.a_initiate_chat(remote, message="first", max_turns=2)
    replies = [m["content"] for m in result.chat_history if m["name"] == "echo"]
    # It sends the whole chat each time with a fresh contextId: the count comes from that history.
    assert replies == ["echo #1 to user: first", "echo #3 to user: second"]


@pytest.mark.anyio
async def test_ag2_client_human_input_round_trip(urls: dict[str, str]) -> None:
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    remote = A2aRemoteAgent(url=urls["booker"], name="booker")
    script = Script("Lisbon")  # asking twice would fail the test: no endless loop
    with IOStream.set_default(script):
        reply = await remote.a_generate_reply(
            [{"role": "user", "content": "a weekend", "name": "user"}], user
        )
    assert reply == {"content": "Booked Lisbon for a weekend"}
    assert len(script.prompts) == 1


@pytest.mark.anyio
async def test_ag2_client_streaming(urls: dict[str, str]) -> None:
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    remote = A2aRemoteAgent(url=urls["storyteller"], name="storyteller")
    script = Script()
    with IOStream.set_default(script):
        reply = await remote.a_generate_reply([{"role": "user", "content": "a story"}], user)
    assert script.streamed == ["Once", " upon", " a", " time"]
    assert reply == {"content": "Once upon a time"}


@pytest.mark.anyio
async def test_ag2_client_error(urls: dict[str, str]) -> None:
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    remote = A2aRemoteAgent(url=urls["failing"], name="failing")
    with pytest.raises(A2aClientError, match="the tank is empty"):
        await remote.a_generate_reply([{"role": "user", "content": "fill it up"}], user)


# --- A2AConversableAgent ---


def test_from_a2a_reads_the_card_only_when_the_description_is_needed(urls: dict[str, str]) -> None:
    remote = api.from_a2a(urls["adder"], framework="autogen")
    assert isinstance(remote, A2AConversableAgent)
    port = urls["adder"].rpartition(":")[2]
    assert remote.name == f"127_0_0_1_{port}"
    assert remote.remote.card_data is None  # nothing fetched yet
    assert remote.description == "Adds the numbers it is given."
    assert remote.remote.card_data is not None
    named = from_a2a(urls["adder"], name="sums", description="Sums things.", timeout=5)
    assert (named.name, named.description, named.remote.timeout) == ("sums", "Sums things.", 5)
    assert named.remote.card_data is None
    assert from_a2a("https://agents.example/v1/weather").name == "weather"


def test_construction_does_no_network_io() -> None:
    with running(to_a2a(echo_agent())) as url:
        pass  # the port is free again
    remote = from_a2a(url, timeout=2)
    assert remote.description == f"A remote A2A agent at {url}"  # unreachable: no error here
    with pytest.raises(TypeError, match="unknown client option"):
        A2AConversableAgent("x", url, colour="red")  # type: ignore[call-arg]


def test_initiate_chat_sync(urls: dict[str, str]) -> None:
    remote = from_a2a(urls["echo"])
    user = scripted_user("user", "second")
    result = user.initiate_chat(remote, message="first", max_turns=2)
    assert [m["content"] for m in result.chat_history] == [
        "first",
        "echo #1 to user: first",
        "second",
        "echo #3 to user: second",
    ]
    # A new chat is a new remote conversation.
    again = user.initiate_chat(remote, message="anew", max_turns=1)
    assert again.chat_history[-1]["content"] == "echo #1 to user: anew"
    remote.close()


@pytest.mark.anyio
async def test_a_initiate_chat_and_a_context_per_partner(urls: dict[str, str]) -> None:
    remote = A2AConversableAgent("echo", urls["echo"])
    alice, bob = scripted_user("alice", "a2"), scripted_user("bob", "b2")
    first = await alice.a_initiate_chat(remote, message="a1", max_turns=2)
    second = await bob.a_initiate_chat(remote, message="b1", max_turns=1, clear_history=False)
    assert first.chat_history[-1]["content"] == "echo #3 to alice: a2"
    assert second.chat_history[-1]["content"] == "echo #1 to bob: b1"
    assert remote.conversation(alice).context_id != remote.conversation(bob).context_id
    await remote.aclose()


@pytest.mark.anyio
async def test_a2a_agent_human_input_is_answered_by_the_partner(urls: dict[str, str]) -> None:
    remote = A2AConversableAgent("booker", urls["booker"])
    user = scripted_user("user", "Oslo")
    result = await user.a_initiate_chat(remote, message="a weekend", max_turns=2)
    assert [m["content"] for m in result.chat_history] == [
        "a weekend",
        "Which city?",
        "Oslo",
        "Booked Oslo for a weekend",
    ]
    await remote.aclose()


@pytest.mark.anyio
async def test_a2a_agent_streams_to_the_iostream(urls: dict[str, str]) -> None:
    remote = A2AConversableAgent("storyteller", urls["storyteller"])
    script = Script()
    with IOStream.set_default(script):
        reply = await remote.a_generate_reply([{"role": "user", "content": "a story"}])
    assert reply == "Once upon a time"
    assert script.streamed == ["Once", " upon", " a", " time"]
    await remote.aclose()


CONSOLE_CHAT = """
import asyncio, sys, warnings
warnings.simplefilter("ignore")
from autogen import ConversableAgent
from a2a_bridges.adapters.ag2 import from_a2a

remote = from_a2a(sys.argv[1], name="storyteller")
user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
print("=== loud", flush=True)
user.initiate_chat(remote, message="a story", max_turns=1)
print("=== silent", flush=True)
user.initiate_chat(remote, message="a story", max_turns=1, silent=True)
print("=== silent async", flush=True)
asyncio.run(user.a_initiate_chat(remote, message="a story", max_turns=1, silent=True))
"""


def test_streamed_text_on_the_console_is_one_line_and_silent_chats_print_none(
    urls: dict[str, str],
) -> None:
    # A real process whose stdout is a pipe, as when output is not a terminal (issue 11).
    out = subprocess.run(
        [sys.executable, "-c", CONSOLE_CHAT, urls["storyteller"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    loud, _, rest = out.partition("=== silent\n")
    silent, _, silent_async = rest.partition("=== silent async\n")
    assert "\x1b[" not in out  # no colour codes into a pipe
    # Streamed on one line, then the received message as AG2 prints it.
    assert loud.splitlines().count("Once upon a time") == 2
    assert " upon" not in loud.splitlines()
    assert "Once" not in silent and "Once" not in silent_async


@pytest.mark.anyio
async def test_a_silent_chat_streams_nothing_to_the_iostream(urls: dict[str, str]) -> None:
    remote = A2AConversableAgent("storyteller", urls["storyteller"])
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    quiet, loud = Script(), Script()
    with IOStream.set_default(quiet):
        result = await user.a_initiate_chat(remote, message="a story", max_turns=1, silent=True)
    with IOStream.set_default(loud):
        await user.a_initiate_chat(remote, message="a story", max_turns=1)
    assert result.chat_history[-1]["content"] == "Once upon a time"
    assert quiet.streamed == []
    assert loud.streamed == ["Once", " upon", " a", " time"]
    await remote.aclose()


@pytest.mark.anyio
async def test_a2a_agent_error_is_a_readable_reply_or_raises(urls: dict[str, str]) -> None:
    polite = A2AConversableAgent("failing", urls["failing"])
    reply = await polite.a_generate_reply([{"role": "user", "content": "fill it up"}])
    assert reply == "[failing could not answer: remote task failed: the tank is empty]"
    strict = A2AConversableAgent("failing", urls["failing"], raise_errors=True)
    with pytest.raises(RemoteAgentError, match="the tank is empty"):
        strict.generate_reply([{"role": "user", "content": "fill it up"}])
    await polite.aclose()


def test_a2a_agent_unreachable_is_a_readable_reply() -> None:
    with running(to_a2a(echo_agent())) as url:
        pass  # the port is free again
    remote = A2AConversableAgent("gone", url, timeout=2)
    reply = remote.generate_reply([{"role": "user", "content": "anyone?"}])
    assert isinstance(reply, str) and reply.startswith("[gone could not answer: cannot reach")


@pytest.mark.anyio
async def test_a2a_agent_timeout_and_cancel() -> None:
    with slow_server() as (url, started, cancelled):
        impatient = A2AConversableAgent("slow", url, timeout=0.5, streaming=False)
        with anyio.fail_after(10):
            reply = await impatient.a_generate_reply([{"role": "user", "content": "quick?"}])
        assert reply == f"[slow could not answer: {url} did not answer in 0.5s]"
        # A blocking call learns its task's id only with the answer: that run goes on.

        remote = A2AConversableAgent("slow", url)
        started.clear()
        task = asyncio.create_task(remote.a_generate_reply([{"role": "user", "content": "wait"}]))
        await wait_for(started)
        await task_known(remote.conversation())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_for(cancelled)
        task_id = remote.conversation().task_id
        assert task_id is not None
        with anyio.fail_after(10):  # CANCELED is written once the run has stopped
            while (await remote.remote.get_task(task_id)).status.state != (
                TaskState.TASK_STATE_CANCELED
            ):
                await anyio.sleep(0.05)
        await remote.aclose()
        await impatient.aclose()


def test_group_chat_with_a_remote_member(urls: dict[str, str]) -> None:
    planner = scripted_user("planner", "unused")
    reviewer = ConversableAgent("reviewer", llm_config=False, human_input_mode="NEVER")
    reviewer.register_reply(
        [Agent, None],
        lambda recipient, messages, sender, config: (
            True,
            "TERMINATE" if "The sum is 12" in messages[-1]["content"] else "wrong",
        ),
    )
    adder = from_a2a(urls["adder"], name="adder")

    def by_description(last: Agent, chat: GroupChat) -> Agent:
        # The card's description is what tells the manager who can add.
        if last is planner:
            return next(a for a in chat.agents if "Adds" in a.description)
        return reviewer

    chat = GroupChat(
        [planner, adder, reviewer],
        messages=[],
        max_round=6,
        speaker_selection_method=by_description,
    )
    manager = GroupChatManager(chat, llm_config=False)
    planner.initiate_chat(manager, message="Please add 4, 5 and 3.")
    assert [(m["name"], m["content"]) for m in chat.messages] == [
        ("planner", "Please add 4, 5 and 3."),
        ("adder", "The sum is 12"),
        ("reviewer", "TERMINATE"),
    ]
    adder.close()


@pytest.mark.filterwarnings("ignore:Repetitive recipients detected:UserWarning")
def test_nested_and_sequential_chats(urls: dict[str, str]) -> None:
    remote = from_a2a(urls["echo"])
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    results = user.initiate_chats(
        [
            {"recipient": remote, "message": "one", "max_turns": 1, "summary_method": "last_msg"},
            {"recipient": remote, "message": "two", "max_turns": 1, "summary_method": "last_msg"},
        ]
    )
    assert results[0].summary == "echo #1 to user: one"
    # Each chat is new, so the second starts a new remote conversation (with the carryover).
    assert results[1].summary.startswith("echo #1 to user: two")

    outer = ConversableAgent("outer", llm_config=False, human_input_mode="NEVER")
    outer.register_nested_chats(
        [{"recipient": remote, "max_turns": 1, "summary_method": "last_msg"}], trigger=user
    )
    result = user.initiate_chat(outer, message="nested hello", max_turns=1)
    assert result.chat_history[-1]["content"] == "echo #1 to outer: nested hello"
    remote.close()


# --- A2AConversableAgent against AG2's own server ---


@pytest.mark.anyio
async def test_a2a_agent_against_ag2_server() -> None:
    served = Drafter("drafter", llm_config=False, human_input_mode="NEVER", description="Drafts.")
    with running(A2aAgentServer(served).build()) as url:  # a 0.3 card naming localhost:8000
        remote = from_a2a(url)
        assert remote.description == "Drafts."
        user = scripted_user("user", "again")
        result = await user.a_initiate_chat(remote, message="hi", max_turns=2)
        # AG2's server is stateless: by default it sees only the newest message ...
        assert [m["content"] for m in result.chat_history[1::2]] == ["draft 1", "draft 1"]
        stateless = from_a2a(url, send_history=True)
        user = scripted_user("user", "again")
        result = await user.a_initiate_chat(stateless, message="hi", max_turns=2)
        # ... and with send_history it sees the whole chat.
        assert [m["content"] for m in result.chat_history[1::2]] == ["draft 1", "draft 3"]
        await remote.aclose()
        await stateless.aclose()


# --- the reply machinery, beyond reply functions ---


@pytest.mark.anyio
async def test_human_input_answered_after_a_restart(tmp_path: Any) -> None:
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    with running(to_a2a(booker_agent(), store=store)) as url:
        async with sdk_client(url) as client:
            asked = await send(client, request("a weekend"))
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    # A new process has lost the waiting run: the reply runs again and takes the stored answer.
    with running(to_a2a(booker_agent(), store=store)) as url:
        async with sdk_client(url) as client:
            done = await send(
                client, request("Faro", context_id=asked.context_id, task_id=asked.id)
            )
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert answer_text(done) == "Booked Faro for a weekend"


@pytest.mark.anyio
async def test_code_execution_runs_as_in_a_local_chat(tmp_path: Any) -> None:
    agent = ConversableAgent(
        "coder",
        llm_config=False,
        human_input_mode="NEVER",
        code_execution_config={"work_dir": str(tmp_path), "use_docker": False},
    )
    with running(to_a2a(agent)) as url:
        async with RemoteAgent(url) as remote:
            reply = await remote.send("Run this:\n```python\nprint(6 * 7)\n```")
    assert "exitcode: 0" in reply.text
    assert "42" in reply.text
