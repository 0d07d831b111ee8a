"""`to_a2a` options: card overrides, streaming off, skills, and memory kept per user."""

from __future__ import annotations

import json

import httpx
import pytest

from a2a_bridges import Conversation, RemoteAgent, RemoteAgentError, to_a2a
from a2a_bridges.testing import running

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
            chat = alice.conversation()
            assert (await chat.send("secret plan")).text == "alice: secret plan"
            # Bob names Alice's context: he gets a conversation of his own, not hers.
            reply = await bob.send("what was said?", context_id=chat.context_id)
            assert reply.text == "bob: what was said?"
            assert (await chat.send("more")).text == "alice: secret plan | more"
            assert chat.task_id is not None
            with pytest.raises(Exception, match="not found"):
                await bob.get_task(chat.task_id)


async def test_card_caching_headers() -> None:
    with running(to_a2a(history)) as url:
        async with httpx.AsyncClient() as http:
            first = await http.get(url + "/.well-known/agent-card.json")
            etag = first.headers["etag"]
            assert first.headers["cache-control"] == "public, max-age=300"
            assert first.headers["last-modified"].endswith("GMT")
            again = await http.get(url + "/.well-known/agent.json", headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
            other = await http.get(
                url + "/.well-known/agent-card.json", headers={"If-None-Match": '"other"'}
            )
            assert other.status_code == 200 and other.json() == first.json()
            # A caller that reached another address gets that address on the card.
            moved = await http.get(url + "/.well-known/agent-card.json", headers={"Host": "a.test"})
            assert moved.json()["supportedInterfaces"][0]["url"].startswith("http://a.test")
            assert moved.headers["etag"] != etag


async def test_versions_option_serves_a_1_0_only_card() -> None:
    with running(to_a2a(history, versions=["1.0"])) as url:
        async with httpx.AsyncClient() as http:
            card = (await http.get(url + "/.well-known/agent-card.json")).json()
            old = await http.post(
                url + "/",
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "message/send",
                    "params": {
                        "message": {
                            "kind": "message",
                            "messageId": "m",
                            "role": "user",
                            "parts": [{"kind": "text", "text": "hi"}],
                        }
                    },
                },
            )
    assert {i["protocolVersion"] for i in card["supportedInterfaces"]} == {"1.0"}
    assert "url" not in card and "protocolVersion" not in card  # no 0.3 fields
    assert "error" in old.json()
    with pytest.raises(ValueError, match=r"versions must include 1\.0"):
        to_a2a(history, versions=["0.3"])


def test_unknown_server_option_is_refused() -> None:
    with pytest.raises(TypeError, match="plain function takes no option stremaing"):
        to_a2a(history, stremaing=False)


async def test_list_tasks_only_where_callers_authenticate() -> None:
    list_request = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
    headers = {"A2A-Version": "1.0"}
    with running(to_a2a(history)) as url:
        async with RemoteAgent(url) as remote:
            await remote.send("my card number is 4111-1111-1111-1111")
        async with httpx.AsyncClient() as http:
            listed = (await http.post(url + "/", json=list_request, headers=headers)).json()
    assert listed["result"].get("tasks", []) == []  # anyone could call: nobody lists
    tokens = {"alice-token": "alice", "bob-token": "bob"}
    with running(to_a2a(history, auth=tokens)) as url:
        for who in ("alice", "bob"):
            async with RemoteAgent(url, token=f"{who}-token") as remote:
                await remote.send(f"{who} was here")
        async with httpx.AsyncClient() as http:
            auth = {**headers, "Authorization": "Bearer alice-token"}
            listed = (await http.post(url + "/", json=list_request, headers=auth)).json()
    tasks = listed["result"]["tasks"]
    assert len(tasks) == 1  # alice sees her own task only
    assert "alice was here" in json.dumps(tasks[0])


async def test_an_internal_error_reaches_the_caller_as_a_reference(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncpg

    with running(to_a2a(history, store=postgres_url)) as url:
        async with RemoteAgent(url) as remote:
            assert (await remote.send("one")).text == "anonymous: one"
            conn = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
            await conn.execute("DROP TABLE tasks")  # the database breaks under the server
            await conn.close()
            with pytest.raises(RemoteAgentError) as info:
                await remote.send("two")
    message = info.value.message
    assert "internal error (reference " in message
    for secret in ("tasks", "SELECT", "INSERT", "relation", "postgres", "a2a_bridges_test"):
        assert secret not in message.split("reference")[0], message
    reference = message.split("reference ")[1].split(")")[0]
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


async def test_health_needs_no_credentials() -> None:
    with running(to_a2a(history, auth="s3cret")) as url:
        async with httpx.AsyncClient() as http:
            health = await http.get(url + "/health")
            refused = await http.post(url + "/", json={})
    assert health.status_code == 200 and health.json() == {"status": "ok", "running_tasks": 0}
    assert refused.status_code == 401


async def test_api_keys_as_well_as_bearer_tokens() -> None:
    app = to_a2a(history, auth={"tok": "alice"}, api_keys={"key-1": "bob"})
    with running(app) as url:
        async with RemoteAgent(url, api_key="key-1") as bob:
            assert (await bob.send("hi")).text == "bob: hi"
            card = await bob.card()
        async with RemoteAgent(url, token="tok") as alice:
            assert (await alice.send("hi")).text == "alice: hi"
        with pytest.raises(RemoteAgentError):
            await RemoteAgent(url, api_key="wrong").send("hi")
    assert set(card.security_schemes) == {"bearer", "api_key"}
    assert card.security_schemes["api_key"].api_key_security_scheme.name == "X-API-Key"
