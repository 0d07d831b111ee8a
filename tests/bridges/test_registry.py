"""`to_a2a` and `from_a2a` find adapters through entry points, typed, imported lazily."""

from __future__ import annotations

import pytest

from a2a_bridges import from_a2a, to_a2a
from a2a_bridges.adapter import Adapter
from a2a_bridges.adapters.functions import RemoteFunction
from a2a_bridges.registry import adapter_for, adapter_named, registered


def test_unsupported_agent_names_what_is_supported() -> None:
    with pytest.raises(TypeError) as info:
        to_a2a(42)
    message = str(info.value)
    assert "builtins.int" in message
    assert "plain functions" in message
    for entry in registered():
        if entry.adapter is None:
            # a framework that is not installed is named with the extra to install
            assert f"{entry.name} (" in message and "a2a-bridges[" in message


def test_a_class_is_refused_by_its_own_name() -> None:
    class Helper:
        def __call__(self, text: str) -> str:
            return text

    with pytest.raises(TypeError, match=r"the class .*Helper \(serve an instance of it\)"):
        to_a2a(Helper)


def test_every_registered_adapter_is_typed() -> None:
    names = [r.name for r in registered()]
    assert names[0] == "functions"
    assert names[1:] == sorted(names[1:])
    assert {"ag2", "functions", "langchain", "pydantic_ai"} <= set(names)
    for entry in registered():
        if entry.adapter is not None:
            assert isinstance(entry.adapter, Adapter)
            assert entry.adapter.name == entry.name
    assert adapter_for(lambda c: "x").name == "functions"


def test_framework_names_as_users_type_them() -> None:
    pytest.importorskip("pydantic_ai")
    assert adapter_named("Pydantic-AI").name == "pydantic_ai"
    pytest.importorskip("autogen")
    assert adapter_named("autogen").name == "ag2"


def test_from_a2a_unknown_framework() -> None:
    with pytest.raises(ValueError, match="unknown framework 'crewai': choose one of functions"):
        from_a2a("http://127.0.0.1:1", framework="crewai")


def test_from_a2a_defaults_to_an_async_function_and_does_no_io() -> None:
    fn = from_a2a("http://127.0.0.1:1")  # nothing listens there: nothing is called yet
    assert isinstance(fn, RemoteFunction)
    assert fn.remote.url == "http://127.0.0.1:1"


def test_unknown_client_option_is_refused() -> None:
    with pytest.raises(TypeError, match="timout"):
        from_a2a("http://127.0.0.1:1", framework="functions", timout=3)
