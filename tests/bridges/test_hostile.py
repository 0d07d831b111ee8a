"""Hostile input, generated and known: every endpoint, version and binding on every store answers
below 500, with JSON (or a whole SSE stream), never a traceback, SQL, a path or the store's
address; stored tasks stay as they were, and the server keeps serving."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from a2a_bridges import Conversation, to_a2a
from a2a_bridges.testing import running

pytestmark = pytest.mark.anyio

EXAMPLES = int(os.environ.get("A2A_BRIDGES_HOSTILE_EXAMPLES", "200"))
"""Generated requests per store; set it to thousands to explore locally (then at random)."""

MEMORY_REQUESTS = int(os.environ.get("A2A_BRIDGES_HOSTILE_MEMORY_REQUESTS", "200"))
"""Generated requests (hostile and valid) in each of the three rounds sent to the server whose
memory is measured."""

EXPLORING = "A2A_BRIDGES_HOSTILE_EXAMPLES" in os.environ

# By default the same examples every run (no luck in CI); HYPOTHESIS_PROFILE picks a profile.
SETTINGS = settings(
    settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default")),
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not EXPLORING,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LEAKS = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "[SQL:",
    "sqlite3",
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "/work/",
    "/tmp/",
    "site-packages",
    '.py"',
    ".py:",
    "postgresql://",
    "postgresql+asyncpg",
)
"""What no response may carry, unless the request itself did."""

ENDS = re.compile(
    r'"(TASK_STATE_(COMPLETED|FAILED|CANCELED|REJECTED|INPUT_REQUIRED|AUTH_REQUIRED)'
    r'|completed|failed|canceled|rejected|input-required|auth-required)"'
)
"""A task state after which a stream may end."""

JSON_TYPE = re.compile(r"application/([a-z0-9.+-]+\+)?json\b")


async def agent(conversation: Conversation) -> AsyncIterator[str]:
    """Streams two deltas, naming only counts: answers never echo the caller's text."""
    yield "turns: "
    yield f"{len(conversation.turns)}, parts: {len(conversation.last.parts)}"


