"""Every workaround for another A2A implementation's quirk, in one place.

Each names the peer and the version it was seen with (PEERS.md has the measurements) and has a
test of its own in tests/bridges/test_quirks.py. The client side absorbs what peers send; the
server side reads what known clients send.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from a2a_bridges.conversation import (
    DataPart,
    FilePart,
    Part,
    TextPart,
    Turn,
    TurnRole,
    parts_text,
)

__all__ = [
    "AG2_HISTORY_MEDIA_TYPE",
    "TolerantTransport",
    "ag2_history",
    "answers_in_new_task",
    "dropped_question",
    "inline_history",
    "patch_naive_timestamps",
    "point_at_reached",
    "reads_last_part",
    "repeats_streamed",
    "takes_inline_history",
    "takes_text_only",
    "unwrapped",
    "without_repeats",
]

# --- the client side ---

# fasta2a 2.1.1 writes timestamps without an offset (`datetime.now().isoformat()`), which the
# a2a-sdk 1.x client fails to parse ("Failed to parse timestamp field"): they are read as UTC.
_NAIVE_TIMESTAMP = re.compile(rb'("timestamp"\s*:\s*"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)"')


def patch_naive_timestamps(chunk: bytes) -> bytes:
    """JSON text with every naive timestamp marked as UTC."""
    return _NAIVE_TIMESTAMP.sub(rb'\1Z"', chunk)


class _PatchedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.Response) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pending = b""
        async for chunk in self._inner.aiter_raw():
            pending += chunk
            # Patch whole lines only, so a timestamp split across chunks is still seen.
            head, sep, pending = pending.rpartition(b"\n")
            if sep:
                yield patch_naive_timestamps(head + sep)
        if pending:
            yield patch_naive_timestamps(pending)

    async def aclose(self) -> None:
        await self._inner.aclose()


class TolerantTransport(httpx.AsyncBaseTransport):
    """An httpx transport that mends peers' JSON before the a2a-sdk parses it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        kind = response.headers.get("content-type", "")
        if "json" not in kind and "event-stream" not in kind:
            return response
        inner = httpx.Response(
            response.status_code, headers=response.headers, stream=response.stream
        )
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-length"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=_PatchedStream(inner),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def point_at_reached(interface_urls: Sequence[str], reached: str) -> list[str]:
    """Interface URLs with loopback hosts pointed at the address actually reached.

    AG2 classic's `A2aAgentServer` (autogen 0.14.1) writes `http://localhost:8000` on its card
    whatever port it runs on; a card that names loopback on another port than the one that
    served it means the address the caller reached.
    """
    there = urlsplit(reached)
    out = []
    for url in interface_urls:
        parts = urlsplit(url)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "0.0.0.0")
        if loopback and parts.netloc != there.netloc:
            url = urlunsplit(parts._replace(scheme=there.scheme, netloc=there.netloc))
        out.append(url)
    return out


def repeats_streamed(text: str, streamed: str, *, append: bool, last_chunk: bool) -> bool:
    """Whether an artifact chunk repeats, whole, the text streamed before it.

    fasta2a 2.1.1 and ag2 1.2.1 end a stream with the whole answer as a new artifact
    (append=false); AG2 classic (autogen 0.14.1) ends it with the whole answer appended to the
    chunks (append=true, lastChunk=true). Either way it replaces what was streamed.
    """
    if not streamed or text != streamed:
        return False
    return not append or last_chunk


def _text(parts: Sequence[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, TextPart))


def without_repeats(artifacts: Sequence[Sequence[Part]]) -> list[list[Part]]:
    """A stored task's artifacts less the chunks that a whole answer after them repeats.

    The stored form of the same two quirks: fasta2a 2.1.1 and ag2 1.2.1 keep the chunks and
    the whole answer as two artifacts; AG2 classic (autogen 0.14.1) keeps the whole answer as
    the last part of the chunks' artifact.
    """
    out: list[list[Part]] = []
    for parts in artifacts:
        parts = list(parts)
        last = parts[-1] if parts else None
        if isinstance(last, TextPart) and len(parts) > 1 and last.text == _text(parts[:-1]):
            parts = [last]
        if out and _text(parts) and _text(parts) == "".join(_text(a) for a in out):
            out.clear()
        out.append(parts)
    return out


def unwrapped(part: Part) -> Part:
    """A structured answer as its agent gave it.

    fasta2a 2.1.1 serves a Pydantic AI agent's structured output as `{"result": value}`, with
    the output's JSON schema in the part's metadata: the value is the answer.
    """
    if (
        isinstance(part, DataPart)
        and isinstance(part.data, dict)
        and set(part.data) == {"result"}
        and "json_schema" in (part.metadata or {})
    ):
        return replace(part, data=part.data["result"])
    return part


def takes_inline_history(input_modes: Sequence[str]) -> bool:
    """Whether a server wants the conversation so far inside every message.

    ag2 1.x's `A2AServer` (ag2 1.2.1) is stateless: it knows only the history a message carries
    as a data part of media type `AG2_HISTORY_MEDIA_TYPE`, which its card lists as an input mode.
    """
    return AG2_HISTORY_MEDIA_TYPE in input_modes


def _ag2_item(part: Part) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, DataPart):
        return {"type": "data", "data": part.data}
    if part.bytes is not None:
        encoded = base64.b64encode(part.bytes).decode()
        return {"type": "binary", "media_type": part.media_type or "", "data": encoded}
    return {"type": "url", "url": part.uri}


