"""A runner's `direct`: messages answered with one A2A Message and no task, over every
transport and version, remembered like any turn; a run that asks or fails still gets a task."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Iterator

import pytest
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

from a2a_bridges import Conversation, DataPart, InputRequired, RemoteAgent, Reply, Turn, to_a2a
from a2a_bridges.testing import running
from tests.bridges.conftest import GRPC, TRANSPORTS, sdk_client

pytestmark = pytest.mark.anyio


class Quick:
    """Answers messages that start with "quick" directly; counts the user turns it has seen."""

    def direct(self, turn: Turn) -> bool:
        return turn.text.startswith("quick")

    async def __call__(self, conversation: Conversation) -> AsyncGenerator[object, Turn]:
        text = conversation.text
        if text == "quick ask":
            yield InputRequired(())
        if text == "quick fail":
            raise RuntimeError("secret detail")
        if text == "quick data":
            yield Reply((DataPart({"n": 1}),))
            return
        yield "seen "
        yield str(sum(t.role == "user" for t in conversation.turns))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(to_a2a(Quick(), **({"grpc": "127.0.0.1:0"} if GRPC else {}))) as url:
        yield url


def request(text: str, context_id: str = "") -> SendMessageRequest:
    message = Message(
        message_id=uuid.uuid4().hex,
        role=Role.ROLE_USER,
        parts=[Part(text=text)],
        context_id=context_id,
    )
    return SendMessageRequest(message=message)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("reads_as_it_comes", [False, True], ids=["blocking", "streaming"])
async def test_a_direct_answer_is_one_message_and_keeps_the_conversation(
    url: str, transport: tuple[str, str], reads_as_it_comes: bool
) -> None:
    client, http = await sdk_client(url, *transport, streaming=reads_as_it_comes)
    try:
        first = [e async for e in client.send_message(request("quick one"))]
        assert [e.WhichOneof("payload") for e in first] == ["message"]
        answer = first[0].message
        assert answer.role == Role.ROLE_AGENT and not answer.task_id and answer.context_id
        assert [p.text for p in answer.parts] == ["seen 1"]
        # The same context, another direct message, then one that makes a task: one memory.
        again = [e async for e in client.send_message(request("quick two", answer.context_id))]
        assert [p.text for p in again[0].message.parts] == ["seen 2"]
        # A message the runner does not answer directly makes a task, in the same memory.
        tasked = [e async for e in client.send_message(request("slow", answer.context_id))]
        assert tasked[0].WhichOneof("payload") == "task"
        task = await client.get_task(GetTaskRequest(id=tasked[0].task.id))
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert "".join(p.text for a in task.artifacts for p in a.parts) == "seen 3"
    finally:
        await client.close()
        await http.aclose()


async def test_our_client_takes_a_direct_answer_and_goes_on(url: str) -> None:
    async with RemoteAgent(url) as remote:
        chat = remote.conversation()
        reply = await chat.send("quick one")
        assert reply.text == "seen 1" and reply.task_id is None and chat.context_id
        assert (await chat.send("slow")).text == "seen 2"
        assert (await chat.send("quick three")).text == "seen 3"
        data = await remote.send("quick data")
        assert data.data == {"n": 1}
        assert data.text == '{"n": 1}'  # the rendering for text-only callers


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("quick fail", "RuntimeError (reference "),
        ("quick ask", "the agent asked for input on a message it answers directly"),
    ],
)
async def test_a_direct_run_that_fails_or_asks_gets_a_failed_task(
    url: str, text: str, says: str
) -> None:
    client, http = await sdk_client(url, *TRANSPORTS[0].values[0], streaming=False)  # type: ignore[misc]
    try:
        events = [e async for e in client.send_message(request(text))]
    finally:
        await client.close()
        await http.aclose()
    assert len(events) == 1 and events[0].HasField("task")
    status = events[0].task.status
    assert status.state == TaskState.TASK_STATE_FAILED
    assert status.message.parts[0].text.startswith(says)
    assert "secret detail" not in status.message.parts[0].text