# --- requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One HTTP request, as sent."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def __repr__(self) -> str:
        body = self.body if self.body is None or len(self.body) < 600 else self.body[:600] + b"..."
        return f"Call({self.method} {self.path} {self.headers} {body!r})"


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as is (nesting too deep for `json.dumps`, NaN spelled out)."""

    text: str


def dumps(value: object, ascii_only: bool = True) -> bytes:
    """`value` as JSON, `Raw` pieces inserted verbatim; lone surrogates kept, as escapes (or as
    the bytes no UTF-8 decoder takes)."""
    raws: list[str] = []

    def raw(piece: object) -> str:
        assert isinstance(piece, Raw)
        raws.append(piece.text)
        return f"\x00raw{len(raws) - 1}\x00"

    text = json.dumps(value, default=raw, ensure_ascii=ascii_only, allow_nan=True)
    for i, piece in enumerate(raws):
        placeholder = json.dumps(f"\x00raw{i}\x00", ensure_ascii=ascii_only)
        text = text.replace(placeholder, piece)
    return text.encode("utf-8", "surrogatepass")


V1 = {"A2A-Version": "1.0", "Content-Type": "application/json"}
V03 = {"Content-Type": "application/json"}


def rpc(method: str, params: object, version: str = "1.0", id: object = 1) -> Call:
    body = dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    return Call("POST", "/", V1 if version == "1.0" else V03, body)


def rest(method: str, path: str, body: object = None, version: str = "1.0") -> Call:
    encoded = None if body is None else body if isinstance(body, bytes) else dumps(body)
    return Call(method, path, V1 if version == "1.0" else V03, encoded)


def segment(value: str) -> str:
    """`value` as one URL path segment (lone surrogates as the UTF-8 bytes they would be),
    short enough for a request line."""
    return quote(value[:2000].encode("utf-8", "surrogatepass"), safe="")


# --- strategies ----------------------------------------------------------------------------

SURROGATES = st.sampled_from(["\ud800", "\udfff", "\udc00", "\ud83d"])
ODD_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u202e",
        "\ufeff",
        "ROLE_ROBOT",
        "TASK_STATE_WHAT",
        "ROLE_AGENT",
        "agent",
        "input-required",
        "9.9",
        "../../etc/passwd",
        "%00",
        "'; DROP TABLE tasks; --",
        "💥" * 40,
        "é" * 37,
    ]
)
LONG_STRINGS = st.sampled_from([37, 300, 70_000, 1_000_000]).map(lambda n: "x" * n)
TEXT = st.one_of(
    st.text(max_size=30),
    ODD_STRINGS,
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), SURROGATES, st.text(max_size=4)),
    LONG_STRINGS,
)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([10**30, -(10**30), 2**31, 2**63, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(TEXT, NUMBERS, st.booleans(), st.none())
DEEP = st.sampled_from([64, 1_000, 100_000]).map(lambda n: Raw("[" * n + "]" * n))
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=4),
    st.builds(lambda: [{} for _ in range(5)]),
    DEEP,
    st.sampled_from([Raw("NaN"), Raw("-Infinity"), Raw("1e999"), Raw('"\\ud800"')]),
)


@dataclass(frozen=True)
class Known:
    """A task stored before the attack, whose id the generated requests reuse."""

    task_id: str
    context_id: str


def ids(known: Known) -> st.SearchStrategy[str]:
    """Ids: mostly fresh or known ones, so that most messages make a task; a few hostile."""
    fresh = st.uuids().map(str)
    return st.one_of(st.just(known.task_id), st.just(known.context_id), fresh, fresh, fresh, TEXT)


def message(draw: st.DrawFn, known: Known, version: str, rest: bool) -> dict[str, Any]:
    """A valid message of that version and binding, some ids taken from `known`."""
    text = draw(st.text(max_size=20))
    if version == "1.0":
        part = draw(
            st.sampled_from(
                [
                    {"text": text},
                    {"data": {"n": 1, "t": text}},
                    {"raw": "aGk=", "mediaType": "text/plain", "filename": "f.txt"},
                    {"url": "https://example.com/f", "mediaType": "image/png"},
                ]
            )
        )
        msg: dict[str, Any] = {"messageId": draw(ids(known)), "role": "ROLE_USER", "parts": [part]}
    elif rest:  # 0.3 HTTP+JSON: the 0.3 proto's JSON
        part = draw(
            st.sampled_from(
                [
                    {"text": text},
                    {"data": {"data": {"n": 1}}},
                    {"file": {"fileWithUri": "https://example.com/f", "mimeType": "image/png"}},
                    # Base64 twice, as the SDK's 0.3 client sends it (and its server reads).
                    {"file": {"fileWithBytes": "YUdrPQ==", "mimeType": "text/plain"}},
                ]
            )
        )
        msg = {"messageId": draw(ids(known)), "role": "ROLE_USER", "content": [part]}
    else:
        part = draw(
            st.sampled_from(
                [
                    {"kind": "text", "text": text},
                    {"kind": "data", "data": {"n": 1}},
                    {"kind": "file", "file": {"bytes": "aGk=", "mimeType": "text/plain"}},
                    {"kind": "file", "file": {"uri": "https://example.com/f", "name": "f"}},
                ]
            )
        )
        msg = {"kind": "message", "messageId": draw(ids(known)), "role": "user", "parts": [part]}
    if draw(st.booleans()):
        msg["contextId"] = draw(ids(known))
    if draw(st.integers(0, 4)) == 0:  # mostly new tasks: a taskId names one that exists
        msg["taskId"] = draw(ids(known))
    if draw(st.booleans()):
        msg["metadata"] = {"k": draw(st.text(max_size=10))}
    return msg


def send_params(draw: st.DrawFn, known: Known, version: str, rest: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"message": message(draw, known, version, rest)}
    if draw(st.booleans()):
        last = "returnImmediately" if version == "1.0" else "blocking"
        params["configuration"] = {
            "acceptedOutputModes": ["text/plain"],
            "historyLength": draw(st.integers(0, 5)),
            last: draw(st.booleans()),
        }
    return params


@st.composite
def valid_calls(draw: st.DrawFn, known: Known) -> tuple[Call, dict[str, Any] | None]:
    """A valid request to any endpoint, and its JSON body (None: the body is not JSON)."""
    task = draw(ids(known))
    push = {"url": "https://example.com/hook", "id": "p1", "token": "t"}
    send = {"send": True}  # stands for a message's params, drawn once the endpoint is chosen
    choices: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("rpc", "1.0", "SendMessage", send),
        ("rpc", "1.0", "SendStreamingMessage", send),
        ("rpc", "1.0", "GetTask", {"id": task, "historyLength": draw(st.integers(0, 3))}),
        ("rpc", "1.0", "ListTasks", {"contextId": draw(ids(known)), "pageSize": 5}),
        ("rpc", "1.0", "CancelTask", {"id": task}),
        ("rpc", "1.0", "SubscribeToTask", {"id": task}),
        ("rpc", "1.0", "GetExtendedAgentCard", {}),
        ("rpc", "1.0", "CreateTaskPushNotificationConfig", {"taskId": task, **push}),
        ("rpc", "1.0", "GetTaskPushNotificationConfig", {"taskId": task, "id": "p1"}),
        ("rpc", "1.0", "ListTaskPushNotificationConfigs", {"taskId": task}),
        ("rpc", "1.0", "DeleteTaskPushNotificationConfig", {"taskId": task, "id": "p1"}),
        ("rpc", "0.3", "message/send", send),
        ("rpc", "0.3", "message/stream", send),
        ("rpc", "0.3", "tasks/get", {"id": task, "historyLength": draw(st.integers(0, 3))}),
        ("rpc", "0.3", "tasks/cancel", {"id": task}),
        ("rpc", "0.3", "tasks/resubscribe", {"id": task}),
        ("rpc", "0.3", "agent/getAuthenticatedExtendedCard", {}),
        (
            "rpc",
            "0.3",
            "tasks/pushNotificationConfig/set",
            {"taskId": task, "pushNotificationConfig": push},
        ),
        ("rpc", "0.3", "tasks/pushNotificationConfig/get", {"id": task}),
        ("rpc", "0.3", "tasks/pushNotificationConfig/list", {"id": task}),
        (
            "rpc",
            "0.3",
            "tasks/pushNotificationConfig/delete",
            {"id": task, "pushNotificationConfigId": "p1"},
        ),
    ]
    # HTTP+JSON 1.0 (also under a tenant) and 0.3
    tenant = draw(st.sampled_from(["", "/t1"]))
    at = segment(task)
    choices += [
        ("POST", "1.0", f"{tenant}/message:send", send),
        ("POST", "1.0", f"{tenant}/message:stream", send),
        ("POST", "0.3", "/v1/message:send", send),
        ("POST", "0.3", "/v1/message:stream", send),
        ("GET", "1.0", f"{tenant}/tasks/{at}?historyLength=2", None),
        ("GET", "1.0", f"{tenant}/tasks?pageSize=5&contextId={segment(known.context_id)}", None),
        ("POST", "1.0", f"{tenant}/tasks/{at}:cancel", {}),
        ("GET", "1.0", f"{tenant}/tasks/{at}:subscribe", None),
        ("POST", "1.0", f"{tenant}/tasks/{at}:subscribe", {}),
        ("GET", "1.0", f"{tenant}/extendedAgentCard", None),
        ("POST", "1.0", f"{tenant}/tasks/{at}/pushNotificationConfigs", push),
        ("GET", "1.0", f"{tenant}/tasks/{at}/pushNotificationConfigs", None),
        ("GET", "1.0", f"{tenant}/tasks/{at}/pushNotificationConfigs/p1", None),
        ("DELETE", "1.0", f"{tenant}/tasks/{at}/pushNotificationConfigs/p1", None),
        ("GET", "0.3", f"/v1/tasks/{at}?historyLength=2", None),
        ("POST", "0.3", f"/v1/tasks/{at}:cancel", {}),
        ("GET", "0.3", f"/v1/tasks/{at}:subscribe", None),
        ("POST", "0.3", f"/v1/tasks/{at}:subscribe", {}),
        ("GET", "0.3", "/v1/card", None),
        ("POST", "0.3", f"/v1/tasks/{at}/pushNotificationConfigs", {"config": push}),
        ("GET", "0.3", f"/v1/tasks/{at}/pushNotificationConfigs", None),
        ("GET", "0.3", f"/v1/tasks/{at}/pushNotificationConfigs/p1", None),
        ("GET", "1.0", "/.well-known/agent-card.json", None),
        ("GET", "1.0", "/health", None),
    ]
    sends = [choice for choice in choices if choice[3] is send]
    kind, version, name, params = draw(st.sampled_from(choices + sends * 2))
    if params is send:
        params = send_params(draw, known, version, kind != "rpc")
    if kind == "rpc":
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": draw(st.integers(0, 99)), "method": name}
        body["params"] = params
        return rpc(name, params, version, body["id"]), body
    return rest(kind, name, params, version), params


def paths(value: object, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, outermost first."""
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*at, i))


