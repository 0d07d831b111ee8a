"""The conversation model, and its loss-free conversion to and from a2a types (1.0 and 0.3)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from a2a.types import Message, Role
from a2a.types import Part as A2APart
from google.protobuf import json_format, struct_pb2

__all__ = [
    "JSON_MEDIA_TYPE",
    "Conversation",
    "DataPart",
    "FilePart",
    "Part",
    "TextPart",
    "Turn",
    "TurnRole",
    "as_parts",
    "message_from_turn",
    "message_to_v03",
    "part_from_a2a",
    "part_from_v03",
    "part_to_a2a",
    "part_to_v03",
    "parts_text",
    "turn_from_dict",
    "turn_from_message",
    "turn_from_v03",
    "turn_to_dict",
    "with_renderings",
    "without_renderings",
]

JSON_MEDIA_TYPE = "application/json"

TurnRole: TypeAlias = Literal["user", "agent"]


@dataclass(frozen=True)
class TextPart:
    """Plain text."""

    text: str
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DataPart:
    """A JSON value (object, list, string, number, bool or null)."""

    data: Any
    media_type: str = JSON_MEDIA_TYPE
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FilePart:
    """A file, inline as bytes or by URI."""

    bytes: bytes | None = None
    uri: str | None = None
    media_type: str | None = None
    name: str | None = None
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.bytes is None) == (self.uri is None):
            raise ValueError("a FilePart holds either bytes or a uri, not both or neither")


Part: TypeAlias = TextPart | DataPart | FilePart


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: TurnRole
    parts: tuple[Part, ...]
    name: str | None = None
    metadata: Mapping[str, Any] | None = None
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def text(self) -> str:
        """The text parts joined by newlines."""
        return parts_text(self.parts)


@dataclass(frozen=True)
class Conversation:
    """What a runner sees: the turns of one context so far, the newest (the request) last.

    `streaming` says whether the caller reads the answer as it is produced; a runner may then
    skip streaming where the caller would not see it, or where its model cannot stream.
    """

    context_id: str
    task_id: str
    turns: tuple[Turn, ...]
    user: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    streaming: bool = True
    notes: Mapping[str, Any] | None = None
    """The runner's notes (`Reply.metadata`, `InputRequired.metadata`) on its latest answer or
    question in this context, from memory: there even when the caller sent its own history."""

    @property
    def last(self) -> Turn:
        """The turn being answered."""
        return self.turns[-1]

    @property
    def history(self) -> tuple[Turn, ...]:
        """The turns before the one being answered."""
        return self.turns[:-1]

    @property
    def text(self) -> str:
        """The text of the turn being answered."""
        return self.last.text


def parts_text(parts: Iterable[Part]) -> str:
    """The text parts joined by newlines."""
    return "\n".join(p.text for p in parts if isinstance(p, TextPart))


def _renders(part: Part, data: Sequence[Any]) -> bool:
    if not isinstance(part, TextPart) or not data:
        return False
    try:
        return json.loads(part.text) in data
    except ValueError:
        return False


def with_renderings(parts: Iterable[Part]) -> tuple[Part, ...]:
    """The parts with each data part also rendered as JSON text, just after it.

    The convention every server of this library keeps, so that a caller that reads only text
    still gets structured answers; a part already rendered is not rendered again. The data
    comes first: it is the answer, the text only its fallback.
    """
    parts = tuple(parts)
    data = [p.data for p in parts if isinstance(p, DataPart)]
    rendered = [json.loads(p.text) for p in parts if isinstance(p, TextPart) and _renders(p, data)]
    out: list[Part] = []
    for part in parts:
        out.append(part)
        if isinstance(part, DataPart) and part.data not in rendered:
            out.append(TextPart(json.dumps(part.data, ensure_ascii=False)))
    return tuple(out)


def without_renderings(parts: Iterable[Part]) -> tuple[Part, ...]:
    """The parts less any text part that only renders a data part beside it as JSON.

    Servers send structured answers twice, as data and as JSON text for text-only callers; a
    caller that flattens parts into one string wants the value once.
    """
    parts = tuple(parts)
    data = [p.data for p in parts if isinstance(p, DataPart)]
    return tuple(p for p in parts if not _renders(p, data))


def as_parts(value: str | Part | Sequence[Part] | Any) -> tuple[Part, ...]:
    """Normalise an answer: a string, a part, a list of parts, or any other JSON value as data."""
    if isinstance(value, str):
        return (TextPart(value),)
    if isinstance(value, TextPart | DataPart | FilePart):
        return (value,)
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(p, TextPart | DataPart | FilePart) for p in value)
    ):
        return tuple(value)
    return (DataPart(value),)


# --- A2A 1.0 (protobuf) ---


def _struct(metadata: Mapping[str, Any] | None) -> struct_pb2.Struct | None:
    if not metadata:
        return None
    s = struct_pb2.Struct()
    s.update(dict(metadata))
    return s


def _dict(s: struct_pb2.Struct) -> dict[str, Any] | None:
    d = _json(json_format.MessageToDict(s))
    return d or None


def part_to_a2a(part: Part) -> A2APart:
    """Our part as an a2a 1.0 Part."""
    out = A2APart()
    if isinstance(part, TextPart):
        out.text = part.text
    elif isinstance(part, DataPart):
        out.data.CopyFrom(json_format.ParseDict(part.data, struct_pb2.Value()))
        out.media_type = part.media_type
    else:
        if part.bytes is not None:
            out.raw = part.bytes
        else:
            out.url = part.uri or ""
        if part.media_type:
            out.media_type = part.media_type
        if part.name:
            out.filename = part.name
    if (meta := _struct(part.metadata)) is not None:
        out.metadata.CopyFrom(meta)
    return out


def _json(value: Any) -> Any:
    # protobuf keeps every number as a double; JSON integers come back as integers.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def part_from_a2a(part: A2APart) -> Part:
    """An a2a 1.0 Part as ours."""
    meta = _dict(part.metadata) if part.HasField("metadata") else None
    kind = part.WhichOneof("content")
    if kind == "text":
        return TextPart(part.text, metadata=meta)
    if kind == "data":
        data = _json(json_format.MessageToDict(part.data))
        return DataPart(data, media_type=part.media_type or JSON_MEDIA_TYPE, metadata=meta)
    if kind == "raw":
        return FilePart(
            bytes=part.raw,
            media_type=part.media_type or None,
            name=part.filename or None,
            metadata=meta,
        )
    if kind == "url":
        return FilePart(
            uri=part.url,
            media_type=part.media_type or None,
            name=part.filename or None,
            metadata=meta,
        )
    raise ValueError("a part holds no content")


def message_from_turn(turn: Turn, *, context_id: str = "", task_id: str = "") -> Message:
    """Our turn as an a2a 1.0 Message."""
    msg = Message(
        message_id=turn.message_id,
        role=Role.ROLE_USER if turn.role == "user" else Role.ROLE_AGENT,
        parts=[part_to_a2a(p) for p in turn.parts],
        context_id=context_id,
        task_id=task_id,
    )
    meta = dict(turn.metadata or {})
    if turn.name:
        meta["name"] = turn.name
    if (s := _struct(meta)) is not None:
        msg.metadata.CopyFrom(s)
    return msg


def turn_from_message(msg: Message) -> Turn:
    """An a2a 1.0 Message as our turn; the speaker's name travels in metadata `name`."""
    meta = _dict(msg.metadata) if msg.HasField("metadata") else None
    name = meta.pop("name", None) if meta else None
    return Turn(
        role="agent" if msg.role == Role.ROLE_AGENT else "user",
        parts=tuple(part_from_a2a(p) for p in msg.parts),
        name=name if isinstance(name, str) else None,
        metadata=meta or None,
        message_id=msg.message_id or uuid.uuid4().hex,
    )


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    """Our turn as 1.0 JSON, for storage."""
    data: dict[str, Any] = json_format.MessageToDict(message_from_turn(turn))
    return data


