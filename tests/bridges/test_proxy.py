"""The proxy (`a2a-bridges proxy URL`, `to_a2a(RemoteAgent(url))`): any A2A agent re-served by
us, against real servers on loopback (ours, ag2 1.x's, fasta2a, an a2a-sdk 0.3 one in a venv of
its own), and the pairs that fail directly, through it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from a2a.client import Client
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SubscribeToTaskRequest,
    TaskState,
)
from a2a.utils.constants import TransportProtocol
from google.protobuf import json_format
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

import a2a_bridges
from a2a_bridges import (
    AgentError,
    Conversation,
    DataPart,
    FilePart,
    Part,
    RemoteAgent,
    RemoteConversation,
    RemoteUnauthorized,
    TextPart,
    Turn,
)
from a2a_bridges.cli import main
from a2a_bridges.conversation import part_to_a2a, without_renderings
from a2a_bridges.proxy import NOTES, ProxyAdapter
from a2a_bridges.quirks import ag2_history, inline_history
from a2a_bridges.registry import adapter_for
from a2a_bridges.testing import running
from a2a_bridges.testing.script import PIXEL
from tests.bridges.conftest import GRPC, TRANSPORTS, Probe, sdk_client
from tests.bridges.test_cli import free_port, one_line_error, stop
from tests.bridges.test_server import final_task, request

pytestmark = pytest.mark.anyio

JSONRPC_1 = (TransportProtocol.JSONRPC, "1.0")


def proxy_of(url: str, **options: Any) -> Any:
    """The remote agent at `url`, re-served through the public `to_a2a`."""
    return a2a_bridges.to_a2a(RemoteAgent(url), **options)


@pytest.fixture
def proxy(server: str) -> Iterator[str]:
    """A proxy of the test agent (tests/bridges/conftest.py), over gRPC too where it can."""
    with running(proxy_of(server, **({"grpc": "127.0.0.1:0"} if GRPC else {}))) as url:
        yield url


@pytest.fixture(params=TRANSPORTS)
async def client(request: pytest.FixtureRequest, proxy: str) -> AsyncIterator[Client]:
    client, http = await sdk_client(proxy, *request.param)
    yield client
    await client.close()
    await http.aclose()


@contextlib.asynccontextmanager
async def sdk(url: str, streaming: bool = True) -> AsyncIterator[Client]:
    client, http = await sdk_client(url, *JSONRPC_1, streaming=streaming)
    try:
        yield client
    finally:
        await client.close()
        await http.aclose()


def status_text(task: Any) -> str:
    return "".join(p.text for p in task.status.message.parts)


# --- what the proxy serves ---


def test_a_remote_agent_is_served_by_the_proxy_adapter() -> None:
    assert isinstance(adapter_for(RemoteAgent("http://127.0.0.1:9")), ProxyAdapter)
    with pytest.raises(TypeError, match="unknown option"):
        ProxyAdapter().runner(RemoteAgent("http://127.0.0.1:9"), colour="red")


async def test_card_is_the_remotes_at_the_proxys_address(server: str, proxy: str) -> None:
    async with httpx.AsyncClient() as http:
        remote = (await http.get(server + "/.well-known/agent-card.json")).json()
        card = (await http.get(proxy + "/.well-known/agent-card.json")).json()
    for key in ("name", "description", "skills", "defaultInputModes", "defaultOutputModes"):
        assert card[key] == remote[key]
    assert card["capabilities"]["streaming"] is True
    bindings = ["JSONRPC", "HTTP+JSON"] + (["GRPC"] if GRPC else [])
    served = {(i["protocolBinding"], i["protocolVersion"]) for i in card["supportedInterfaces"]}
    assert served == {(b, v) for b in bindings for v in ("1.0", "0.3")}
    http_urls = [i["url"] for i in card["supportedInterfaces"] if i["protocolBinding"] != "GRPC"]
    assert all(u.startswith(proxy) for u in http_urls) and card["url"].startswith(proxy)


async def test_conversations_map_one_to_one(client: Client) -> None:
    events, text = await final_task(client, "one")
    context = next(e.task.context_id for e in events if e.HasField("task"))
    _, text = await final_task(client, "history a", context)
    # The remote's own memory answers: one proxy context is one remote conversation.
    assert text == "one | history a"
    _, text = await final_task(client, "history b")
    assert text == "history b"
    _, text = await final_task(client, "history again", context)
    assert text == "one | history a | history again"


async def test_text_streams_through_as_it_arrives(client: Client, probe: Probe) -> None:
    answer, chunks = "", []
    async for event in client.send_message(request("stream")):
        if event.HasField("artifact_update"):
            update = event.artifact_update
            text = "".join(p.text for p in update.artifact.parts)
            chunks.append(text)
            answer = answer + text if update.append else text
            if text == "first ":
                # The remote still waits: the first words came through before its end.
                assert not probe.finished.is_set()
                probe.gate.set()
    assert chunks[:2] == ["first ", "second"] and answer == "first second"


async def test_cancel_at_the_proxy_stops_the_remote_run(proxy: str, probe: Probe) -> None:
    task_ids: list[str] = []
    states: list[int] = []

    async def consume(client: Client) -> None:
        async for event in client.send_message(request("slow")):
            if event.HasField("task"):
                task_ids.append(event.task.id)
            elif event.HasField("status_update"):
                states.append(event.status_update.status.state)

    async with sdk(proxy) as client:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume, client)
                await anyio.to_thread.run_sync(probe.started.wait, 10)
                while not task_ids:
                    await asyncio.sleep(0.01)
                task = await client.cancel_task(CancelTaskRequest(id=task_ids[0]))
                assert task.status.state == TaskState.TASK_STATE_CANCELED
        # The remote agent's run itself saw the cancellation.
        assert await anyio.to_thread.run_sync(probe.cancelled.wait, 10)
    assert states[-1] == TaskState.TASK_STATE_CANCELED


async def test_input_required_and_the_answer_pass_through(client: Client, probe: Probe) -> None:
    events = [e async for e in client.send_message(request("ask"))]
    task_id = next(e.task.id for e in events if e.HasField("task"))
    task = await client.get_task(GetTaskRequest(id=task_id))
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert status_text(task) == "which colour?"
    _, text = await final_task_in(client, "green", task.context_id, task_id)
    assert text == "you chose green"
    assert probe.closed.is_set()  # the remote's own run took the answer and ended


async def final_task_in(
    client: Client, text: str, context_id: str, task_id: str
) -> tuple[list[Any], str]:
    events = [e async for e in client.send_message(request(text, context_id, task_id))]
    task = await client.get_task(GetTaskRequest(id=task_id))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    return events, "".join(p.text for a in task.artifacts for p in a.parts)


async def test_get_list_and_resubscribe_on_the_proxys_tasks(server: str, probe: Probe) -> None:
    started: list[str] = []
    seen: list[str] = []

    async def send(client: Client) -> None:
        async for event in client.send_message(request("stream")):
            if event.HasField("artifact_update"):
                started.append(event.artifact_update.task_id)

    with running(proxy_of(server, list_tasks=True)) as url:
        async with sdk(url) as client, sdk(url) as watcher, anyio.create_task_group() as tg:
            tg.start_soon(send, client)
            with anyio.fail_after(20):
                while not started:  # the first words came: the remote waits at the gate
                    await asyncio.sleep(0.01)
            async for event in watcher.subscribe(SubscribeToTaskRequest(id=started[0])):
                probe.gate.set()
                if event.HasField("artifact_update"):
                    seen.append("".join(p.text for p in event.artifact_update.artifact.parts))
            task = await client.get_task(GetTaskRequest(id=started[0]))
            listed = await client.list_tasks(ListTasksRequest(context_id=task.context_id))
    assert "second" in seen
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert "".join(p.text for a in task.artifacts for p in a.parts) == "first second"
    assert [t.id for t in listed.tasks] == [started[0]]


# --- parts, failures, the remote gone ---


def echo_parts(conversation: Conversation) -> Any:
    """Gives back every part of the message after its first, or fails when told to."""
    if conversation.text == "fail":
        raise AgentError("the tank is empty")
    return list(conversation.last.parts[1:])


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "blocking"])
async def test_data_and_file_parts_pass_loss_free(streaming: bool) -> None:
    sent: list[Part] = [
        DataPart({"n": 1, "items": [1, "two", None], "nested": {"ok": True}}),
        FilePart(bytes=PIXEL, media_type="image/png", name="dot.png"),
        FilePart(uri="https://example.com/a.pdf", media_type="application/pdf", name="a.pdf"),
    ]
    if not streaming:
        # Streamed, text is a stream of deltas; waited for, a text part keeps its metadata.
        sent.append(TextPart("kept", metadata={"lang": "en"}))
    with running(a2a_bridges.to_a2a(echo_parts)) as up, running(proxy_of(up)) as url:
        async with RemoteAgent(url, streaming=streaming) as remote:
            reply = await remote.send([TextPart("give back"), *sent])
    assert list(without_renderings(reply.parts)) == sent


async def test_a_streamed_data_answer_carries_its_rendering_once() -> None:
    value = {"answer": 42}
    parts: list[Any] = []
    with running(a2a_bridges.to_a2a(echo_parts)) as up, running(proxy_of(up)) as url:
        async with sdk(url) as client:
            message = request("give back")
            message.message.parts.add().CopyFrom(part_to_a2a(DataPart(value)))
            async for event in client.send_message(message):
                if event.HasField("artifact_update"):
                    update = event.artifact_update
                    parts = (
                        [*parts, *update.artifact.parts]
                        if update.append
                        else [*update.artifact.parts]
                    )
    # The remote's rendering streamed through as text: the end adds the data, not a second one.
    assert [p.text for p in parts if p.HasField("text")] == [json.dumps(value)]
    assert [json_format.MessageToDict(p.data) for p in parts if p.HasField("data")] == [value]


async def test_a_remote_failure_reaches_the_caller_with_its_text() -> None:
    with running(a2a_bridges.to_a2a(echo_parts)) as up, running(proxy_of(up)) as url:
        async with sdk(url) as client:
            events = [e async for e in client.send_message(request("fail"))]
            task = await client.get_task(GetTaskRequest(id=events[0].task.id))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert status_text(task) == "the tank is empty"


async def test_a_remote_gone_during_a_call_fails_naming_it() -> None:
    with running(a2a_bridges.to_a2a(echo_parts)) as up:
        app = proxy_of(up)  # the card is read while the remote still answers
    with running(app) as url:
        async with sdk(url) as client:
            events = [e async for e in client.send_message(request("hello"))]
            task = await client.get_task(GetTaskRequest(id=events[0].task.id))
    assert task.status.state == TaskState.TASK_STATE_FAILED
    assert status_text(task).startswith(f"cannot reach {up}")


def test_a_proxy_of_a_remote_that_is_down_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["proxy", url, "--store", "memory"]) == 1
    assert f"cannot reach {url}" in one_line_error(capsys)


# --- credentials ---


class Recorder:
    """Keeps the Authorization header of every POST the wrapped app receives."""

    def __init__(self, app: ASGIApp, seen: list[str | None]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            self.seen.append(Headers(scope=scope).get("authorization"))
        await self.app(scope, receive, send)


@pytest.fixture
def guarded() -> Iterator[tuple[str, list[str | None]]]:
    """A remote that lets in the proxy's token and the caller's, and records which it got."""
    seen: list[str | None] = []
    app = a2a_bridges.to_a2a(echo_parts, auth={"up-secret": "proxy", "in-secret": "caller"})
    app.add_middleware(Recorder, seen=seen)
    with running(app) as url:
        yield url, seen


@pytest.mark.parametrize("forward", [False, True], ids=["own", "forwarded"])
async def test_inbound_auth_and_upstream_credentials(
    guarded: tuple[str, list[str | None]], forward: bool
) -> None:
    up, seen = guarded
    remote = RemoteAgent(up, token="up-secret")
    app = a2a_bridges.to_a2a(remote, auth={"in-secret": "alice"}, forward_authorization=forward)
    with running(app) as url:
        async with RemoteAgent(url) as refused:
            with pytest.raises(RemoteUnauthorized):
                await refused.send("no token")
        async with RemoteAgent(url, token="in-secret") as caller:
            reply = await caller.send([TextPart("hi"), TextPart("through")])
    assert reply.text == "through"
    # Upstream, the proxy presents its own credentials; the caller's only when told to.
    assert seen == ["Bearer in-secret" if forward else "Bearer up-secret"]


# --- the command line, in real processes: restart, credentials ---


def served(url: str, proc: subprocess.Popen[bytes], seconds: float = 90) -> None:
    """Wait until `proc` serves its card at `url` (a busy machine takes its time to start)."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/.well-known/agent-card.json", timeout=1)
            return
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"{url} was not served: {proc.communicate()[1].decode()}")


