"""langgraph-a2a: a LangGraph graph served by its `GenericAgentExecutor` (a server only)."""

from __future__ import annotations

import json
import operator
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph_a2a.base_utils.checkpointer import compile_with_default_checkpointer
from langgraph_a2a.executor.agent_executor import GenericAgentExecutor
from langgraph_a2a.server import create_app
from typing_extensions import TypedDict

from interop.driver import Peer, Server, main, script


class State(TypedDict, total=False):
    """langgraph-a2a's input (`user_input`), the graph's answer, and the turns so far."""

    user_input: str
    output: str
    turns: Annotated[list[tuple[str, str]], operator.add]


async def answer(state: State) -> State:
    """The script, said through a chat model so that langgraph-a2a streams its tokens."""
    text = state.get("user_input", "")
    action = script.respond("assistant", script.Request(text, tuple(state.get("turns", []))))
    if isinstance(action, script.Give):
        said = json.dumps(action.value)
    elif isinstance(action, script.Say):
        said = action.text
    else:
        raise RuntimeError(action.message if isinstance(action, script.Fail) else "not scripted")
    model = GenericFakeChatModel(messages=iter([AIMessage(said)]))
    reply = await model.ainvoke(text)
    return {"output": str(reply.content), "turns": [("user", text), ("agent", said)]}


def _app(url: str, grpc_url: str) -> Any:
    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    graph = compile_with_default_checkpointer(builder)
    host, _, port = url.removeprefix("http://").partition(":")
    config = {
        "host": host,
        "port": int(port),
        "protocol": "http",
        "agent_card": {
            "name": "langgraph-a2a-interop",
            "description": "The interop script as a LangGraph graph.",
            "version": "1.0.0",
            "skills": [{"id": "chat", "name": "chat", "description": "The script."}],
            "capabilities": {"streaming": True},
        },
    }
    path = Path(tempfile.mkdtemp()) / "app_config.json"
    path.write_text(json.dumps(config))
    executor = GenericAgentExecutor(agent_impl=graph)
    return create_app({"executor": executor, "local_config_path": path, "name": "interop"})


PEER = Peer(packages=["langgraph-a2a", "langgraph", "a2a-sdk"], servers={"graph": Server(_app)})

if __name__ == "__main__":
    sys.exit(main(PEER))
