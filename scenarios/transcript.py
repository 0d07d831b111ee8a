"""Every A2A exchange of a scenario, recorded by an ASGI middleware around each served app."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from a2a.types import Message, SendMessageResponse, StreamResponse, Task
from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from a2a_bridges.card import CARD_PATHS
from a2a_bridges.client.answer import state_name
from a2a_bridges.conversation import (
    JSON_MEDIA_TYPE,
    DataPart,
    Part,
    TextPart,
    part_from_a2a,
    part_from_v03,
)

__all__ = [
    "CALLER_HEADER",
    "CANCEL_METHODS",
    "MESSAGE_METHODS",
    "REST_METHODS",
    "RESULT_TYPES",
    "TEXT_KEPT",
    "V03_METHODS",
    "Event",
    "Exchange",
    "JsonlSink",
    "Note",
    "Recording",
    "Sink",
    "Transcript",
    "summarize_part",
]

CALLER_HEADER = "x-a2a-scenario-caller"
"""The header each scenario caller sends, naming itself, so an exchange knows who called."""

MESSAGE_METHODS = ("SendMessage", "SendStreamingMessage", "message/send", "message/stream")
CANCEL_METHODS = ("CancelTask", "tasks/cancel")

TEXT_KEPT = 100_000
"""Characters of one text part a record keeps (an oversized message is recorded cut)."""

# HTTP+JSON paths (A2A 1.0, and 0.3 under /v1) → the JSON-RPC method they stand for.
REST_METHODS = (
    (re.compile(r"/message:send$"), "POST", "SendMessage", "message/send"),
    (re.compile(r"/message:stream$"), "POST", "SendStreamingMessage", "message/stream"),
    (re.compile(r"/tasks/[^/]+:cancel$"), "POST", "CancelTask", "tasks/cancel"),
    (re.compile(r"/tasks/[^/:]+$"), "GET", "GetTask", "tasks/get"),
)

V03_METHODS = {v03: v10 for _, _, v10, v03 in REST_METHODS}

# A timestamp with no offset (fasta2a 2.1.1 writes them): the a2a-sdk 1.x cannot parse it.
_NAIVE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")

# The a2a 1.0 JSON-RPC methods, and the type of their result.
RESULT_TYPES: dict[str, type[ProtoMessage]] = {
    "SendMessage": SendMessageResponse,
    "SendStreamingMessage": StreamResponse,
    "SubscribeToTask": StreamResponse,
    "GetTask": Task,
    "CancelTask": Task,
}


@dataclass
class Event:
    """One thing the server sent back: a task, a status update, an artifact chunk, a message."""

    t: float
    kind: str
    state: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    append: bool = False
    last_chunk: bool = False
    task_id: str | None = None
    context_id: str | None = None
    artifact_id: str | None = None
    status_parts: list[dict[str, Any]] = field(default_factory=list)
    """A task's status message, when its artifacts are `parts`."""
    artifacts: int = 0
    """How many artifacts a task's `parts` come from."""