def turn_from_dict(data: Mapping[str, Any]) -> Turn:
    """Our turn from 1.0 JSON."""
    return turn_from_message(json_format.ParseDict(dict(data), Message()))


# --- A2A 0.3 (JSON objects with `kind`) ---


def part_to_v03(part: Part) -> dict[str, Any]:
    """Our part as an A2A 0.3 part object."""
    out: dict[str, Any]
    if isinstance(part, TextPart):
        out = {"kind": "text", "text": part.text}
    elif isinstance(part, DataPart):
        # 0.3 data parts hold objects only; other JSON values are wrapped and marked.
        if isinstance(part.data, dict):
            out = {"kind": "data", "data": part.data}
        else:
            out = {"kind": "data", "data": {"value": part.data}}
            part = DataPart(part.data, part.media_type, {**(part.metadata or {}), "wrapped": True})
    else:
        file: dict[str, Any] = (
            {"bytes": base64.b64encode(part.bytes).decode()}
            if part.bytes is not None
            else {"uri": part.uri}
        )
        if part.media_type:
            file["mimeType"] = part.media_type
        if part.name:
            file["name"] = part.name
        out = {"kind": "file", "file": file}
    if part.metadata:
        out["metadata"] = dict(part.metadata)
    return out


def part_from_v03(obj: Mapping[str, Any]) -> Part:
    """An A2A 0.3 part object as ours."""
    meta = dict(obj["metadata"]) if obj.get("metadata") else None
    kind = obj.get("kind")
    if kind == "text":
        return TextPart(obj["text"], metadata=meta)
    if kind == "data":
        data = obj["data"]
        if meta and meta.pop("wrapped", False):
            data = data["value"]
        return DataPart(data, metadata=meta or None)
    if kind == "file":
        f = obj["file"]
        common = {"media_type": f.get("mimeType"), "name": f.get("name"), "metadata": meta}
        if "bytes" in f:
            return FilePart(bytes=base64.b64decode(f["bytes"]), **common)
        return FilePart(uri=f["uri"], **common)
    raise ValueError(f"unknown A2A 0.3 part kind: {kind!r}")


def message_to_v03(turn: Turn, *, context_id: str | None = None) -> dict[str, Any]:
    """Our turn as an A2A 0.3 message object."""
    msg: dict[str, Any] = {
        "kind": "message",
        "messageId": turn.message_id,
        "role": turn.role,
        "parts": [part_to_v03(p) for p in turn.parts],
    }
    meta = dict(turn.metadata or {})
    if turn.name:
        meta["name"] = turn.name
    if meta:
        msg["metadata"] = meta
    if context_id:
        msg["contextId"] = context_id
    return msg


def turn_from_v03(obj: Mapping[str, Any]) -> Turn:
    """An A2A 0.3 message object as our turn."""
    meta = dict(obj.get("metadata") or {})
    name = meta.pop("name", None)
    return Turn(
        role="agent" if obj.get("role") == "agent" else "user",
        parts=tuple(part_from_v03(p) for p in obj.get("parts", [])),
        name=name,
        metadata=meta or None,
        message_id=obj.get("messageId") or uuid.uuid4().hex,
    )
