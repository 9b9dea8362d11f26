"""Encoding server events, and parsing JSON requests, for both flavours."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from soketler.protocols import jsonlines, plain
from soketler.protocols.events import (
    BadInput,
    Bye,
    ChatMessage,
    Error,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    Request,
    RoomInfo,
    RoomList,
    ServerEvent,
    TopicChanged,
    View,
    Welcome,
)

T = datetime(2026, 11, 23, 20, 15, 0, 123456, tzinfo=UTC)
HHMM = T.astimezone().strftime("%H:%M")

ALL_EVENTS: list[ServerEvent] = [
    ChatMessage(1, T, "ayşe", "merhaba", room="#lobby"),
    ChatMessage(2, T, "ayşe", "waves", room="#lobby", action=True),
    ChatMessage(3, T, "ayşe", "psst", to="민준"),
    Joined(T, "#dev", "bob"),
    Parted(T, "#dev", "bob", "bye"),
    Quit(T, "bob", "Connection closed"),
    NickChanged(T, "bob", "robert"),
    TopicChanged(T, "#dev", "bob", "release day"),
    Welcome("ayşe", "#lobby", "0.1.0", re=1),
    Members("#lobby", "", ("ayşe", "bob")),
    RoomList((RoomInfo("#lobby", 2, "hi"),)),
    Info("two\nlines"),
    Error("nick-taken", "taken", re="x"),
    Pong(re=3),
    Bye("Server shutting down"),
]


def test_plain_lines_read_as_documented() -> None:
    def text(event: ServerEvent, view: View = View.HERE) -> str:
        return plain.PLAIN.encode(event, view).decode()

    assert text(ALL_EVENTS[0]) == f"{HHMM} <ayşe> merhaba\r\n"
    assert text(ALL_EVENTS[0], View.ELSEWHERE) == f"{HHMM} [#lobby] <ayşe> merhaba\r\n"
    assert text(ALL_EVENTS[1]) == f"{HHMM} * ayşe waves\r\n"
    assert text(ALL_EVENTS[2]) == f"{HHMM} *ayşe* psst\r\n"
    assert text(ALL_EVENTS[2], View.OWN) == f"{HHMM} -> *민준* psst\r\n"
    assert text(ALL_EVENTS[5]) == f"{HHMM} -- bob quit (Connection closed)\r\n"
    assert text(Info("two\nlines")) == "-- two\r\n-- lines\r\n"
    assert text(Error("x", "no")) == "!! no\r\n"


def test_every_event_is_one_json_object_per_line() -> None:
    for event in ALL_EVENTS:
        data = jsonlines.JSON.encode(event)
        assert data.endswith(b"\n") and data.count(b"\n") == 1
        obj = json.loads(data)
        assert isinstance(obj, dict) and isinstance(obj["type"], str)


def test_json_message_fields_follow_the_protocol() -> None:
    obj = json.loads(jsonlines.JSON.encode(ALL_EVENTS[0]))
    assert obj == {
        "type": "message",
        "id": 1,
        "time": "2026-11-23T20:15:00.123Z",
        "room": "#lobby",
        "from": "ayşe",
        "text": "merhaba",
        "action": False,
    }
    private = json.loads(jsonlines.JSON.encode(ALL_EVENTS[2]))
    assert private["to"] == "민준" and "room" not in private
    assert json.loads(jsonlines.JSON.encode(Welcome("a", "#lobby", "0.1.0", re=1)))["re"] == 1


def test_json_requests_map_to_commands() -> None:
    assert jsonlines.parse_line('{"type":"message","text":"hi","room":"#dev"}') == Request(
        "say", fields={"text": "hi", "room": "#dev"}
    )
    assert jsonlines.parse_line('{"type":"message","text":"hi","to":"bob"}') == Request(
        "msg", fields={"text": "hi", "target": "bob"}
    )
    assert jsonlines.parse_line('{"type":"message","text":"x","action":true}') == Request(
        "me", fields={"text": "x"}
    )


def test_bad_json_requests_say_why() -> None:
    for line in ("[1]", "{", '{"type": 3}', '{"type":"x","id":[1]}', "[" * 5000):
        event = jsonlines.parse_line(line)
        assert isinstance(event, BadInput) and event.code == "bad-request"


def test_escaped_controls_and_lone_surrogates_in_json_are_cleaned() -> None:
    event = jsonlines.parse_line('{"type":"message","text":"a\\u001b[2Jb\\ud800c"}')
    assert isinstance(event, Request) and event.fields == {"text": "abc"}


@given(st.text(max_size=200))
def test_parse_never_raises(text: str) -> None:
    assert isinstance(jsonlines.parse_line(text), Request | BadInput)


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=10) | st.integers(), max_size=5))
def test_any_object_parses_to_a_request_or_a_reason(obj: dict[str, object]) -> None:
    assert isinstance(jsonlines.parse_line(json.dumps(obj)), Request | BadInput)
