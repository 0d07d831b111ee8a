"""The known quirks of A2A servers (`a2a_bridges.quirks`, reproduced by
`a2a_bridges.testing.quirky`), recognised in what a server sent: so that `check` can say which
one is behind a failure, and what to fix.

Only the protocol is read here (where the answer is, how it streamed, which states and
timestamps came), never the agent's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from a2a_bridges.quirks import AG2_HISTORY_MEDIA_TYPE
from a2a_bridges.scenarios.transcript import Event, Exchange

__all__ = [
    "KNOWN",
    "MISNAMED",
    "TITLES",
    "Seen",
    "card_quirks",
    "carries_history",
    "seen",
    "text_of",
]

KNOWN: dict[str, str] = {
    "message-reply": "answers with a Message, not a task: there is no task to follow, "
    "stream or cancel (a2a-sdk samples)",
    "status-stream": "streams as status messages: the text comes in WORKING status "
    "messages, not artifact chunks, so a client that reads artifacts sees nothing until the "
    "end (langgraph-a2a 0.1.6); stream artifact chunks with append=true instead",
    "replace-artifact": "repeats the whole answer at the end of a stream as a new artifact, "
    "so a client that joins artifacts shows it twice (fasta2a 2.1.1, ag2 1.2.1); end the "
    "chunks' artifact with lastChunk=true instead",
    "append-whole": "appends the whole answer again at the end of a stream, so the artifact "
    "holds it twice (AG2 classic, autogen 0.14.1); end the stream with an empty lastChunk",
    "status-repeat": "the answer is repeated in the status message: COMPLETED carries the "
    "artifact's text again, so clients show it twice; leave that status message empty",
    "naive-timestamps": "naive timestamps: timestamps without a timezone offset, which the "
    "a2a-sdk 1.x client cannot parse, so every answer fails there (fasta2a 2.1.1); write "
    "them in UTC with a Z",
    "non-blocking": "answers before it is done: a blocking send gets the task still "
    "submitted or working, so a client that does not poll gets no answer (fasta2a 2.1.1); "
    "answer a blocking send once the task is done",
    "loopback-card": "the card names a loopback address other than the one that served it, "
    "so a client that trusts the card cannot reach the agent (AG2 classic, autogen 0.14.1); "
    "put the agent's public URL on its card",
    "inline-history": "keeps no conversation: it knows only the turns each message carries "
    f"as a history data part ({AG2_HISTORY_MEDIA_TYPE}, listed on its card) (ag2 1.2.1), so "
    "a caller that does not send it talks to an agent that forgets; keep the conversation "
    "by contextId",
    "wrapped-data": 'answers structured data wrapped as {"result": value}, its JSON schema in '
    "the part's metadata (fasta2a 2.1.1): a client that does not know it gets the wrapper, "
    "not the value; put the value itself in the data part",
}
"""Each known quirk: what the server does, who it trips, the peer it was seen with, the fix."""

TITLES: dict[str, str] = {
    "message-reply": "answers with a Message, not a task",
    "status-stream": "streams as status messages",
    "replace-artifact": "sends the whole answer again as a new artifact",
    "append-whole": "appends the whole answer again to the streamed one",
    "status-repeat": "the answer is repeated in the status message",
    "naive-timestamps": "naive timestamps",
    "non-blocking": "answers before it is done",
    "loopback-card": "the card names a loopback address it does not serve",
    "inline-history": "keeps no conversation but the history a message carries",
    "wrapped-data": 'wraps data as {"result": value}',
}
"""Each known quirk in a few words, for a failure's one line."""

MISNAMED = "the card names "
"""How a relay begins its answer to a caller that went where the card misnames."""


@dataclass(frozen=True)
class Seen:
    """A known quirk seen in one exchange; `twice` is the text it sent twice, if any."""

    quirk: str
    twice: str = ""


def text_of(parts: Iterable[dict[str, Any]]) -> str:
    """The text of recorded parts, joined."""
    return "".join(str(p.get("text", "")) for p in parts if "text" in p)


def _same(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip() == b.strip()


def _artifact_repeats(events: Sequence[Event]) -> list[Seen]:
    """A whole answer sent again after its chunks: appended to their artifact, or as another."""
    found: list[Seen] = []
    by_id: dict[str | None, str] = {}
    streamed = ""
    for e in (e for e in events if e.kind == "artifact"):
        text = text_of(e.parts)
        if e.append and _same(text, by_id.get(e.artifact_id, "")):
            found.append(Seen("append-whole", text))
        elif not e.append and e.artifact_id not in by_id and _same(text, streamed):
            found.append(Seen("replace-artifact", text))
        by_id[e.artifact_id] = by_id.get(e.artifact_id, "") + text if e.append else text
        streamed += text
    return found


def _stored_repeats(event: Event) -> list[Seen]:
    """The same two quirks in a task as it was stored: its last text part repeats the rest."""
    texts = [str(p["text"]) for p in event.parts if "text" in p]
    if len(texts) < 2 or not _same(texts[-1], "".join(texts[:-1])):
        return []
    return [Seen("replace-artifact" if event.artifacts > 1 else "append-whole", texts[-1])]


def _wrapped(part: dict[str, Any]) -> bool:
    data, metadata = part.get("data"), part.get("metadata") or {}
    return isinstance(data, dict) and set(data) == {"result"} and "json_schema" in metadata


def _answer(events: Sequence[Event]) -> str:
    """The artifacts' text as the last task, or the chunks after it, hold it."""
    text = ""
    for e in events:
        if e.kind == "task" and e.artifacts:
            text = text_of(e.parts)
        elif e.kind == "artifact":
            text = text + text_of(e.parts) if e.append else text_of(e.parts)
    return text


def seen(exchange: Exchange) -> list[Seen]:
    """The known quirks `exchange` shows."""
    found = [Seen(o) for o in exchange.oddities if o in KNOWN]
    events = exchange.events
    if not exchange.is_message:
        return found
    if events and all(e.kind in ("message", "error") for e in events) and exchange.error is None:
        found.append(Seen("message-reply"))
    said = [text_of(e.parts) for e in events if e.kind == "status" and e.state == "working"]
    answer = _answer(events)
    if any(said) and (not answer or _same(answer, "".join(said))):
        found.append(Seen("status-stream", "".join(said)))
    found += _artifact_repeats(events)
    for e in events:
        if e.kind == "task" and e.artifacts:
            found += _stored_repeats(e)
            if _same(text_of(e.status_parts), text_of(e.parts)):
                found.append(Seen("status-repeat", text_of(e.parts)))
        elif e.kind == "status" and e.state == "completed" and _same(text_of(e.parts), answer):
            found.append(Seen("status-repeat", answer))
    if any(_wrapped(p) for e in events for p in e.parts):
        found.append(Seen("wrapped-data"))
    blocking = exchange.method in ("SendMessage", "message/send") and exchange.blocking
    if blocking and exchange.final_state in ("submitted", "working"):
        found.append(Seen("non-blocking"))
    return list(dict.fromkeys(found))


def carries_history(exchange: Exchange) -> bool:
    """Whether a message carried the conversation as ag2 1.x's history data part."""
    return any(p.get("media_type") == AG2_HISTORY_MEDIA_TYPE for p in exchange.request_parts)


def card_quirks(exchanges: Iterable[Exchange]) -> list[Seen]:
    """Quirks of the card, as callers met them: a misnamed address they were sent to."""
    if any((e.error or "").startswith(MISNAMED) for e in exchanges):
        return [Seen("loopback-card")]
    return []