@dataclass
class Exchange:
    """One HTTP request to a served participant and everything it answered."""

    id: str
    server: str
    server_framework: str
    caller: str
    method: str
    path: str
    started: float
    status: int = 0
    first_byte: float | None = None
    ended: float | None = None
    request_parts: list[dict[str, Any]] = field(default_factory=list)
    context_id: str | None = None
    task_id: str | None = None
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    caller_framework: str | None = None
    blocking: bool = True
    """Whether the request let the server answer before the task is done (it did not ask
    `returnImmediately`, nor 0.3's `blocking: false`)."""
    oddities: list[str] = field(default_factory=list)
    """What the response said in a form known clients cannot read (`naive-timestamps`)."""

    @property
    def is_message(self) -> bool:
        """Whether the request sent a message (as opposed to reading a card or a task)."""
        return self.method in MESSAGE_METHODS

    @property
    def is_cancel(self) -> bool:
        """Whether the request cancelled a task."""
        return self.method in CANCEL_METHODS

    @property
    def states(self) -> list[str]:
        """The task states the server reported, in order, repeats dropped."""
        out: list[str] = []
        for e in self.events:
            if e.state and (not out or out[-1] != e.state):
                out.append(e.state)
        return out

    @property
    def final_state(self) -> str | None:
        """The last task state the server reported."""
        return self.states[-1] if self.states else None

    @property
    def result_task_id(self) -> str | None:
        """The task the server answered in."""
        return next((e.task_id for e in self.events if e.task_id), None) or self.task_id

    @property
    def result_context_id(self) -> str | None:
        """The context the server answered in."""
        return next((e.context_id for e in self.events if e.context_id), None) or self.context_id

    @property
    def chunks(self) -> int:
        """How many artifact chunks streamed before the last one."""
        return sum(1 for e in self.events if e.kind == "artifact" and not e.last_chunk)

    @property
    def answer_parts(self) -> list[dict[str, Any]]:
        """The answer's parts, as the last thing the server sent holds them: the artifact its
        chunks built (adjacent texts joined), or a task's, a message's or a status's parts."""
        parts: list[dict[str, Any]] = []
        artifact: list[dict[str, Any]] = []
        for e in self.events:
            if e.kind == "artifact":
                artifact = [*artifact, *e.parts] if e.append else list(e.parts)
                parts = artifact
            elif e.parts:
                parts = e.parts
        return _joined(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        """From `to_dict` output."""
        events = [Event(**e) for e in data.get("events", [])]
        return cls(**{**data, "events": events})

    def _oddity(self, oddity: str) -> None:
        if oddity not in self.oddities:
            self.oddities.append(oddity)


def _joined(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parts with each run of text parts joined into one."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part and out and set(out[-1]) == {"text"} and set(part) == {"text"}:
            out[-1] = {"text": out[-1]["text"] + part["text"]}
        else:
            out.append(part)
    return out


@dataclass
class Note:
    """Something a served agent's own code reported, such as its run being cancelled."""

    t: float
    participant: str
    text: str


class Sink(Protocol):
    """Where a recording goes."""

    def opened(self, exchange: Exchange) -> None:
        """An exchange started."""

    def closed(self, exchange: Exchange) -> None:
        """An exchange ended."""

    def note(self, participant: str, text: str) -> None:
        """A served agent reported something."""


class Transcript:
    """What one scenario run recorded: from servers in this process, and from child processes'
    JSON-lines files. Thread-safe: servers record from their own threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._notes: list[Note] = []
        self._open: dict[str, str] = {}  # exchange id -> its caller
        self._files: list[Path] = []

    def opened(self, exchange: Exchange) -> None:
        with self._lock:
            self._open[exchange.id] = exchange.caller

    def closed(self, exchange: Exchange) -> None:
        with self._lock:
            self._open.pop(exchange.id, None)
            self._exchanges.append(exchange)

    def open_for(self, caller: str) -> int:
        """How many exchanges of `caller` are still open (in this process)."""
        with self._lock:
            return sum(1 for c in self._open.values() if c == caller)

    def note(self, participant: str, text: str) -> None:
        with self._lock:
            self._notes.append(Note(time.time(), participant, text))

    def follow(self, path: Path) -> None:
        """Also read what a child process records into `path`."""
        self._files.append(path)

    def absorb(self) -> None:
        """Keep what child processes recorded, and stop reading their files."""
        exchanges, notes, _ = self.snapshot()
        with self._lock:
            self._exchanges, self._notes, self._files = exchanges, notes, []

    def snapshot(self) -> tuple[list[Exchange], list[Note], int]:
        """The exchanges and notes so far, by time, and how many exchanges are still open."""
        with self._lock:
            exchanges, notes = list(self._exchanges), list(self._notes)
            opened = set(self._open)
        for path in self._files:
            text = path.read_text() if path.exists() else ""
            # The child may be halfway through writing its last line: that one waits.
            for line in text[: text.rfind("\n") + 1].splitlines():
                record = json.loads(line)
                kind = record.pop("type")
                if kind == "opened":
                    opened.add(record["id"])
                elif kind == "closed":
                    exchange = Exchange.from_dict(record)
                    opened.discard(exchange.id)
                    exchanges.append(exchange)
                else:
                    notes.append(Note(**record))
        exchanges.sort(key=lambda e: e.started)
        notes.sort(key=lambda n: n.t)
        return exchanges, notes, len(opened)


class JsonlSink:
    """A recording as JSON lines, for a server in a child process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _write(self, record: dict[str, Any]) -> None:
        with self._lock, self.path.open("a") as f:
            f.write(json.dumps(record, default=str) + "\n")

    def opened(self, exchange: Exchange) -> None:
        self._write({"type": "opened", "id": exchange.id})

    def closed(self, exchange: Exchange) -> None:
        self._write({"type": "closed", **exchange.to_dict()})

    def note(self, participant: str, text: str) -> None:
        self._write({"type": "note", "t": time.time(), "participant": participant, "text": text})


# --- reading the protocol, for the record only ---


def summarize_part(part: Part) -> dict[str, Any]:
    """A part as the transcript shows it: files by size and digest, not their bytes."""
    if isinstance(part, TextPart):
        if len(part.text) > TEXT_KEPT:
            return {"text": part.text[:TEXT_KEPT] + "…", "chars": len(part.text)}
        return {"text": part.text}
    if isinstance(part, DataPart):
        kept: dict[str, Any] = {"data": part.data}
        if part.media_type != JSON_MEDIA_TYPE:
            kept["media_type"] = part.media_type
        return {**kept, **({"metadata": part.metadata} if part.metadata else {})}
    file: dict[str, Any] = {"name": part.name, "media_type": part.media_type}
    if part.bytes is not None:
        file["bytes"] = len(part.bytes)
        file["sha256"] = hashlib.sha256(part.bytes).hexdigest()[:12]
    else:
        file["uri"] = part.uri
    return {"file": file}


def _parts(parts: Any) -> list[dict[str, Any]]:
    return [summarize_part(part_from_a2a(p)) for p in parts]


def _task_event(t: float, task: Task) -> Event:
    said = _parts(task.status.message.parts)
    parts = [p for a in task.artifacts for p in _parts(a.parts)]
    return Event(
        t,
        "task",
        state_name(task.status.state),
        parts or said,
        task_id=task.id,
        context_id=task.context_id,
        status_parts=said if parts else [],
        artifacts=len(task.artifacts),
    )


def _event(t: float, result: ProtoMessage) -> Event:
    """One a2a 1.0 result as an event."""
    if isinstance(result, Task):
        return _task_event(t, result)
    if isinstance(result, Message):
        return Event(t, "message", None, _parts(result.parts), context_id=result.context_id)
    kind = result.WhichOneof("payload")
    if kind in ("task", "message"):
        return _event(t, getattr(result, kind))
    if isinstance(result, StreamResponse) and kind == "status_update":
        u = result.status_update
        parts = _parts(u.status.message.parts)
        state = state_name(u.status.state)
        return Event(t, "status", state, parts, task_id=u.task_id, context_id=u.context_id)
    if isinstance(result, StreamResponse) and kind == "artifact_update":
        u = result.artifact_update
        parts = _parts(u.artifact.parts)
        return Event(
            t,
            "artifact",
            None,
            parts,
            u.append,
            u.last_chunk,
            task_id=u.task_id,
            context_id=u.context_id,
            artifact_id=u.artifact.artifact_id,
        )
    return Event(t, kind or "empty")


def _v03_event(t: float, result: dict[str, Any]) -> Event:
    """An A2A 0.3 result (objects with `kind`), roughly: its state and parts."""
    status = result.get("status") or {}
    said = [
        summarize_part(part_from_v03(p)) for p in (status.get("message") or {}).get("parts", [])
    ]
    parts = [summarize_part(part_from_v03(p)) for p in result.get("parts") or []]
    artifact = result.get("artifact") or {}
    for a in [*result.get("artifacts", []), artifact]:
        parts += [summarize_part(part_from_v03(p)) for p in a.get("parts", [])]
    kinds = {"status-update": "status", "artifact-update": "artifact"}
    kind = str(result.get("kind", "result"))
    return Event(
        t,
        kinds.get(kind, kind),
        status.get("state"),
        parts or said,
        bool(result.get("append")),
        bool(result.get("lastChunk")),
        result.get("taskId") or (result.get("id") if kind == "task" else None),
        result.get("contextId"),
        artifact.get("artifactId"),
        said if parts and kind == "task" else [],
        len(result.get("artifacts") or []),
    )


def _mend_timestamps(exchange: Exchange, value: Any) -> None:
    """Read naive timestamps as UTC, as a tolerant client does, and say they were naive."""
    if isinstance(value, list):
        for item in value:
            _mend_timestamps(exchange, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "timestamp" and isinstance(item, str) and _NAIVE.match(item):
                value[key] = item + "Z"
                exchange._oddity("naive-timestamps")
            else:
                _mend_timestamps(exchange, item)


def _from_v03_proto(value: Any) -> None:
    """A2A 0.3 over HTTP+JSON speaks protobuf JSON as 1.0 does, but names a message `msg`
    and spells the canceled state `TASK_STATE_CANCELLED`: read both the 1.0 way."""
    if isinstance(value, list):
        for item in value:
            _from_v03_proto(item)
    elif isinstance(value, dict):
        if "msg" in value:
            value["message"] = value.pop("msg")
        if value.get("state") == "TASK_STATE_CANCELLED":
            value["state"] = "TASK_STATE_CANCELED"
        for item in value.values():
            _from_v03_proto(item)


def _read_result(exchange: Exchange, t: float, payload: dict[str, Any]) -> None:
    if "error" in payload:
        error = payload["error"]
        exchange.error = str(error.get("message", error) if isinstance(error, dict) else error)
        exchange.events.append(Event(t, "error"))
        return
    # A JSON-RPC result, or an HTTP+JSON body (the result itself).
    rest = "jsonrpc" not in payload and "result" not in payload
    result = payload if rest else payload.get("result")
    if not isinstance(result, dict):
        return
    _mend_timestamps(exchange, result)
    method = exchange.method
    if rest and method in V03_METHODS:
        method = V03_METHODS[method]
        _from_v03_proto(result)
    result_type = RESULT_TYPES.get(method)
    if result_type is None:
        exchange.events.append(_v03_event(t, result))
        return
    parsed = json_format.ParseDict(result, result_type(), ignore_unknown_fields=True)
    exchange.events.append(_event(t, parsed))


def _record_result(exchange: Exchange, t: float, payload: dict[str, Any]) -> None:
    try:
        _read_result(exchange, t, payload)
    except Exception as exc:  # a record must never break the exchange it watches
        exchange.error = exchange.error or f"unreadable response: {exc}"


def _read_request(exchange: Exchange, body: bytes) -> None:
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            _read_payload(exchange, payload)
    except Exception as exc:  # a record must never break the exchange it watches
        exchange.error = exchange.error or f"unreadable request: {exc}"


def _read_payload(exchange: Exchange, payload: dict[str, Any]) -> None:
    exchange.method = str(payload.get("method", exchange.method))
    # A JSON-RPC request, or an HTTP+JSON body (the params themselves).
    params = (payload.get("params") or {}) if "jsonrpc" in payload else payload
    configuration = params.get("configuration") or {}
    exchange.blocking = not configuration.get("returnImmediately") and configuration.get(
        "blocking", True
    )
    message = params.get("message")
    # A2A 0.3 over HTTP+JSON sends protobuf JSON, its message named `request`.
    proto = exchange.method in ("SendMessage", "SendStreamingMessage")
    if "jsonrpc" not in payload and exchange.method in V03_METHODS:
        message, proto = params.get("request", message), True
    if isinstance(message, dict) and proto:
        parsed = json_format.ParseDict(message, Message(), ignore_unknown_fields=True)
        exchange.request_parts = _parts(parsed.parts)
        exchange.context_id = parsed.context_id or None
        exchange.task_id = parsed.task_id or None
    elif isinstance(message, dict):
        exchange.request_parts = [summarize_part(part_from_v03(p)) for p in message["parts"]]
        exchange.context_id = message.get("contextId")
        exchange.task_id = message.get("taskId")
    elif isinstance(params.get("id"), str):
        exchange.task_id = params["id"]


class _SseReader:
    """Reads server-sent events as their bytes pass by."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self.buffer += chunk.decode(errors="replace").replace("\r\n", "\n")
        *blocks, self.buffer = self.buffer.split("\n\n")
        out = []
        for block in blocks:
            data = "\n".join(
                line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")
            )
            if data:
                try:
                    out.append(json.loads(data))
                except ValueError:
                    continue
        return out


class _Watch:
    """One exchange as its bytes pass: the request body, and the response as it streams."""

    def __init__(self, exchange: Exchange, receive: Receive, send: Send) -> None:
        self.exchange = exchange
        self._receive = receive
        self._send = send
        self.body = bytearray()
        self.response = bytearray()
        self.sse: _SseReader | None = None

    async def receive(self) -> AsgiMessage:
        message = await self._receive()
        if message["type"] == "http.request":
            self.body.extend(message.get("body", b""))
        return message

    async def send(self, message: AsgiMessage) -> None:
        exchange, now = self.exchange, time.time()
        if message["type"] == "http.response.start":
            exchange.status = int(message["status"])
            kinds = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
            if kinds and b"event-stream" in kinds[0]:
                self.sse = _SseReader()
                # The request is whole once the response starts; read it before the events.
                _read_request(exchange, bytes(self.body))
        elif message["type"] == "http.response.body" and message.get("body"):
            exchange.first_byte = exchange.first_byte or now
            if self.sse is not None:
                for payload in self.sse.feed(message["body"]):
                    _record_result(exchange, now, payload)
            else:
                self.response.extend(message["body"])
        await self._send(message)

    def finish(self) -> None:
        """Read what was not read as it passed: a plain request and its JSON response."""
        exchange = self.exchange
        exchange.ended = time.time()
        if self.sse is not None:
            return
        if self.body:
            _read_request(exchange, bytes(self.body))
        if exchange.method == "card" or not self.response:
            return
        try:
            payload = json.loads(self.response)
        except ValueError:
            payload = None
        if exchange.status >= 400 and not (isinstance(payload, dict) and "error" in payload):
            said = payload.get("message") if isinstance(payload, dict) else None
            exchange.error = str(said or f"HTTP {exchange.status}")
        elif isinstance(payload, dict):
            _record_result(exchange, exchange.ended, payload)


def _method(verb: str, path: str, headers: dict[str, str]) -> str:
    """What a request does: `card`, a JSON-RPC method (read from its body later), or the
    method an HTTP+JSON path stands for, in the A2A version the request names."""
    if path in CARD_PATHS:
        return "card"
    for pattern, method, v10, v03 in REST_METHODS:
        if verb == method and pattern.search(path):
            return v10 if headers.get("a2a-version", "").startswith("1") else v03
    return f"{verb} {path}"


class Recording:
    """ASGI middleware that records every exchange with the app into a sink.

    It only watches bytes go by: requests and responses pass through unchanged and streamed
    events are forwarded as they come, each recorded with the time it passed. JSON-RPC
    exchanges (A2A 1.0 and 0.3) are read in full; others keep their HTTP method and path.
    """

    def __init__(self, app: ASGIApp, *, server: str, framework: str, sink: Sink) -> None:
        self.app = app
        self.server = server
        self.framework = framework
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        path = scope.get("path", "/")
        exchange = Exchange(
            id=uuid.uuid4().hex[:12],
            server=self.server,
            server_framework=self.framework,
            caller=headers.get(CALLER_HEADER, "unknown"),
            method=_method(scope.get("method", "GET"), path, headers),
            path=path,
            started=time.time(),
        )
        if "/tasks/" in path:  # HTTP+JSON names the task in the path
            exchange.task_id = path.rsplit("/tasks/", 1)[1].split(":")[0] or None
        self.sink.opened(exchange)
        watch = _Watch(exchange, receive, send)
        try:
            await self.app(scope, watch.receive, watch.send)
        finally:
            watch.finish()
            self.sink.closed(exchange)
