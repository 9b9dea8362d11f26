"""The client's protocol without sockets: bytes in, events out; requests in, bytes out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.client import codec
from soketler.client.codec import ClientProtocol, decode_object, encode
from soketler.client.events import (
    BadLine,
    Bye,
    ChatMessage,
    Error,
    Greeting,
    HistoryEnd,
    Info,
    Joined,
    Members,
    NickChanged,
    Parted,
    Pong,
    Quit,
    RoomInfo,
    RoomList,
    TopicChanged,
    Unknown,
    Welcome,
)
from soketler.client.requests import (
    ChangeNick,
    History,
    Join,
    Leave,
    ListRooms,
    Part,
    Ping,
    Register,
    Say,
    Topic,
    Who,
)
from soketler.protocols.jsonlines import to_object

# JSON text cannot carry lone surrogates as UTF-8, so no server can send them.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
request_ids = st.none() | st.integers(-(2**53), 2**53) | texts
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))

server_events = st.one_of(
    st.builds(
        ChatMessage,
        id=st.integers(0, 2**53),
        time=times,
        sender=names,
        text=texts,
        room=names,
        to=st.none(),
        action=st.booleans(),
        history=st.booleans(),
    ),
    st.builds(ChatMessage, st.integers(0, 2**53), times, names, texts, st.none(), names),
    st.builds(HistoryEnd, names, st.integers(0, 200), st.booleans(), st.none(), request_ids),
    st.builds(HistoryEnd, st.none(), st.integers(0, 200), st.booleans(), names, request_ids),
    st.builds(Joined, times, names, names),
    st.builds(Parted, times, names, names, texts),
    st.builds(Quit, times, names, texts),
    st.builds(NickChanged, times, names, names),
    st.builds(TopicChanged, times, names, st.none() | names, texts),
    st.builds(Welcome, names, names, texts, request_ids),
    st.builds(Members, names, texts, st.lists(names, max_size=5).map(tuple), request_ids),
    st.builds(
        RoomList,
        st.lists(st.builds(RoomInfo, names, st.integers(0, 10**6), texts), max_size=4).map(tuple),
        request_ids,
    ),
    st.builds(Info, texts, request_ids),
    st.builds(Error, names, texts, request_ids),
    st.builds(Pong, request_ids),
    st.builds(Bye, texts),
)


def wire(*events: Any) -> bytes:
    return b"".join(
        json.dumps(to_object(event), ensure_ascii=False).encode("utf-8") + b"\n" for event in events
    )


def registered() -> ClientProtocol:
    protocol = ClientProtocol()
    protocol.receive_data(wire(Welcome("ayşe", "#lobby", "0.1.0", 1)))
    protocol.events_received()
    return protocol


def test_greeting_lines_come_before_the_hello_reply() -> None:
    protocol = ClientProtocol()
    protocol.receive_data(b"-- Welcome to soketler 0.1.0 on box.\r\n-- Choose a nickname:\r\n")
    protocol.receive_data(wire(Welcome("ayşe", "#lobby", "0.1.0", 1)))
    assert protocol.events_received() == [
        Greeting("-- Welcome to soketler 0.1.0 on box."),
        Greeting("-- Choose a nickname:"),
        Welcome("ayşe", "#lobby", "0.1.0", 1),
    ]
    assert protocol.registered


def test_after_registration_a_plain_line_is_a_bad_line() -> None:
    protocol = registered()
    protocol.receive_data(b"-- not json\n")
    [event] = protocol.events_received()
    assert isinstance(event, BadLine)
    assert event.line == "-- not json"


@given(server_events)
def test_every_server_event_survives_the_wire(event: Any) -> None:
    protocol = registered()
    protocol.receive_data(wire(event))
    assert protocol.events_received() == [event]


@given(st.lists(server_events, max_size=6), st.data())
def test_how_tcp_splits_the_stream_does_not_matter(events: list[Any], data: st.DataObject) -> None:
    stream = wire(*events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    protocol = registered()
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        protocol.receive_data(stream[start:end])
    assert protocol.events_received() == events


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_any_bytes_give_events_never_an_exception(first: bytes, second: bytes) -> None:
    protocol = ClientProtocol(max_line=64)
    protocol.receive_data(first)
    protocol.receive_data(second)
    assert protocol.buffered <= 64
    protocol.receive_eof()
    protocol.receive_eof()  # harmless the second time
    protocol.events_received()
    protocol.receive_data(b"more")  # after the end nothing is read
    assert protocol.events_received() == []


def test_a_line_past_the_limit_is_dropped_and_the_next_one_still_counts() -> None:
    protocol = ClientProtocol(max_line=100)
    protocol.registered = True
    protocol.receive_data(b'{"type": "info", "text": "' + b"x" * 500)
    assert protocol.buffered <= 100
    protocol.receive_data(b'"}\n' + wire(Pong(7)))
    events = protocol.events_received()
    assert isinstance(events[0], BadLine)
    assert "100" in events[0].reason
    assert events[1:] == [Pong(7)]


def test_an_unfinished_last_line_still_counts_at_end_of_stream() -> None:
    protocol = registered()
    protocol.receive_data(b'{"type": "bye", "reason": "Server shutting down"}')
    assert protocol.events_received() == []
    protocol.receive_eof()
    assert protocol.events_received() == [Bye("Server shutting down")]


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"text": "no type"}, 'no "type"'),
        ({"type": "join", "room": "#a", "nick": "b"}, '"time"'),
        ({"type": "join", "time": "yesterday", "room": "#a", "nick": "b"}, "ISO 8601"),
        ({"type": "message", "id": "7", "room": "#a", "time": "2026-11-23T20:15:00Z"}, '"id"'),
        ({"type": "who", "room": "#a", "users": ["a", 3]}, '"users"'),
        ({"type": "rooms", "rooms": [{"name": "#a", "users": True}]}, '"users"'),
        ({"type": "pong", "re": True}, '"re"'),
        ({"type": "topic", "time": "2026-11-23T20:15:00Z", "room": "#a", "nick": 1}, '"nick"'),
    ],
)
def test_mistyped_fields_become_bad_lines(obj: dict[str, Any], reason: str) -> None:
    event = decode_object(obj)
    assert isinstance(event, BadLine)
    assert reason in event.reason


@pytest.mark.parametrize("line", ["[1, 2]", "{not json", "[" * 100_000])
def test_json_that_is_not_an_object_is_a_bad_line(line: str) -> None:
    event = codec.decode_json_line(line)
    assert isinstance(event, BadLine)
    assert len(event.line) <= 200


def test_a_type_from_a_newer_server_is_passed_on_not_rejected() -> None:
    event = decode_object({"type": "typing", "nick": "bob", "room": "#dev"})
    assert event == Unknown("typing", (("nick", '"bob"'), ("room", '"#dev"')))


def test_times_are_read_as_utc() -> None:
    event = decode_object(
        {"type": "quit", "time": "2026-11-23T23:15:00.123+03:00", "nick": "bob", "reason": ""}
    )
    assert isinstance(event, Quit)
    assert event.time == datetime(2026, 11, 23, 20, 15, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (Register("ayşe", id=1), {"type": "hello", "nick": "ayşe", "id": 1}),
        (
            Say("hi", room="#dev"),
            {"type": "message", "room": "#dev", "text": "hi", "action": False},
        ),
        (
            Say("psst", to="bob", id="x"),
            {"type": "message", "to": "bob", "text": "psst", "action": False, "id": "x"},
        ),
        (Say("waves", action=True), {"type": "message", "text": "waves", "action": True}),
        (Join("#dev"), {"type": "join", "room": "#dev"}),
        (Part(), {"type": "part"}),
        (Part("#dev", "bye"), {"type": "part", "room": "#dev", "reason": "bye"}),
        (ChangeNick("robert"), {"type": "nick", "nick": "robert"}),
        (Topic("#dev"), {"type": "topic", "room": "#dev"}),
        (Topic(None, "release day"), {"type": "topic", "text": "release day"}),
        (Who(), {"type": "who"}),
        (ListRooms(id=3), {"type": "rooms", "id": 3}),
        (Leave("done"), {"type": "quit", "reason": "done"}),
        (History("#dev", limit=5), {"type": "history", "room": "#dev", "limit": 5}),
        (History(with_nick="bob", before=40), {"type": "history", "with": "bob", "before": 40}),
        (Ping(id=9), {"type": "ping", "id": 9}),
    ],
)
def test_requests_are_the_objects_of_the_protocol(request_: Any, expected: dict[str, Any]) -> None:
    line = encode(request_)
    assert line.endswith(b"\n")
    assert json.loads(line) == expected


@given(texts, texts)
def test_a_request_is_always_exactly_one_line(text: str, room: str) -> None:
    line = encode(Say(text, room=room))
    assert line.count(b"\n") == 1
    assert b"\r" not in line
    assert json.loads(line)["text"] == text


def test_the_protocol_object_queues_requests_until_asked() -> None:
    protocol = ClientProtocol()
    protocol.send(Register("a", id=1))
    protocol.send(Ping(id=2))
    data = protocol.data_to_send()
    assert [json.loads(line)["type"] for line in data.splitlines()] == ["hello", "ping"]
    assert protocol.data_to_send() == b""
