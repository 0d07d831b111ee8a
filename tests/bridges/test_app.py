"""`to_a2a` options: card overrides, streaming off, skills, and memory kept per user."""

from __future__ import annotations

import httpx
import pytest

from bridges import Conversation, RemoteAgent, to_a2a
from bridges.testing import running

pytestmark = pytest.mark.anyio


async def history(conversation: Conversation) -> str:
    """Lists what the user said in this conversation."""
    who = conversation.user or "anonymous"
    return who + ": " + " | ".join(t.text for t in conversation.turns if t.role == "user")


async def test_card_options() -> None:
    app = to_a2a(
        history,
        name="historian",
        description="Remembers.",
        skills=["recall", {"id": "forget", "description": "Forgets.", "examples": ["forget it"]}],
        streaming=False,
        url="https://agents.example.com/historian",
    )
    with running(app) as url:
        card = httpx.get(url + "/.well-known/agent-card.json").json()
    assert card["name"] == "historian" and card["description"] == "Remembers."
    assert card["capabilities"]["streaming"] is False
    assert [s["id"] for s in card["skills"]] == ["recall", "forget"]
    assert card["skills"][1]["examples"] == ["forget it"]
    assert {i["url"].rstrip("/") for i in card["supportedInterfaces"]} == {
        "https://agents.example.com/historian"
    }


async def test_defaults_come_from_the_function() -> None:
    with running(to_a2a(history)) as url:
        card = httpx.get(url + "/.well-known/agent.json").json()
        async with RemoteAgent(url, streaming=True) as remote:
            # streaming is on by default; the reply is the same either way
            assert (await remote.send("x")).text == "anonymous: x"
    assert card["name"] == "history"
    assert card["description"] == "Lists what the user said in this conversation."


async def test_memory_is_kept_per_user() -> None:
    tokens = {"alice-token": "alice", "bob-token": "bob"}
    with running(to_a2a(history, auth=tokens)) as url:
        async with (
            RemoteAgent(url, headers={"Authorization": "Bearer alice-token"}) as alice,
            RemoteAgent(url, headers={"Authorization": "Bearer bob-token"}) as bob,
        ):
            assert (await alice.send("secret plan")).text == "alice: secret plan"
            # Bob names Alice's context: he gets a conversation of his own, not hers.
            reply = await bob.send("what was said?", context_id=alice.context_id)
            assert reply.text == "bob: what was said?"
            assert (await alice.send("more")).text == "alice: secret plan | more"
            with pytest.raises(Exception, match="not found"):
                await bob.get_task(alice.task_id)