def ag2_history(turns: Sequence[Turn]) -> DataPart:
    """The turns as the history data part ag2 1.x's server reads (ag2 1.2.1): the reverse of
    what `inline_history` reads from its client."""
    events: list[dict[str, Any]] = []
    for turn in turns:
        if turn.role == "user":
            events.append({"kind": "user_input", "parts": [_ag2_item(p) for p in turn.parts]})
        elif text := parts_text(turn.parts):
            events.append({"kind": "model_response", "content": text, "tool_calls": []})
    return DataPart({"events": events}, media_type=AG2_HISTORY_MEDIA_TYPE)


# --- the server side ---

AG2_HISTORY_MEDIA_TYPE = "application/vnd.ag2.history+json"
"""ag2 1.x's client (ag2 1.2.1) attaches its whole history to every message as a data part."""

_AG2_AGENT_ROLES = ("assistant", "tool", "function")


def _is_ag2_classic(turn: Turn) -> bool:
    # AG2 classic's A2aRemoteAgent (autogen 0.14.1) sends the whole chat in one message, with a
    # fresh contextId each time: a text part per message, its role and name in its metadata.
    return turn.role == "user" and all(
        isinstance(p, TextPart) and "role" in (p.metadata or {}) for p in turn.parts
    )


def _ag2_classic_history(turn: Turn) -> list[Turn] | None:
    if len(turn.parts) < 2 or not _is_ag2_classic(turn):
        return None
    turns = []
    for part in turn.parts:
        meta = part.metadata or {}
        role: TurnRole = "agent" if meta.get("role") in _AG2_AGENT_ROLES else "user"
        name = meta.get("name")
        turns.append(Turn(role, (part,), name=name if isinstance(name, str) else None))
    return turns


def _ag2_input(item: Any) -> Part | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind == "text":
        return TextPart(str(item.get("text", "")))
    if kind == "data":
        return DataPart(item.get("data"))
    if kind == "binary" and isinstance(item.get("data"), str):
        raw = base64.b64decode(item["data"])
        return FilePart(bytes=raw, media_type=str(item.get("media_type") or "") or None)
    if kind == "url" and isinstance(item.get("url"), str):
        return FilePart(uri=item["url"])
    return None


def _ag2_turn(event: Any) -> Turn | None:
    if not isinstance(event, dict):
        return None
    kind = event.get("kind")
    if kind == "user_input":
        parts = [p for item in event.get("parts") or [] if (p := _ag2_input(item)) is not None]
        return Turn("user", tuple(parts)) if parts else None
    if kind in ("model_response", "agent_message") and event.get("content"):
        return Turn("agent", (TextPart(str(event["content"])),))
    return None  # tool calls and results stay on the caller's side


def _ag2_history(turn: Turn) -> tuple[list[Turn], Turn] | None:
    # ag2 1.x's client (ag2 1.2.1) keeps the contextId but also attaches everything before the
    # new message as a data part: {"events": [{"kind": "user_input", "parts": [...]}, ...]}.
    history = [
        p for p in turn.parts if isinstance(p, DataPart) and p.media_type == AG2_HISTORY_MEDIA_TYPE
    ]
    if not history:
        return None
    events = [e for p in history if isinstance(p.data, dict) for e in p.data.get("events") or []]
    turns = [t for e in events if (t := _ag2_turn(e)) is not None]
    rest = tuple(p for p in turn.parts if p not in history) or (TextPart(""),)
    return turns, replace(turn, parts=rest)


def inline_history(turn: Turn) -> tuple[list[Turn], Turn] | None:
    """The conversation a stateless caller sent inside one message, and its new turn.

    None when the message carries no history in a known client's shape. The history then
    stands for the conversation: such a caller keeps it, not the server.
    """
    ag2 = _ag2_history(turn)
    if ag2 is not None:
        return ag2
    classic = _ag2_classic_history(turn)
    if classic is not None:
        return classic[:-1], classic[-1]
    return None


def dropped_question(turn: Turn, stored: Sequence[Turn]) -> list[Turn]:
    """The question a caller's history left out before its answer: none, or the stored one.

    AG2 classic's client (autogen 0.14.1) reuses a context only to answer input-required, in a
    new task, with the history rebuilt from the task's, where a2a-sdk 1.x keeps no status
    message: the question, the context's last stored turn, is missing before the answer.
    """
    classic = _ag2_classic_history(turn)
    if classic is None or classic[-2].role != "user" or not stored or stored[-1].role != "agent":
        return []
    return [stored[-1]]


def _is_adk(turn: Turn) -> bool:
    # google-adk's RemoteA2aAgent (google-adk 2.13) marks every part its user said.
    return turn.role == "user" and any(
        (p.metadata or {}).get("is_user_input") is True for p in turn.parts
    )


def reads_last_part(turn: Turn) -> bool:
    """Whether the caller of `turn` takes only the last part of a streamed answer.

    AG2 classic's client (autogen 0.14.1) answers with the artifact's last text part, and
    google-adk's RemoteA2aAgent (google-adk 2.13) keeps the event of the last chunk alone as
    the answer: after the streamed chunks both need the whole answer again, replacing them.
    """
    return bool(turn.parts) and (_is_ag2_classic(turn) or _is_adk(turn))


def takes_text_only(turn: Turn) -> bool:
    """Whether the caller of `turn` needs answers as text alone, data as its JSON rendering.

    AG2 classic's client (autogen 0.14.1) makes each data part of an answer a chat message of
    its own, which its chat then refuses for want of `content`.
    """
    return bool(turn.parts) and _is_ag2_classic(turn)


def answers_in_new_task(waiting_task: str | None, task_id: str) -> bool:
    """Whether a message answers a question its context's other task asked.

    AG2 classic's client (autogen 0.14.1) answers input-required in a new task of the same
    context; the run that waited in the old one is then closed, never kept forever.
    """
    return waiting_task is not None and waiting_task != task_id