def mutate(draw: st.DrawFn, value: Any) -> Any:
    """`value` with one place replaced, removed, given a sibling, or nested deep."""
    where = draw(st.sampled_from(list(paths(value))))
    how = draw(st.sampled_from(["replace", "replace", "remove", "extra", "nest"]))
    if not where:
        return draw(VALUES) if how != "nest" else [[[value]]]
    parent = value
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    if how == "replace":
        parent[last] = draw(VALUES)
    elif how == "remove":
        del parent[last]
    elif how == "extra" and isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = draw(VALUES)
    elif how == "extra":
        parent.append(draw(VALUES))
    else:
        parent[last] = {"deep": [[[[parent[last]]]]], "raw": draw(DEEP)}
    return value


@st.composite
def hostile_calls(draw: st.DrawFn, known: Known) -> Call:
    """A valid request, mutated: its JSON, its body's bytes, its query, its headers."""
    call, body = draw(valid_calls(known))
    headers = dict(call.headers)
    if body is not None:
        body = json.loads(json.dumps(body))  # a copy to mutate
        for _ in range(draw(st.integers(0, 3))):
            body = mutate(draw, body)
        encoded = dumps(body, ascii_only=draw(st.booleans()))
        spoil = draw(st.sampled_from(["none", "none", "none", "truncate", "garbage", "empty"]))
        if spoil == "truncate" and encoded:
            encoded = encoded[: draw(st.integers(0, len(encoded) - 1))]
        elif spoil == "garbage":
            encoded = draw(st.binary(max_size=64))
        elif spoil == "empty":
            encoded = b""
        call = Call(call.method, call.path, headers, encoded)
    if "?" in call.path and draw(st.booleans()):
        name = draw(st.sampled_from(["historyLength", "pageSize", "status", "pageToken"]))
        value = draw(st.one_of(NUMBERS.map(str), st.text(max_size=10)))
        call = Call(call.method, f"{call.path}&{name}={segment(value)}", headers, call.body)
    if draw(st.integers(0, 9)) == 0:
        odd = st.sampled_from(["", "0.3", "1.0", "2.0", "1", "abc", "1.0, 0.3", "0.3.0"])
        headers["A2A-Version"] = draw(odd)
    if draw(st.integers(0, 9)) == 0:
        kinds = ["text/plain", "", "application/a2a+json", "multipart/form-data; boundary=x"]
        headers["Content-Type"] = draw(st.sampled_from(kinds))
    if draw(st.integers(0, 19)) == 0:
        printable = st.characters(min_codepoint=32, max_codepoint=126)
        headers["A2A-Extensions"] = draw(st.text(printable)).strip()  # as HTTP allows
    if draw(st.integers(0, 19)) == 0:
        call = Call(draw(st.sampled_from(["GET", "PUT", "DELETE", "PATCH"])), call.path)
    return Call(call.method, call.path, headers, call.body)


