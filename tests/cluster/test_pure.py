"""Cursors, key names and stream entries: no Redis, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from soketler.cluster import cursors, entries
from soketler.cluster.keys import KeyLayout
from soketler.protocols.events import (
    ChatMessage,
    Joined,
    NickChanged,
    Parted,
    Quit,
    TopicChanged,
)

LAYOUT = KeyLayout()
stream_ids = st.tuples(st.integers(0, cursors.MS_LIMIT - 1), st.integers(0, cursors.SEQ_LIMIT - 1))


@given(stream_ids, stream_ids)
def test_cursors_keep_the_order_of_stream_ids(a: tuple[int, int], b: tuple[int, int]) -> None:
    ca, cb = cursors.cursor(f"{a[0]}-{a[1]}"), cursors.cursor(f"{b[0]}-{b[1]}")
    assert (ca < cb) == (a < b) and (ca == cb) == (a == b)
    assert 0 <= ca <= cursors.MAX_CURSOR
    assert cursors.stream_id(ca) == f"{a[0]}-{a[1]}"


def test_a_cursor_is_exact_as_a_javascript_number() -> None:
    # The largest cursor (year 2248) still converts to a double and back unchanged.
    largest = cursors.cursor(f"{cursors.MS_LIMIT - 1}-{cursors.SEQ_LIMIT - 1}")
    assert largest == cursors.MAX_CURSOR and int(float(largest)) == largest
    now = cursors.cursor("1764612345678-1023")
    assert int(float(now)) == now


@pytest.mark.parametrize(
    "bad", ["", "12", "12-", "-3", "a-1", "1-b", f"1-{cursors.SEQ_LIMIT}", f"{1 << 43}-0"]
)
def test_what_is_not_a_cursor_is_refused(bad: str) -> None:
    with pytest.raises(cursors.CursorError):
        cursors.cursor(bad)


@pytest.mark.parametrize("bad", [-1, cursors.MAX_CURSOR + 1])
def test_an_integer_outside_the_range_has_no_stream_id(bad: int) -> None:
    with pytest.raises(cursors.CursorError):
        cursors.stream_id(bad)


def tag(key: str) -> str:
    return key[key.index("{") + 1 : key.index("}")]


room_keys = st.text(min_size=1, max_size=50).map(lambda s: "#" + s)


@given(room_keys)
def test_every_key_of_a_room_shares_its_slot(room: str) -> None:
    stream = LAYOUT.room_stream(room)
    slots = {key_slot(k.encode()) for k in (stream, LAYOUT.room_nodes(room))}
    slots.add(key_slot(LAYOUT.room_members(room, "node-1").encode()))
    assert len(slots) == 1
    assert "}" not in tag(stream) and "{" not in tag(stream)


@given(room_keys, room_keys)
def test_different_rooms_have_different_tags(a: str, b: str) -> None:
    # Escaping is one-to-one: '#a}' and '#a%7D' are not mixed up.
    assert (tag(LAYOUT.room_stream(a)) == tag(LAYOUT.room_stream(b))) == (a == b)


def test_both_people_name_the_same_private_stream() -> None:
    assert LAYOUT.private_stream("ali", "veli") == LAYOUT.private_stream("veli", "ali")
    assert LAYOUT.private_stream("ali", "veli") != LAYOUT.room_stream("ali veli")


def test_rooms_spread_over_slots() -> None:
    slots = {key_slot(LAYOUT.room_stream(f"#room{i}").encode()) for i in range(100)}
    assert len(slots) > 90


@pytest.mark.parametrize("bad", ["", "a b", "x{y}", "é"])
def test_node_ids_and_prefixes_that_would_break_tags_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        LAYOUT.node_alive(bad)
    with pytest.raises(ValueError):
        KeyLayout(bad)


TIME = datetime(2026, 11, 23, 12, 0, 1, 234000, tzinfo=UTC)
texts = st.text(max_size=200)


@given(texts, texts, st.booleans(), st.one_of(st.none(), texts))
def test_a_message_survives_an_entry(sender: str, text: str, action: bool, to: str | None) -> None:
    room = None if to is not None else "#Dev"
    message = ChatMessage(cursors.cursor("1764612345678-7"), TIME, sender, text, room, to, action)
    fields = entries.encode(message, origin="node-1:17")
    assert all(isinstance(v, str) for v in fields.values())
    assert fields[entries.ORIGIN] == "node-1:17"
    assert entries.decode("1764612345678-7", fields) == message
    back = entries.decode_message("1764612345678-7", fields)
    assert back is not None and back.history and back.id == message.id


@pytest.mark.parametrize(
    "event",
    [
        Joined(TIME, "#dev", "Ayşe"),
        Parted(TIME, "#dev", "Ayşe", "bye"),
        Parted(TIME, "#dev", "Ayşe"),
        Quit(TIME, "Ayşe", "ping timeout"),
        NickChanged(TIME, "Ayşe", "Ayse"),
        TopicChanged(TIME, "#dev", None, "release day"),
    ],
)
def test_membership_events_survive_an_entry(event: object) -> None:
    fields = entries.encode(event)
    assert entries.decode("5-0", fields) == event
    assert entries.decode_message("5-0", fields) is None


def test_defaults_are_left_out() -> None:
    fields = entries.encode(ChatMessage(1, TIME, "a", "hi", room="#r"))
    assert set(fields) == {entries.EVENT, "time", "sender", "text", "room"}


def test_an_event_from_a_newer_server_is_passed_over() -> None:
    assert entries.decode("5-0", {entries.EVENT: "hologram", "room": "#r"}) is None


@pytest.mark.parametrize(
    "fields",
    [
        {entries.EVENT: "message", "sender": "a", "text": "hi"},  # no time
        {entries.EVENT: "message", "time": "soon", "sender": "a", "text": "hi"},
    ],
)
def test_a_damaged_entry_is_an_entry_error(fields: dict[str, str]) -> None:
    with pytest.raises(entries.EntryError):
        entries.decode("5-0", fields)


def test_an_entry_id_beyond_a_cursor_is_an_entry_error() -> None:
    fields = entries.encode(ChatMessage(1, TIME, "a", "hi", room="#r"))
    with pytest.raises(entries.EntryError):
        entries.decode(f"5-{cursors.SEQ_LIMIT}", fields)


def test_only_stream_events_can_be_encoded() -> None:
    with pytest.raises(TypeError):
        entries.encode(object())
