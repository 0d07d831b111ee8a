"""Shared fixtures: the async backend, and agents served on loopback."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # a2a-sdk runs on asyncio only.
    return "asyncio"
