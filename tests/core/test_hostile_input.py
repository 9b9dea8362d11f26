"""Hostile input meets the hub: each gets a clear answer and hurts nobody else."""

from __future__ import annotations

import json

import pytest

from soketler.core.hub import MAX_ROOMS_PER_USER, Hub
from soketler.protocols.connection import TELNET_BINARY, ServerConnection
from soketler.protocols.values import MAX_NUMBER, whole_number
from soketler.store.archive import ImmediateArchive
from soketler.store.memory import MemoryStore
from tests.core.fakes import Person, fixed_clock


@pytest.fixture
def hub() -> Hub:
    hub = Hub("test", clock=fixed_clock, replay=0)
    store = MemoryStore()
    hub.resume(ImmediateArchive(store), store.load())
    return hub


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999999",
        "9223372036854775808",
        "-9223372036854775809",
        "0",
        "-1",
        "1.5",
        "١٢",  # Arabic-Indic digits: int() would take them
        "",
        10**30,
        -1,
        0,
        1e30,
        float("nan"),
        True,
        None,
        [1],
    ],
)
def test_numbers_out_of_range_or_of_the_wrong_type_are_not_numbers(value: object) -> None:
    assert whole_number(value) is None


def test_whole_numbers_are_taken_up_to_the_largest_id() -> None:
    assert whole_number("1") == 1
    assert whole_number(MAX_NUMBER) == MAX_NUMBER
    assert whole_number(str(MAX_NUMBER)) == MAX_NUMBER
    assert whole_number(MAX_NUMBER + 1) is None


@pytest.mark.parametrize(
    "line",
    [
        "/history before 99999999999999999999999",
        "/history before 9223372036854775808",
        "/history before -9223372036854775809",
        "/history 99999999999999999999999",
        "/history #lobby 1e30",
    ],
)
def test_plain_history_with_numbers_no_store_can_hold_gets_the_usage(hub: Hub, line: str) -> None:
    ayse = Person(hub, "ayse")
    ayse.type(line)
    assert ayse.lines() == ["!! Usage: /history [#room | NICK] [N | before ID]"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"type":"history","before":1000000000000000000000000000000,"id":7}',
        '{"type":"history","before":1e30,"id":7}',
        '{"type":"history","before":NaN,"id":7}',
        '{"type":"history","limit":-9223372036854775809,"id":7}',
        '{"type":"history","limit":true,"id":7}',
        '{"type":"history","before":"12","limit":[1],"id":7}',
    ],
)
def test_json_history_with_bad_numbers_gets_an_error_naming_the_field(hub: Hub, raw: str) -> None:
    bot = Person(hub, "bot", json_lines=True)
    bot.type(raw)
    [reply] = bot.objects()
    assert reply["type"] == "error" and reply["code"] == "bad-request" and reply["re"] == 7
    assert "whole number" in reply["text"]


def test_a_lone_surrogate_in_an_id_or_type_is_cleaned_not_fatal(hub: Hub) -> None:
    bot = Person(hub, "bot", json_lines=True)
    bot.type('{"type":"ping","id":"a\\ud800b"}')
    bot.type('{"type":"x\\udfff","id":1}')
    bot.type('{"type":"history","id":"\\ud800"}')
    replies = bot.objects()
    assert replies[0] == {"type": "pong", "re": "ab"}
    assert replies[1]["code"] == "unknown-command" and "/x." in replies[1]["text"]
    assert replies[-1]["type"] == "history" and replies[-1]["re"] == ""
    assert bot.peer.closed is None


def test_a_json_client_ending_lines_with_crlf_gets_only_json() -> None:
    conn = ServerConnection()
    conn.receive_data(b'{"type":"hello","nick":"x"}\r\n{"type":"ping"}\r\n')
    assert conn.data_to_send() == b""
    assert [e.command for e in conn.events_received()] == ["hello", "ping"]  # type: ignore[union-attr]
    # A person on telnet (CR line ends, first line not JSON) is asked for BINARY.
    telnet = ServerConnection()
    telnet.receive_data(b"ay")
    telnet.receive_data(b"se\r\n")
    assert telnet.data_to_send() == TELNET_BINARY
    # nc users (LF only) never are.
    nc = ServerConnection()
    nc.receive_data(b"ayse\n")
    assert nc.data_to_send() == b""


