"""`to_a2a` and `from_a2a` find adapters through entry points; the public API is pinned."""

from __future__ import annotations

import pytest

import bridges
from bridges import from_a2a, to_a2a
from bridges.registry import adapter_for, adapters


def test_public_api_is_pinned() -> None:
    assert bridges.__all__ == sorted(bridges.__all__)
    for name in ("to_a2a", "serve", "from_a2a", "RemoteAgent", "RemoteAgentError", "Runner"):
        assert name in bridges.__all__


def test_unsupported_agent_names_what_is_supported() -> None:
    with pytest.raises(TypeError) as info:
        to_a2a(42)
    message = str(info.value)
    assert "builtins.int" in message
    assert "plain functions" in message
    for adapter in adapters():
        if adapter.module is None:
            # a framework that is not installed is named with the extra to install
            assert "a2a-bridges[" in message


def test_functions_adapter_is_last_and_registered() -> None:
    names = [a.name for a in adapters()]
    assert names[-1] == "functions"
    assert {"ag2", "functions", "langchain", "pydantic_ai"} <= set(names)
    assert adapter_for(lambda c: "x").name == "functions"


def test_from_a2a_unknown_framework() -> None:
    with pytest.raises(ValueError, match="unknown framework 'crewai'"):
        from_a2a("http://127.0.0.1:1", framework="crewai")


async def _agent(text: str) -> str:
    return text


def test_from_a2a_functions_returns_a_callable() -> None:
    fn = from_a2a("http://127.0.0.1:1", framework="functions")
    assert callable(fn)
