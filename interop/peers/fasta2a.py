"""fasta2a (`fasta2a[pydantic-ai]`): its `A2AClient`, and `agent_to_a2a` serving a Pydantic AI
agent on a scripted `FunctionModel`."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fasta2a.client import A2AClient
from fasta2a.pydantic_ai import agent_to_a2a
from pydantic_ai import Agent
from pydantic_ai import messages as ai
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from interop.driver import Client, Peer, Seen, Server, Talk, main, script

_ENDED = ("completed", "failed", "canceled", "rejected", "input-required")


def _request(messages: list[ai.ModelMessage]) -> Any:
    turns = []
    for message in messages:
        if isinstance(message, ai.ModelResponse):
            turns.append(("agent", message.text or ""))
        else:
            prompts = [p for p in message.parts if isinstance(p, ai.UserPromptPart)]
            turns += [("user", p.content) for p in prompts if isinstance(p.content, str)]
    text = turns.pop()[1] if turns else ""
    return script.respond("assistant", script.Request(text, tuple(turns)))


async def _reply(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
    action = _request(messages)
    if isinstance(action, script.Give):
        return ai.ModelResponse([ai.ToolCallPart(info.output_tools[0].name, action.value)])
    if isinstance(action, script.Say):
        return ai.ModelResponse([ai.TextPart(action.text)])
    raise RuntimeError(action.message if isinstance(action, script.Fail) else "not scripted")


async def _stream(
    messages: list[ai.ModelMessage], info: AgentInfo
) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
    action = _request(messages)
    if isinstance(action, script.Give):
        tool = info.output_tools[0].name
        yield {0: DeltaToolCall(name=tool, json_args=json.dumps(action.value))}
    elif isinstance(action, script.Say):
        for piece in script.chunks(action.text):
            yield piece
            await asyncio.sleep(0)
    else:
        raise RuntimeError(action.message if isinstance(action, script.Fail) else "not scripted")


def _app(url: str, grpc_url: str) -> Any:
    model = FunctionModel(_reply, stream_function=_stream, model_name="scripted")
    agent = Agent(model, output_type=[str, script.Verdict], name="fasta2a-interop")
    return agent_to_a2a(agent, url=url)


def _seen(task: dict[str, Any], deltas: list[str]) -> Seen:
    """What a fasta2a user shows: the artifacts' text, then the status message's."""
    parts = [p for a in task.get("artifacts") or [] for p in a.get("parts") or []]
    parts += (task["status"].get("message") or {}).get("parts") or []
    text = "".join(p.get("text") or "" for p in parts)
    if task["status"]["state"] in ("failed", "rejected"):
        return Seen(error=f"task {task['status']['state']}: {text}")
    data = [p["data"] for p in parts if "data" in p]
    return Seen(text=text, data=data[0] if data else None, deltas=deltas)


async def _ask(url: str, talk: Talk) -> list[Seen]:
    """Sends each message; a task not done yet is polled, as fasta2a's client leaves it."""
    async with httpx.AsyncClient(timeout=30) as http:
        client = A2AClient(url, http_client=http)
        seen, context_id, task_id = [], None, ""
        for text in talk.texts:
            message: Any = {
                "role": "user",
                "parts": [{"text": text}],
                "message_id": uuid.uuid4().hex,
            }
            if context_id:
                message["context_id"] = context_id
            deltas: list[str] = []
            if talk.stream:
                async for event in client.stream_message(message):
                    result: Any = event.get("result") or {}
                    update = result.get("artifact_update") or {}
                    deltas += [
                        p.get("text") or "" for p in update.get("artifact", {}).get("parts", [])
                    ]
                    found = result.get("task") or result.get("status_update") or update
                    task_id = found.get("id") or found.get("task_id") or task_id
            else:
                response: Any = await client.send_message(message)
                if "error" in response:
                    seen.append(Seen(error=str(response["error"])))
                    continue
                if "task" not in response["result"]:
                    # fasta2a's client reads A2A 1.0 answers to the 0.3 method names it sends.
                    got = response["result"].get("kind", "answer")
                    seen.append(Seen(error=f"its client finds no 1.0 task in an A2A 0.3 {got}"))
                    continue
                task_id = response["result"]["task"]["id"]
            for _ in range(300):
                task: dict[str, Any] = dict((await client.get_task(task_id)).get("result") or {})
                if task.get("status", {}).get("state") in _ENDED:
                    break
                await asyncio.sleep(0.1)
            context_id = task.get("context_id")
            seen.append(_seen(task, [d for d in deltas if d]))
        return seen


PEER = Peer(
    packages=["fasta2a", "pydantic-ai-slim"],
    clients={"A2AClient": Client(_ask)},
    servers={"agent_to_a2a": Server(_app)},
)

if __name__ == "__main__":
    sys.exit(main(PEER))
