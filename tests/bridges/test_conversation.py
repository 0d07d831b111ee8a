"""The conversation model converts to and from a2a types without loss, in 1.0 and 0.3 shapes."""

from __future__ import annotations

import pytest
from a2a.types import Message

from a2a_bridges import DataPart, FilePart, TextPart, Turn, as_parts
from a2a_bridges.conversation import (
    message_from_turn,
    message_to_v03,
    part_from_a2a,
    part_from_v03,
    part_to_a2a,
    part_to_v03,
    turn_from_dict,
    turn_from_message,
    turn_from_v03,
    turn_to_dict,
    without_renderings,
)

PARTS = [
    TextPart("hello"),
    TextPart("with metadata", metadata={"lang": "en", "n": 1}),
    DataPart({"a": 1, "nested": {"b": [1, 2, None]}}),
    DataPart([1, "two", True]),
    DataPart("just a string"),
    DataPart({"x": 1}, media_type="application/vnd.custom+json"),
    FilePart(bytes=b"\x00\xffbinary", media_type="application/octet-stream", name="a.bin"),
    FilePart(uri="https://example.com/cat.png", media_type="image/png", name="cat.png"),
    FilePart(uri="file:///tmp/x"),
]


@pytest.mark.parametrize("part", PARTS, ids=lambda p: type(p).__name__)
def test_part_round_trips_1_0(part: object) -> None:
    assert part_from_a2a(part_to_a2a(part)) == part  # type: ignore[arg-type]


@pytest.mark.parametrize("part", PARTS, ids=lambda p: type(p).__name__)
def test_part_round_trips_0_3(part: object) -> None:
    back = part_from_v03(part_to_v03(part))  # type: ignore[arg-type]
    if isinstance(part, DataPart) and part.media_type != "application/json":
        # 0.3 data parts carry no media type.
        assert back == DataPart(part.data, metadata=part.metadata)
    else:
        assert back == part


def test_turn_round_trips_with_name_and_metadata() -> None:
    turn = Turn("agent", tuple(PARTS[:4]), name="reviewer", metadata={"k": "v"})
    assert turn_from_message(message_from_turn(turn, context_id="c")) == turn
    assert turn_from_dict(turn_to_dict(turn)) == turn
    assert turn_from_v03(message_to_v03(turn)) == Turn(
        "agent", tuple(PARTS[:4]), name="reviewer", metadata={"k": "v"}, message_id=turn.message_id
    )


def test_message_carries_ids_and_role() -> None:
    msg = message_from_turn(Turn("user", (TextPart("x"),)), context_id="ctx", task_id="t")
    assert isinstance(msg, Message)
    assert (msg.context_id, msg.task_id, msg.role) == ("ctx", "t", 1)


def test_file_part_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError):
        FilePart()
    with pytest.raises(ValueError):
        FilePart(bytes=b"x", uri="http://x")


def test_unknown_0_3_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="video"):
        part_from_v03({"kind": "video"})


def test_as_parts() -> None:
    assert as_parts("hi") == (TextPart("hi"),)
    assert as_parts({"a": 1}) == (DataPart({"a": 1}),)
    assert as_parts([TextPart("a"), DataPart(1)]) == (TextPart("a"), DataPart(1))
    assert as_parts([1, 2]) == (DataPart([1, 2]),)
    back = part_from_a2a(part_to_a2a(DataPart({"n": 42, "f": 1.5})))
    assert isinstance(back, DataPart) and type(back.data["n"]) is int and back.data["f"] == 1.5
    assert Turn("user", (TextPart("a"), DataPart(1), TextPart("b"))).text == "a\nb"


def test_without_renderings_drops_text_that_repeats_a_data_part() -> None:
    parts = (TextPart('{"a": 1}'), DataPart({"a": 1}), TextPart("a note"), TextPart("[1]"))
    assert without_renderings(parts) == (DataPart({"a": 1}), TextPart("a note"), TextPart("[1]"))
    assert without_renderings((TextPart("{}"),)) == (TextPart("{}"),)