def start_proxy(target: str, port: int, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "a2a_bridges", "proxy", target, "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served(f"http://127.0.0.1:{port}", proc)
    return proc


async def test_a_restarted_proxy_loses_no_conversation(
    server: str, probe: Probe, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = ["--store", f"sqlite:///{tmp_path / 'proxy.db'}"]
    proc = start_proxy(server, port, *store)
    try:
        async with RemoteAgent(url) as caller:
            chat = caller.conversation()
            assert (await chat.send("hello")).text == "echo: hello"
            question = await chat.send("ask")
            assert question.input_required and question.text == "which colour?"
    finally:
        stop(proc)
    proc = start_proxy(server, port, *store)
    try:
        async with RemoteAgent(url) as caller:
            again = RemoteConversation(caller, chat.context_id, pending=chat.pending)
            # The remote's question, asked before the restart, takes the answer after it.
            assert (await again.send("red")).text == "you chose red"
            assert (await again.send("history")).text == "hello | ask | red | history"
    finally:
        stop(proc)


async def test_command_line_credentials_both_ways(
    guarded: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    up, seen = guarded
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--store", "memory", "--token", "in-secret", "--upstream-token", "up-secret"]
    proc = start_proxy(up, port, *args, "--name", "relay")
    try:
        card = httpx.get(url + "/.well-known/agent-card.json").json()
        assert card["name"] == "relay" and "bearer" in card["securitySchemes"]
        assert httpx.post(url + "/", json={}).status_code == 401
        async with RemoteAgent(url, token="in-secret") as caller:
            assert (await caller.send([TextPart("x"), TextPart("ok")])).text == "ok"
    finally:
        stop(proc)
    assert seen == ["Bearer up-secret"]


# --- the pairs that fail directly, through the proxy ---


@pytest.fixture(scope="module")
def ag2_server() -> Iterator[str]:
    """ag2 1.x's own `A2AServer` (ag2 1.2.1): A2A 1.0 only, stateless, streaming."""
    pytest.importorskip("ag2")
    from a2a.types import AgentCard
    from ag2 import Agent
    from ag2.a2a import A2AServer

    from a2a_bridges.adapters.participants.ag2_next import ScriptedConfig, TextOrData

    where: dict[str, str] = {}

    async def at_address(card: AgentCard) -> AgentCard:
        # The app is built before its port is known: the card names it once it is.
        served = AgentCard()
        served.CopyFrom(card)
        for interface in served.supported_interfaces:
            interface.url = where["url"]
        return served

    config = ScriptedConfig("assistant", lambda _: None)
    agent = Agent("assistant", "A scripted assistant.", config=config, response_schema=TextOrData())
    server = A2AServer(agent, card_modifier=at_address)
    with running(server.build_jsonrpc(url="http://127.0.0.1:1/")) as url:
        where["url"] = f"{url}/"
        yield url


def _classic() -> tuple[Any, Any, Any]:
    pytest.importorskip("autogen")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImportWarning)
        from autogen import ConversableAgent
        from autogen.a2a import A2aRemoteAgent
        from autogen.events.client_events import StreamEvent
    return ConversableAgent, A2aRemoteAgent, StreamEvent


class Streamed:
    """An AG2 classic IOStream that keeps what was streamed to it."""

    def __init__(self, stream_event: Any) -> None:
        self.stream_event = stream_event
        self.pieces: list[str] = []

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        pass

    def send(self, message: Any) -> None:
        if isinstance(message, self.stream_event):
            self.pieces.append(message.content.content)

    async def input(self, prompt: str = "", *, password: bool = False) -> str:
        raise AssertionError(f"nothing should be asked: {prompt!r}")


def classic_user(conversable: Any, *lines: str) -> Any:
    """An AG2 classic agent that says `lines` in turn."""
    user = conversable("user", llm_config=False, human_input_mode="NEVER")
    said = iter(lines)
    user.register_reply([conversable, None], lambda *_, **__: (True, next(said)))
    return user


async def test_ag2_classic_client_reaches_an_ag2_1x_server_through_the_proxy(
    ag2_server: str,
) -> None:
    conversable, remote_agent, stream_event = _classic()
    from a2a.utils.errors import VersionNotSupportedError
    from autogen.io.base import IOStream

    user = classic_user(conversable, "recall")
    with pytest.raises(VersionNotSupportedError):  # it reads only 0.3; the card lists 1.0
        await user.a_initiate_chat(remote_agent(url=ag2_server, name="a"), message="x")
    with running(proxy_of(ag2_server)) as url:
        assistant = remote_agent(url=url, name="assistant")
        streamed = Streamed(stream_event)
        with IOStream.set_default(streamed):
            chat = await classic_user(conversable, "recall").a_initiate_chat(
                assistant, message="remember kiwi", max_turns=2
            )
    said = [m["content"] for m in chat.chat_history]
    # The stateless remote got the conversation from the proxy, so it recalls.
    assert said == [
        "remember kiwi",
        "I will remember kiwi.",
        "recall",
        "You asked me to remember kiwi.",
    ]
    assert len(streamed.pieces) > 2 and "".join(streamed.pieces).startswith("I will remember")


SDK03 = Path(tempfile.gettempdir()) / "a2a-bridges-sdk03"
SDK03_NEEDS = ["a2a-sdk[http-server]>=0.3,<0.4", "uvicorn"]


def _sdk03_build() -> list[list[str]]:
    """The commands that make the a2a-sdk 0.3 venv: with uv where there is one, else pip."""
    python = str(SDK03 / "bin" / "python")
    if uv := shutil.which("uv"):
        venv = [uv, "venv", "-q", "--allow-existing", "-p", sys.executable, str(SDK03)]
        return [venv, [uv, "pip", "install", "-q", "-p", python, *SDK03_NEEDS]]
    venv = [sys.executable, "-m", "venv", str(SDK03)]
    return [venv, [python, "-m", "pip", "install", "-q", *SDK03_NEEDS]]


@pytest.fixture(scope="module")
def sdk03_python() -> Path:
    """A venv with a2a-sdk 0.3, built once (a2a-bridges needs 1.x), or a skip saying why."""
    python = SDK03 / "bin" / "python"
    check = [str(python), "-c", "import a2a.server.apps, uvicorn"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    for command in _sdk03_build():
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot build an a2a-sdk 0.3 venv at {SDK03}: {exc}")
        if done.returncode != 0:
            pytest.skip(f"cannot build an a2a-sdk 0.3 venv at {SDK03}: {done.stderr.strip()}")
    return python


@pytest.fixture(scope="module")
def sdk03_server(sdk03_python: Path) -> Iterator[str]:
    """An a2a-sdk 0.3 server in a process of its own (tests/bridges/sdk03_server.py)."""
    port = free_port()
    script = Path(__file__).with_name("sdk03_server.py")
    proc = subprocess.Popen(
        [str(sdk03_python), str(script), str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    served(url, proc)
    try:
        yield url
    finally:
        stop(proc)


async def ag2_streamed(agent: Any, text: str) -> tuple[Any, list[str]]:
    """An ag2 1.x agent's reply to `text`, and the chunks its stream carried."""
    from ag2.events import ModelMessageChunk

    chunks: list[str] = []

    async def chunk(event: ModelMessageChunk) -> None:
        chunks.append(event.content)

    async with agent.run(text) as run:
        run.stream.where(ModelMessageChunk).subscribe(chunk)
        reply = await run.result()
    return reply, chunks


async def test_ag2_1x_client_reaches_an_sdk_03_server_through_the_proxy(
    sdk03_server: str,
) -> None:
    pytest.importorskip("ag2")
    from ag2 import Agent
    from ag2.a2a import A2AConfig
    from ag2.a2a.errors import A2AIncompatibleProtocolVersionError

    direct = Agent("caller", config=A2AConfig(card_url=sdk03_server))  # type: ignore[abstract]
    with pytest.raises(A2AIncompatibleProtocolVersionError):  # it refuses anything below 1.0
        await direct.ask("hello")
    with running(proxy_of(sdk03_server)) as url:
        caller = Agent("caller", config=A2AConfig(card_url=url))  # type: ignore[abstract]
        first, chunks = await ag2_streamed(caller, "hello")
        assert first.body == "turn 1: hello" and "".join(chunks) == first.body
        assert len(chunks) > 2
        second = await first.ask("again")
        other = await caller.ask("elsewhere")
    # The 0.3 agent counts the turns of its own conversation: the proxy kept it one to one.
    assert second.body == "turn 2: again"
    assert other.body == "turn 1: elsewhere"


def counting_agent() -> Any:
    """A Pydantic AI agent that says how many requests its conversation holds, streaming."""
    from pydantic_ai import Agent
    from pydantic_ai import messages as ai
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def answer(messages: Sequence[ai.ModelMessage]) -> str:
        asked = [p for m in messages for p in m.parts if isinstance(p, ai.UserPromptPart)]
        return f"turn {len(asked)}: {asked[-1].content}"

    def whole(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        return ai.ModelResponse([ai.TextPart(answer(messages))])

    async def pieces(messages: list[ai.ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for word in answer(messages).split(" "):
            yield word + " "

    return Agent(FunctionModel(whole, stream_function=pieces), name="counter")


async def test_sdk_client_reaches_fasta2a_through_the_proxy() -> None:
    fasta2a = pytest.importorskip("fasta2a.pydantic_ai")
    from google.protobuf.json_format import ParseError

    app = fasta2a.agent_to_a2a(counting_agent())
    with running(app) as up:
        app.url = up  # its card names localhost:8000 otherwise
        async with sdk(up) as direct:
            with pytest.raises(ParseError, match="timestamp"):  # fasta2a's naive timestamps
                [e async for e in direct.send_message(request("hello"))]
        with running(proxy_of(up)) as url:
            async with sdk(url) as client:
                chunks: list[str] = []
                async for event in client.send_message(request("hello")):
                    if event.HasField("task"):
                        context = event.task.context_id
                    if event.HasField("artifact_update"):
                        chunks += [p.text for p in event.artifact_update.artifact.parts]
                _, second = await final_task(client, "again", context)
    assert "".join(chunks).strip() == "turn 1: hello" and len([c for c in chunks if c]) > 2
    assert second.strip() == "turn 2: again"


# --- the quirk the proxy writes ---


def test_ag2_history_is_what_ag2_clients_send() -> None:
    turns = [
        Turn("user", (TextPart("hi"), DataPart({"n": 1}))),
        Turn("agent", (TextPart("hello"),)),
        Turn("user", (FilePart(bytes=PIXEL, media_type="image/png"),)),
    ]
    read = inline_history(Turn("user", (TextPart("next"), ag2_history(turns))))
    assert read is not None
    history, last = read
    assert [(t.role, t.parts) for t in history] == [(t.role, t.parts) for t in turns]
    assert last.parts == (TextPart("next"),)


async def test_notes_are_never_sent_to_the_caller(server: str, proxy: str) -> None:
    async with sdk(proxy) as client:
        events = [e async for e in client.send_message(request("hello"))]
        task = await client.get_task(GetTaskRequest(id=events[0].task.id))
    assert NOTES not in str(task) and NOTES not in str(events)