# --- checks --------------------------------------------------------------------------------


def strings(value: object) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def events(text: str) -> list[str]:
    """The data of each event of an SSE stream."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            found.append("\n".join(data))
    return found


def tasks_in(value: object) -> Iterator[str]:
    """The id of every task a JSON value holds (1.0 and 0.3 shapes alike)."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and "contextId" in value and "status" in value:
            yield value["id"]
        for item in value.values():
            yield from tasks_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from tasks_in(item)


@dataclass
class Target:
    """A running server under attack, what it must never tell, and the tasks it made."""

    url: str
    secrets: tuple[str, ...] = ()
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=20))
    made: set[str] = field(default_factory=set)

    def send(self, call: Call) -> httpx.Response:
        """Send `call` and check everything the server says back."""
        request = self.client.build_request(
            call.method, self.url + call.path, headers=call.headers, content=call.body
        )
        response = self.client.send(request, stream=True)
        try:
            response.read()  # a stream cut short raises here
        finally:
            response.close()
        text = response.content.decode("utf-8", "replace")
        assert response.status_code < 500, f"{response.status_code}: {text[:500]}"
        kind = response.headers.get("content-type", "")
        if response.is_redirect or response.status_code == 304:
            bodies = []  # /tasks/ is sent to /tasks, say; a card not changed
        elif kind.startswith("text/event-stream"):
            bodies = events(text)
            assert bodies, f"an empty stream: {text[:300]!r}"
            last = bodies[-1]
            assert '"error"' in last or ENDS.search(last), f"the stream ends early: {last[:300]}"
        else:
            assert JSON_TYPE.match(kind), f"{kind}: {text[:300]}"
            bodies = [text]
        said = (call.body or b"").decode("utf-8", "replace") + unquote(call.path)
        for body in bodies:
            parsed = json.loads(body)
            seen = [*strings(parsed), body]
            for leak in (*LEAKS, *self.secrets):
                assert not any(leak in s for s in seen) or leak in said, f"{leak!r} in {body[:500]}"
            if response.status_code == 200:
                self.made.update(tasks_in(parsed))
        return response

    def read(self, task_id: str) -> list[object]:
        """The task as each binding and version reads it."""
        at = segment(task_id)
        reads = [
            rpc("GetTask", {"id": task_id}),
            rpc("tasks/get", {"id": task_id}, "0.3"),
            rest("GET", f"/tasks/{at}"),
            rest("GET", f"/v1/tasks/{at}", version="0.3"),
        ]
        tasks = []
        for call in reads:
            response = self.send(call)
            assert response.status_code == 200, response.text
            assert "error" not in response.json(), response.text
            tasks.append(response.json())
        return tasks

    def answers(self, text: str) -> dict[str, Any]:
        """The completed task a valid message gets."""
        msg = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"text": text}]}
        task: dict[str, Any] = self.send(rpc("SendMessage", {"message": msg})).json()["result"]
        task = task["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED", task
        assert task["artifacts"][0]["parts"][0]["text"] == "turns: 1, parts: 1"
        return task


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Each store: memory (None), SQLite, PostgreSQL (skipped where none answers)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return None


@pytest.fixture
def target(store: str | None, tmp_path: Path) -> Iterator[Target]:
    """A server on `store`, with ListTasks on so that it reaches the store, and what it must
    not tell: where its store lives."""
    secrets = (str(tmp_path), store.rpartition("/")[2]) if store else ()
    with running(to_a2a(agent, store=store, list_tasks=True)) as url:
        target = Target(url, secrets)
        yield target
        target.client.close()


async def test_generated_hostile_requests(target: Target) -> None:
    seed = target.answers("seed")
    known = Known(seed["id"], seed["contextId"])
    before = target.read(known.task_id)

    @SETTINGS
    @given(hostile_calls(known))
    def attack(call: Call) -> None:
        target.send(call)

    attack()
    assert target.read(known.task_id) == before
    # Every task the attack made reads back, in each version and binding.
    for task_id in sorted(target.made)[:100]:
        target.read(task_id)
    target.answers("still there?")


# --- known hostile requests ----------------------------------------------------------------

MESSAGE = {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "hi"}]}
MESSAGE_03 = {
    "kind": "message",
    "messageId": "m",
    "role": "user",
    "parts": [{"kind": "text", "text": "hi"}],
}
MESSAGE_03_REST = {"messageId": "m", "role": "ROLE_USER", "content": [{"text": "hi"}]}


