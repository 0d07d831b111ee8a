"""A plain-function agent to serve: `a2a-bridges serve examples/echo.py:echo`."""

from collections.abc import AsyncIterator

from a2a_bridges import Conversation


async def echo(conversation: Conversation) -> AsyncIterator[str]:
    """Repeats what you said, word by word, and counts the turns."""
    for word in conversation.text.split():
        yield word + " "
    yield f"(turn {len([t for t in conversation.turns if t.role == 'user'])})"
