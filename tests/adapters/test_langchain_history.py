"""Issue 11, items 2 and 3: an `A2ARunnable` called with a whole chat and no thread sends the
whole chat, and a served runnable that cannot see the earlier turns says so."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

import logging
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from a2a_bridges import Conversation, RemoteAgent
from a2a_bridges.adapters import functions
from a2a_bridges.adapters.langchain import STATELESS, A2ARunnable, to_a2a
from a2a_bridges.cli import main
from a2a_bridges.testing import running

HISTORY = [HumanMessage("hello", name="ann"), AIMessage("hi ann"), HumanMessage("second")]


def turns_seen(conversation: Conversation) -> str:
    """Every turn it was given: role, speaker, text."""
    return " | ".join(
        f"{t.role}{'/' + t.name if t.name else ''}: {t.text}" for t in conversation.turns
    )


def messages_seen(prompt: PromptValue) -> str:
    """Every message a prompt made: type and text."""
    return " | ".join(f"{m.type}: {m.text}" for m in prompt.to_messages())


def chain(*messages: Any) -> Runnable[Any, Any]:
    """A prompt, then a 'model' that tells the messages the prompt made."""
    return ChatPromptTemplate.from_messages(list(messages)) | RunnableLambda(messages_seen)


two_texts = chain(("human", "{question} in {language}"))


@pytest.fixture
def turns_url() -> Iterator[str]:
    with running(functions.to_a2a(turns_seen)) as url:
        yield url


# --- item 2: the whole chat reaches the remote agent ---


@pytest.mark.anyio
async def test_without_a_thread_every_message_is_sent(turns_url: str) -> None:
    remote = A2ARunnable(turns_url)
    said = "user/ann: hello | agent: hi ann | user: second"
    assert (await remote.ainvoke(HISTORY)).text == said
    assert (await remote.ainvoke({"messages": HISTORY}))["messages"][0].text == said
    assert "".join([c.text async for c in remote.astream(HISTORY)]) == said
    assert remote.invoke(HISTORY).text == said
    assert "".join(c.text for c in remote.stream(HISTORY)) == said
    # One message is just that message.
    assert (await remote.ainvoke("alone")).text == "user: alone"
    # The last message is what the caller says now, even another agent's answer.
    relayed = [HumanMessage("plan a trip"), AIMessage("Lisbon, 3 days", name="planner")]
    assert (
        await remote.ainvoke(relayed)
    ).text == "user: plan a trip | user/planner: Lisbon, 3 days"
    await remote.aclose()
    remote.close()


@pytest.mark.anyio
async def test_in_a_thread_only_the_new_messages_are_sent(turns_url: str) -> None:
    remote = A2ARunnable(turns_url)
    thread: RunnableConfig = {"configurable": {"thread_id": "t"}}
    first = await remote.ainvoke(HISTORY, thread)
    assert first.text == "user: second"
    # The remote agent remembers the thread's conversation itself.
    later = await remote.ainvoke([*HISTORY, first, HumanMessage("third")], thread)
    assert later.text == "user: second | agent: user: second | user: third"
    await remote.aclose()


@pytest.mark.anyio
async def test_a_served_chain_sees_the_chat_as_its_history() -> None:
    served = chain(MessagesPlaceholder("history"), ("human", "{input}"))
    with running(to_a2a(served)) as url:
        remote = A2ARunnable(url)
        answer = await remote.ainvoke(HISTORY)
        await remote.aclose()
    assert answer.text == "human: hello | ai: hi ann | human: second"


# --- item 3: a served runnable that cannot see the earlier turns says so ---


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["history", "chat_history"])
async def test_a_chain_with_a_messages_placeholder_keeps_the_conversation(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="a2a_bridges.adapters.langchain"):
        app = to_a2a(chain(("system", "Be brief."), MessagesPlaceholder(key), ("human", "{q}")))
    assert not caplog.records
    with running(app) as url:
        async with RemoteAgent(url) as remote:
            card = await remote.card()
            conversation = remote.conversation()
            await conversation.send("one")
            answer = await conversation.send("two")
    assert STATELESS not in card.description
    assert (
        answer.text
        == "system: Be brief. | human: one | ai: system: Be brief. | human: one | human: two"
    )


@pytest.mark.anyio
async def test_a_chain_without_history_warns_and_its_card_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="a2a_bridges.adapters.langchain"):
        app = to_a2a(chain(("human", "{input}")))
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("RunnableSequence takes only the new message's text")
    assert 'add MessagesPlaceholder("history") to its prompt (next to {input})' in warning
    with running(app) as url:
        async with RemoteAgent(url) as remote:
            card = await remote.card()
            conversation = remote.conversation()
            await conversation.send("one")
            answer = await conversation.send("two")
    assert card.description == f"RunnableSequence {STATELESS}"
    assert answer.text == "human: two"  # what the card said: it did not see "one"


def test_two_text_variables_are_named_with_the_fix(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError) as refused:
        to_a2a(two_texts)
    assert str(refused.value) == (
        "cannot tell which input of RunnableSequence takes the message: it takes language, "
        "question (text) and no (messages); name one, as in to_a2a(runnable, "
        "input_key='language') or a2a-bridges serve ... -o input_key=language"
    )
    # The command line says it in one line.
    target = "tests.adapters.test_langchain_history:two_texts"
    assert main(["serve", target, "--store", "memory"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "-o input_key=language" in err
    # Named, it serves, and is marked stateless like any runnable without history.
    with caplog.at_level(logging.WARNING, logger="a2a_bridges.adapters.langchain"):
        app = to_a2a(two_texts, input_key="question")
    assert "next to {question}" in caplog.records[0].getMessage()
    with running(app) as url:
        remote = RemoteAgent(url)
        assert STATELESS in remote.card_sync().description
        remote.close()