def with_(base: dict[str, Any], **changes: object) -> dict[str, Any]:
    return {**base, **changes}


KNOWN: dict[str, tuple[Call, int]] = {
    # A lone surrogate: the SDK stored or parsed it, then failed to send it back (500, or a
    # JSON-RPC stream cut after 200).
    "jsonrpc id with a lone surrogate": (
        rpc("SendMessage", {"message": MESSAGE}, id="\ud800"),
        -32700,
    ),
    "0.3 jsonrpc id with a lone surrogate": (
        rpc("message/send", {"message": MESSAGE_03}, "0.3", id="\udfff"),
        -32700,
    ),
    "stream id with a lone surrogate": (
        rpc("SendStreamingMessage", {"message": MESSAGE}, id="a\ud800"),
        -32700,
    ),
    "metadata with a lone surrogate": (
        rpc("SendMessage", {"message": with_(MESSAGE, metadata={"k": "\udc00"})}),
        -32700,
    ),
    "0.3 metadata with a lone surrogate": (
        rpc("message/send", {"message": with_(MESSAGE_03, metadata={"k": "\ud800"})}, "0.3"),
        -32700,
    ),
    "0.3 REST text with a lone surrogate": (
        rest(
            "POST",
            "/v1/message:send",
            {"message": with_(MESSAGE_03_REST, content=[{"text": "\ud800"}])},
            "0.3",
        ),
        400,
    ),
    # 0.3 HTTP+JSON: what the SDK's v0.3 conversion raises on was a 500.
    "0.3 REST empty part": (
        rest("POST", "/v1/message:send", {"message": with_(MESSAGE_03_REST, content=[{}])}, "0.3"),
        400,
    ),
    "0.3 REST NaN in a data part": (
        rest(
            "POST",
            "/v1/message:send",
            {"message": with_(MESSAGE_03_REST, content=[{"data": {"data": {"x": Raw("NaN")}}}])},
            "0.3",
        ),
        400,
    ),
    "0.3 REST historyLength 10**30": (
        rest("GET", f"/v1/tasks/x?historyLength={10**30}", version="0.3"),
        400,
    ),
    "0.3 REST historyLength not a number": (
        rest("GET", "/v1/tasks/x?historyLength=%20", version="0.3"),
        400,
    ),
    "0.3 jsonrpc historyLength 10**30": (
        rpc("tasks/get", {"id": "x", "historyLength": 10**30}, "0.3"),
        -32602,
    ),
    "0.3 jsonrpc configuration.historyLength 10**30": (
        rpc(
            "message/send",
            {"message": MESSAGE_03, "configuration": {"historyLength": 10**30}},
            "0.3",
        ),
        -32602,
    ),
    "0.3 jsonrpc metadata number 10**400": (
        rpc("message/send", {"message": with_(MESSAGE_03, metadata={"n": 10**400})}, "0.3"),
        -32602,
    ),
    "historyLength 10**30": (rpc("GetTask", {"id": "x", "historyLength": 10**30}), -32602),
    "REST historyLength 10**30": (rest("GET", f"/tasks/x?historyLength={10**30}"), 400),
    # 0.3 HTTP+JSON streams: an error before the first event cut the stream after 200.
    "0.3 REST stream, empty part": (
        rest(
            "POST", "/v1/message:stream", {"message": with_(MESSAGE_03_REST, content=[{}])}, "0.3"
        ),
        400,
    ),
    "0.3 REST stream, empty body": (rest("POST", "/v1/message:stream", b"", "0.3"), 400),
    "0.3 REST subscribe to no task": (rest("GET", "/v1/tasks/nope:subscribe", version="0.3"), 404),
    "0.3 REST subscribe to no task, POST": (
        rest("POST", "/v1/tasks/nope:subscribe", {}, "0.3"),
        404,
    ),
    # JSON no response could carry: infinities, nesting deeper than parsers go.
    "Infinity spelled 1e999": (
        rpc("SendMessage", {"message": with_(MESSAGE, metadata={"x": Raw("1e999")})}),
        -32700,
    ),
    "nested 100,000 deep": (
        rpc("SendMessage", {"message": MESSAGE, "metadata": Raw("[" * 10**5 + "]" * 10**5)}),
        -32700,
    ),
    "REST nested 100,000 deep": (
        rest(
            "POST",
            "/message:send",
            {"message": MESSAGE, "metadata": Raw("[" * 10**5 + "]" * 10**5)},
        ),
        400,
    ),
    # What PostgreSQL cannot store or the SQL stores cannot read back: a 500 there.
    "contextId with NUL": (
        rpc("SendMessage", {"message": with_(MESSAGE, contextId="a\x00b")}),
        -32602,
    ),
    "REST contextId with NUL": (
        rest("POST", "/message:send", {"message": with_(MESSAGE, contextId="a\x00b")}),
        400,
    ),
    "GetTask id with NUL": (rpc("GetTask", {"id": "a\x00b"}), -32602),
    "REST GetTask id with NUL": (rest("GET", "/tasks/a%00b"), 400),
    "ListTasks contextId with NUL": (rpc("ListTasks", {"contextId": "\x00"}), -32602),
    "ListTasks status 99": (rpc("ListTasks", {"status": 99}), -32602),
    "REST ListTasks status 3048236": (rest("GET", "/t1/tasks?status=3048236"), 400),
    "role 99": (rpc("SendMessage", {"message": with_(MESSAGE, role=99)}), -32602),
    # Starlette's own answers were plain text.
    "no such route": (rest("GET", "/tasks/x/y/z"), 404),
    "a method the route does not take": (rest("GET", "/"), 405),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Target]]:
    """A server on memory and one on SQLite, for the whole table."""
    store = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'tasks.db'}"
    on_memory, on_sqlite = (
        to_a2a(agent, list_tasks=True),
        to_a2a(agent, store=store, list_tasks=True),
    )
    with running(on_memory) as memory, running(on_sqlite) as sqlite:
        yield [Target(memory), Target(sqlite, (store.rpartition("/")[2],))]