def test_json_part_names_a_room_never_a_reason(hub: Hub) -> None:
    bot = Person(hub, "bot", json_lines=True)
    bot.send({"type": "join", "room": "#dev"})
    bot.send({"type": "join", "room": "#ops"})
    bot.take()
    bot.send({"type": "part", "room": "dev"})
    [parted] = [o for o in bot.objects() if o["type"] == "part"]
    assert parted["room"] == "#dev" and parted["reason"] == ""
    assert [r.name for r in bot.session.rooms.values()] == ["#lobby", "#ops"]


def test_private_history_does_not_follow_the_nickname_to_a_stranger(hub: Hub) -> None:
    alice, bob = Person(hub, "alice"), Person(hub, "bob")
    alice.type("/msg bob the door code is 1234")
    bob.type("/msg alice thanks")
    bob.type("/quit")
    mallory = Person(hub, "bob")
    mallory.take()
    mallory.type("/history alice")
    assert mallory.lines() == ["-- End of history of your messages with alice (0 messages)."]
    # Alice still reads her conversation, and what she says to the new bob is his.
    alice.take()
    alice.type("/msg bob hello stranger")
    alice.type("/history bob")
    assert [line.split(" ", 2)[2] for line in alice.lines()[1:-1]] == [
        "-> *bob* the door code is 1234",
        "*bob* thanks",
        "-> *bob* hello stranger",
    ]
    mallory.take()
    mallory.type("/history alice")
    first, end = mallory.lines()
    assert first.endswith(" *alice* hello stranger")
    assert end == "-- End of history of your messages with alice (1 message)."


def test_a_history_page_bigger_than_the_budget_is_cut_and_continues(hub: Hub) -> None:
    hub.reply_budget = 64 * 1024
    bot = Person(hub, "bot", json_lines=True)
    quotes = '"' * 1900  # 3.8 KB once JSON-escaped, within the line limit
    for n in range(40):
        bot.send({"type": "message", "text": f"{n} {quotes}"})
    bot.take()
    bot.send({"type": "history", "limit": 200, "id": "h"})
    data = bot.take()
    assert len(data) <= 64 * 1024 + 512
    *messages, end = [json.loads(line) for line in data.splitlines()]
    assert end["type"] == "history" and end["more"] is True and end["count"] == len(messages)
    numbers = [int(m["text"].split()[0]) for m in messages]
    assert numbers == list(range(40 - len(numbers), 40))  # the newest, in order
    bot.send({"type": "history", "limit": 200, "before": messages[0]["id"]})
    *older, _ = bot.objects()
    assert int(older[-1]["text"].split()[0]) == numbers[0] - 1  # no gap


def test_room_and_member_lists_past_the_budget_are_cut_with_the_count(hub: Hub) -> None:
    hub.reply_budget = 32 * 1024
    bot = Person(hub, "bot", json_lines=True)
    for n in range(30):
        bot.send({"type": "join", "room": f"#r{n}"})
        bot.send({"type": "topic", "room": f"#r{n}", "text": "t" * 4000})
    bot.take()
    bot.send({"type": "rooms", "id": 1})
    [rooms] = bot.objects()
    assert rooms["count"] == 31 and 0 < len(rooms["rooms"]) < 31
    people = [Person(hub, f"p{n}") for n in range(20)]
    hub.reply_budget = 64
    people[0].take()
    people[0].type("/who #lobby")
    first, *wrapped = people[0].lines()  # the names wrap at 80 columns
    assert first.startswith("-- #lobby (21): bot, ")
    assert all(line.startswith("--   ") for line in wrapped)
    assert " more " in " ".join([first, *wrapped])


def test_one_person_cannot_make_rooms_without_bound(hub: Hub) -> None:
    bot = Person(hub, "bot", json_lines=True)
    for n in range(MAX_ROOMS_PER_USER + 5):
        bot.send({"type": "join", "room": f"#r{n}"})
    errors = [o for o in bot.objects() if o["type"] == "error"]
    assert len(errors) == 6 and {e["code"] for e in errors} == {"too-many-rooms"}
    assert len(bot.session.rooms) == MAX_ROOMS_PER_USER
    assert len(hub.rooms) == MAX_ROOMS_PER_USER
