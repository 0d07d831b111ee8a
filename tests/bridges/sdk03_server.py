"""An agent on a2a-sdk 0.3 (as crewai, strands-agents and beeai pin it), run in a venv of its own:
`python sdk03_server.py PORT`. It counts the user turns of each contextId, streams its answer a
word at a time, asks when told `ask`, and fails when told `fail`.

It imports only a2a-sdk 0.3 and uvicorn, never a2a_bridges (which needs a2a-sdk 1.x).
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

import uvicorn
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.apps import A2AStarletteApplication
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentSkill, Part, TextPart
from a2a.utils import new_task


class Counting(AgentExecutor):
    """Answers `turn N: TEXT`, N the user turns its context has seen."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        task = context.current_task
        if task is None:
            task = new_task(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        text = context.get_user_input()
        self.seen[task.context_id] += 1
        if text == "ask":
            question = updater.new_agent_message([Part(root=TextPart(text="which colour?"))])
            await updater.requires_input(question, final=True)
            return
        if text == "fail":
            reason = updater.new_agent_message([Part(root=TextPart(text="the 0.3 agent broke"))])
            await updater.failed(reason)
            return
        answer = f"turn {self.seen[task.context_id]}: {text}"
        words = answer.split(" ")
        for i, word in enumerate(words):
            chunk = word if i == len(words) - 1 else word + " "
            await updater.add_artifact(
                [Part(root=TextPart(text=chunk))],
                artifact_id="answer",
                append=i > 0,
                last_chunk=i == len(words) - 1,
            )
            await asyncio.sleep(0.01)
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def main() -> None:
    port = int(sys.argv[1])
    card = AgentCard(
        name="counter-03",
        description="Counts the turns of each conversation (a2a-sdk 0.3).",
        url=f"http://127.0.0.1:{port}/",
        version="1.0.0",
        protocol_version="0.3.0",
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="count", name="count", description="Counts turns.", tags=["count"])],
    )
    handler = DefaultRequestHandler(agent_executor=Counting(), task_store=InMemoryTaskStore())
    app = A2AStarletteApplication(agent_card=card, http_handler=handler).build()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