def refused(target: Target, call: Call, expected: int) -> None:
    """`call` gets the error `expected` (a JSON-RPC code, or an HTTP status), and the server
    still answers a valid message."""
    response = target.send(call)
    if expected < 0:
        assert response.status_code == 200, response.text
        assert response.json()["error"]["code"] == expected, response.text
    else:
        assert response.status_code == expected, response.text
        assert response.json()["error"]["message"], response.text
    target.answers("after")


@pytest.mark.parametrize("call,expected", KNOWN.values(), ids=KNOWN.keys())
def test_known_hostile_requests(servers: list[Target], call: Call, expected: int) -> None:
    for target in servers:
        refused(target, call, expected)


async def test_known_hostile_requests_on_postgresql(postgres_url: str) -> None:
    with running(to_a2a(agent, store=postgres_url, list_tasks=True)) as url:
        target = Target(url, (postgres_url.rpartition("/")[2],))
        failed = []
        for name, (call, expected) in KNOWN.items():
            try:
                refused(target, call, expected)
            except AssertionError as exc:
                failed.append(f"{name}: {exc}")
        assert not failed, "\n".join(failed)


# --- memory --------------------------------------------------------------------------------

SERVE = """
import socket, sys, uvicorn
from a2a_bridges import to_a2a
from a2a_bridges.server import memory
from tests.bridges.test_hostile import agent
# The memory's cache is bounded (test_stores), but would take rounds of 1 MB texts to fill.
memory.CACHED_BYTES = 1024 * 1024
app = to_a2a(agent, store=sys.argv[1], list_tasks=True)
listening = socket.socket(fileno=int(sys.argv[2]))
uvicorn.Server(uvicorn.Config(app, log_level="critical")).run(sockets=[listening])
"""
"""A server on a SQLite store, on the listening socket it is handed."""

