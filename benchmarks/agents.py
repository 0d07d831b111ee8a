"""The instant, deterministic agent the throughput benchmark serves, written once per framework.

Each agent answers `echo: TEXT` to the message `TEXT`, through its framework's own machinery:
a Pydantic AI `Agent` on a `FunctionModel`, a LangChain fake chat model, an AG2 classic
`ConversableAgent` with a registered reply, an ag2 1.x `Agent` on a model config of its own, a
google-adk `BaseAgent` that yields one event. `floor_call` gives, for each, the framework's own
call that a hand-written a2a-sdk executor makes (the framework floor): `agent.run`, `ainvoke`,
`a_generate_reply`, `Agent.ask`, an ADK `Runner.run_async` in a new session. a2a-bridges has no
ADK adapter, so `SERVED_AS_FUNCTION` names it: ours serves that call as a plain function.
Frameworks are imported only when their agent is built, so a server loads one framework.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any

MODULES = {
    "pydantic_ai": "pydantic_ai",
    "langchain": "langchain_core",
    "autogen": "autogen",
    "ag2": "ag2",
    "adk": "google.adk",
}
"""Each framework the benchmarks serve, and the module that tells whether it is installed."""
FRAMEWORKS = tuple(MODULES)
SERVED_AS_FUNCTION = frozenset({"adk"})
"""Frameworks a2a-bridges has no adapter for: ours serves their floor call as a function."""

Call = Callable[[str], Awaitable[str]]


def installed(framework: str) -> bool:
    """Whether the framework can be imported here (`nox -s bench` installs them all)."""
    return importlib.util.find_spec(MODULES[framework]) is not None


def echo_text(text: str) -> str:
    """What every benchmark agent answers."""
    return "echo: " + text


def pydantic_ai_agent() -> Any:
    """A Pydantic AI agent whose `FunctionModel` echoes the newest prompt."""
    from pydantic_ai import Agent
    from pydantic_ai import messages as ai
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def reply(messages: list[ai.ModelMessage], info: AgentInfo) -> ai.ModelResponse:
        prompts = [
            p.content
            for p in messages[-1].parts
            if isinstance(p, ai.UserPromptPart) and isinstance(p.content, str)
        ]
        return ai.ModelResponse([ai.TextPart(echo_text(prompts[-1] if prompts else ""))])

    return Agent(FunctionModel(reply, model_name="echo"), name="echo")


def langchain_agent() -> Any:
    """A langchain-core fake chat model (async, no thread) that echoes the newest message."""
    from langchain_core.language_models.fake_chat_models import FakeChatModel
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class EchoChatModel(FakeChatModel):
        """`FakeChatModel`, answering `echo: TEXT`."""

        def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
            return echo_text(messages[-1].text if messages else "")

        async def _agenerate(
            self, messages: list[BaseMessage], *args: Any, **kwargs: Any
        ) -> ChatResult:
            message = AIMessage(content=self._call(messages))
            return ChatResult(generations=[ChatGeneration(message=message)])

    return EchoChatModel(name="echo")


def autogen_agent() -> Any:
    """An AG2 classic `ConversableAgent` with no model: one registered async reply (what
    `a_generate_reply` runs), and the same answer from `a_generate_oai_reply` (what AG2's own
    `A2aAgentServer` calls, as the agent's model)."""
    from autogen import Agent, ConversableAgent

    def answer(messages: list[dict[str, Any]] | None) -> str:
        return echo_text(str((messages or [{}])[-1].get("content") or ""))

    class EchoAgent(ConversableAgent):
        """Echoes the newest message, whichever way it is asked."""

        async def a_generate_oai_reply(
            self, messages: list[dict[str, Any]] | None = None, *args: Any, **kwargs: Any
        ) -> tuple[bool, str]:
            return True, answer(messages)

    async def reply(
        recipient: ConversableAgent,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str]:
        return True, answer(messages)

    agent = EchoAgent(
        "echo", llm_config=False, human_input_mode="NEVER", code_execution_config=False
    )
    agent.register_reply([Agent, None], reply, remove_other_reply_funcs=True)
    return agent


def ag2_agent() -> Any:
    """An ag2 1.x `Agent` on a model config whose client echoes the newest request."""
    from collections.abc import Sequence
    from typing import Self

    from ag2 import Agent
    from ag2.config import LLMClient, ModelConfig, ModelProvider
    from ag2.context import ConversationContext
    from ag2.events import BaseEvent, ModelMessage, ModelRequest, ModelResponse, TextInput

    class EchoClient(LLMClient):
        """Echoes the text of the newest model request."""

        async def __call__(
            self, messages: Sequence[BaseEvent], context: ConversationContext, **_: Any
        ) -> ModelResponse:
            request = next((m for m in reversed(messages) if isinstance(m, ModelRequest)), None)
            parts = request.parts if request is not None else []
            text = "\n".join(p.content for p in parts if isinstance(p, TextInput))
            return ModelResponse(ModelMessage(echo_text(text)))

    class EchoConfig(ModelConfig):
        """The echo model, as an ag2 model config."""

        @property
        def provider(self) -> ModelProvider:
            raise NotImplementedError  # an echo is no provider's model

        @property
        def model(self) -> str:
            return "echo"

        def create_files_client(self) -> Any:
            raise NotImplementedError

        def copy(self) -> Self:
            return self

        def create(self) -> LLMClient:
            return EchoClient()

    return Agent("echo", "You echo.", config=EchoConfig())


def adk_agent() -> Any:
    """A google-adk `BaseAgent` that yields one event echoing the user's message."""
    from collections.abc import AsyncGenerator

    from google.adk.agents import BaseAgent
    from google.adk.agents.invocation_context import InvocationContext
    from google.adk.events import Event
    from google.genai import types

    class EchoAgent(BaseAgent):
        """Echoes the text of the invocation's user content."""

        async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
            parts = (ctx.user_content.parts if ctx.user_content else None) or []
            text = echo_text("".join(p.text or "" for p in parts))
            content = types.Content(role="model", parts=[types.Part(text=text)])
            yield Event(author=self.name, invocation_id=ctx.invocation_id, content=content)

    return EchoAgent(name="echo")


AGENTS: dict[str, Callable[[], Any]] = {
    "pydantic_ai": pydantic_ai_agent,
    "langchain": langchain_agent,
    "autogen": autogen_agent,
    "ag2": ag2_agent,
    "adk": adk_agent,
}


def _adk_call(agent: Any) -> Call:
    """Each text in a new ADK session of an in-memory `Runner`, as ADK's `to_a2a` runs a new
    conversation."""
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService
    from google.genai import types

    sessions = InMemorySessionService()
    runner = Runner(app_name="echo", agent=agent, session_service=sessions)

    async def call(text: str) -> str:
        session = await sessions.create_session(app_name="echo", user_id="user")
        message = types.Content(role="user", parts=[types.Part(text=text)])
        said = ""
        events = runner.run_async(user_id="user", session_id=session.id, new_message=message)
        async for event in events:
            if event.content and event.content.parts:
                said = "".join(p.text or "" for p in event.content.parts)
        return said

    return call


def floor_call(framework: str) -> Call:
    """The framework's own call on its agent: text in, the answer's text out."""
    agent = AGENTS[framework]()
    if framework == "pydantic_ai":

        async def call(text: str) -> str:
            return str((await agent.run(text)).output)

    elif framework == "langchain":
        from langchain_core.messages import HumanMessage

        async def call(text: str) -> str:
            return str((await agent.ainvoke([HumanMessage(text)])).text)

    elif framework == "autogen":

        async def call(text: str) -> str:
            reply = await agent.a_generate_reply([{"role": "user", "content": text}])
            return str(reply["content"] if isinstance(reply, dict) else reply)

    elif framework == "ag2":

        async def call(text: str) -> str:
            return str((await agent.ask(text)).body)

    elif framework == "adk":
        call = _adk_call(agent)

    else:
        raise ValueError(f"unknown framework {framework!r}")
    return call