MAX_GROWTH_MB = 15


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid`, in MiB (Linux)."""
    found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    assert found is not None
    return int(found[1]) / 1024


@pytest.fixture
def served_apart(tmp_path: Path) -> Iterator[tuple[Target, int]]:
    """A server in a process of its own, and its pid."""
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's memory from /proc (Linux only)")
    listening = socket.create_server(("127.0.0.1", 0))
    fd = listening.fileno()
    store = f"sqlite:///{tmp_path / 'tasks.db'}"
    root = Path(__file__).parents[2]  # where `tests` imports from
    args = [sys.executable, "-c", SERVE, store, str(fd)]
    # glibc raises its mmap threshold after the first large free, so later megabyte texts
    # come from the heap and fragment it: RSS would grow with no object kept. A fixed
    # threshold keeps RSS a measure of what the server holds (tracemalloc agrees: flat).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
    process = subprocess.Popen(args, cwd=root, env=env, pass_fds=[fd], stderr=subprocess.DEVNULL)
    target = Target(f"http://127.0.0.1:{listening.getsockname()[1]}")
    try:
        deadline = time.monotonic() + 30
        while target.client.get(target.url + "/health").status_code != 200:
            assert time.monotonic() < deadline and process.poll() is None
        yield target, process.pid
    finally:
        process.terminate()
        process.wait(10)
        listening.close()
        target.client.close()


def test_memory_comes_back_after_hostile_requests(served_apart: tuple[Target, int]) -> None:
    """The same generated requests, four rounds: the first two warm the server up (its first
    uses of a path allocate for good), the next two must leave its memory where the warm-up did
    (each round makes new tasks)."""
    target, pid = served_apart
    seed = target.answers("seed")
    known = Known(seed["id"], seed["contextId"])
    calls = st.one_of(hostile_calls(known), valid_calls(known).map(lambda made: made[0]))

    @settings(SETTINGS, max_examples=MEMORY_REQUESTS, derandomize=True)
    @given(calls)
    def round(call: Call) -> None:
        target.send(call)

    round()
    round()
    before, made = rss_mb(pid), len(target.made) // 2
    round()
    round()
    after = rss_mb(pid)
    print(f"server memory {before:.1f} -> {after:.1f} MiB; tasks made per round {made}")
    assert len(target.made) >= 4 * made
    assert after - before < MAX_GROWTH_MB, f"{before:.1f} -> {after:.1f} MiB"
