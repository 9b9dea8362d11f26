"""The chat core without sockets: registration, rooms, messages, commands."""

from __future__ import annotations

import pytest

from soketler.core.hub import Hub
from tests.core.fakes import HHMM, Person, fixed_clock


@pytest.fixture
def hub() -> Hub:
    return Hub("test", clock=fixed_clock)


def test_a_newcomer_is_greeted_asked_for_a_nick_and_put_in_the_lobby(hub: Hub) -> None:
    bob = Person(hub, "bob")
    ayse = Person(hub)
    greeting = ayse.lines()
    assert greeting[0].startswith("-- Welcome to soketler") and "on test" in greeting[0]
    assert greeting[1] == "-- Choose a nickname:"
    ayse.type("ayşe")
    assert ayse.lines() == [
        "-- Hello ayşe! You are in #lobby. Type /help for commands.",
        f"{HHMM} -- ayşe joined #lobby",
        "-- #lobby (2): bob, ayşe",
    ]
    assert bob.lines() == [f"{HHMM} -- ayşe joined #lobby"]


@pytest.mark.parametrize(
    ("nick", "reason"),
    [
        ("9lives", "cannot start with a digit"),
        ("#chan", "cannot start with a digit, # or /"),
        ("a" * 31, "at most 30"),
        ("bad name", "may hold letters"),
        ("BOB", 'Nickname "BOB" is taken'),
    ],
)
def test_bad_or_taken_nicknames_get_a_reason_and_a_new_prompt(
    hub: Hub, nick: str, reason: str
) -> None:
    Person(hub, "bob")
    person = Person(hub)
    person.take()
    person.type(nick)
    [line] = person.lines()
    assert line.startswith("!! ") and reason in line and line.endswith("Choose another:")
    assert not person.session.registered
    person.type("Çağla_민준[x]")
    assert person.session.nick == "Çağla_민준[x]"


def test_nicknames_are_unique_ignoring_case_in_any_script(hub: Hub) -> None:
    Person(hub, "ŞEBNEM")
    other = Person(hub)
    other.type("şebnem")
    assert "is taken" in other.text()


def test_messages_reach_everyone_in_the_room_the_sender_too(hub: Hub) -> None:
    a, b, c = Person(hub, "a"), Person(hub, "b"), Person(hub, "c")
    for p in (a, b, c):
        p.take()
    b.type("merhaba 안녕 👋")
    for p in (a, b, c):
        assert p.lines() == [f"{HHMM} <b> merhaba 안녕 👋"]


def test_rooms_join_switch_part_and_where_lines_go(hub: Hub) -> None:
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    a.type("/join #dev")
    assert a.lines() == [f"{HHMM} -- a joined #dev", "-- #dev (1): a"]
    b.take()
    b.type("in lobby")
    b.take()
    # a is in #lobby too, but #dev is current: the line names its room.
    assert a.lines() == [f"{HHMM} [#lobby] <b> in lobby"]
    a.type("/join #LOBBY")
    assert a.lines() == ["-- Now talking in #lobby."]
    a.type("back")
    assert b.lines() == [f"{HHMM} <a> back"]
    a.take()
    a.type("/part #dev so long")
    assert a.lines() == [f"{HHMM} -- a left #dev (so long)"]
    assert "#dev" not in [r.name for r in hub.rooms.by_key.values()]  # empty rooms are forgotten
    a.type("/part")
    assert "only room" in a.text()


def test_private_messages_reach_only_the_two(hub: Hub) -> None:
    a, b, c = Person(hub, "a"), Person(hub, "b"), Person(hub, "c")
    for p in (a, b, c):
        p.take()
    a.type("/msg B gizli")
    assert b.lines() == [f"{HHMM} *a* gizli"]
    assert a.lines() == [f"{HHMM} -> *b* gizli"]
    assert c.lines() == []
    a.type("/msg nobody hi")
    assert a.lines() == ['!! Nobody is called "nobody".']


def test_me_topic_nick_rooms_who(hub: Hub) -> None:
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("/me waves")
    assert a.lines() == [f"{HHMM} * b waves"]
    b.take()
    b.type("/topic")
    assert b.lines() == ["-- #lobby has no topic."]
    b.type("/topic çay saati")
    assert a.lines() == [f"{HHMM} -- b set the topic of #lobby: çay saati"]
    b.take()
    b.type("/nick bora")
    assert a.lines() == [f"{HHMM} -- b is now known as bora"]
    assert b.lines() == [f"{HHMM} -- b is now known as bora"]
    b.type("/nick A")
    assert "is taken" in b.text()
    b.type("/rooms")
    assert b.lines() == ["-- Rooms (1):", "--   #lobby (2)  çay saati"]
    b.type("/who")
    assert b.lines() == ["-- #lobby (2): a, bora", "-- Topic: çay saati"]


def test_commands_check_their_parameters_in_one_place(hub: Hub) -> None:
    a = Person(hub, "a")
    a.type("/msg onlynick")
    assert a.lines() == ["!! Usage: /msg NICK text"]
    a.type("/join")
    assert a.lines() == ["!! Usage: /join #room"]
    a.type("/frobnicate now")
    assert a.lines() == ["!! Unknown command /frobnicate. Type /help for the list."]
    a.type("/join #has,comma")
    assert "cannot hold spaces, commas" in a.text()
    a.type("//slash")
    assert a.lines() == [f"{HHMM} <a> /slash"]
    a.type("/help")
    help_text = a.text()
    for usage in ("/nick NAME", "/join #room", "/msg NICK text", "/me action", "/quit [reason]"):
        assert usage in help_text


def test_commands_before_registration_are_refused_except_the_harmless(hub: Hub) -> None:
    p = Person(hub)
    p.take()
    p.type("/join #dev")
    assert p.lines() == ["!! Choose a nickname first."]
    p.type("/help")
    assert "/nick NAME" in p.text()
    p.type("/nick ada")
    assert p.session.nick == "ada"


def test_quit_and_close_words_announce_and_close(hub: Hub) -> None:
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    b.type("kapat")
    assert a.lines() == [f"{HHMM} -- b quit (Quit)"]
    assert b.lines() == ["-- Goodbye (Quit)"]
    assert b.peer.closed == "Quit"
    assert "b" not in hub.nicks.by_key
    c = Person(hub, "c")
    a.take()
    c.type("/quit gone fishing")
    assert a.lines() == [f"{HHMM} -- c quit (gone fishing)"]


def test_a_quit_is_told_once_to_each_person_sharing_rooms(hub: Hub) -> None:
    a, b = Person(hub, "a"), Person(hub, "b")
    for p in (a, b):
        p.type("/join #dev")
        p.type("/join #ops")
    a.take()
    hub.close(b.session, "Connection closed", tell=False)
    assert a.lines() == [f"{HHMM} -- b quit (Connection closed)"]
    hub.close(b.session, "again")  # idempotent
    assert a.lines() == []


def test_json_lines_clients_get_objects_with_ids(hub: Hub) -> None:
    plain = Person(hub, "plain")
    j = Person(hub)
    j.take()
    j.send({"type": "hello", "nick": "jay", "id": "h1"})
    hello, join, who = j.objects()
    assert hello == {
        "type": "hello",
        "nick": "jay",
        "server": "soketler",
        "version": hello["version"],
        "protocol": 1,
        "room": "#lobby",
        "re": "h1",
    }
    assert join["type"] == "join" and join["nick"] == "jay"
    assert who["users"] == ["plain", "jay"]
    plain.take()
    j.send({"type": "message", "text": "selam"})
    [msg] = j.objects()
    assert msg["type"] == "message" and msg["from"] == "jay" and msg["room"] == "#lobby"
    assert plain.lines() == [f"{HHMM} <jay> selam"]
    j.send({"type": "join", "room": 5, "id": 9})
    assert j.objects() == [
        {"type": "error", "code": "bad-request", "text": 'Field "room" must be a string.', "re": 9}
    ]
    j.send({"type": "ping", "id": 10})
    assert j.objects() == [{"type": "pong", "re": 10}]
    j.send({"type": "hello", "nick": "again"})
    assert j.objects()[0]["code"] == "already-registered"


def test_json_nickname_errors_carry_no_prompt_for_people(hub: Hub) -> None:
    Person(hub, "taken")
    j = Person(hub)
    j.take()
    j.send({"type": "hello", "nick": "TAKEN", "id": 1})
    assert j.objects() == [
        {"type": "error", "code": "nick-taken", "text": 'Nickname "TAKEN" is taken.', "re": 1}
    ]


def test_message_ids_increase(hub: Hub) -> None:
    j = Person(hub, "j", json_lines=True)
    for text in ("1", "2", "3"):
        j.send({"type": "message", "text": text})
    ids = [o["id"] for o in j.objects()]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_shutdown_says_goodbye_to_everyone(hub: Hub) -> None:
    people = [Person(hub, f"p{i}") for i in range(3)] + [Person(hub)]
    for p in people:
        p.take()
    hub.shutdown()
    for p in people:
        assert p.lines() == ["-- Goodbye (Server shutting down)"]
        assert p.peer.closed == "Server shutting down"
    assert not hub.sessions and not hub.rooms


def test_big_rooms_are_quiet_about_comings_and_goings() -> None:
    hub = Hub("test", clock=fixed_clock, announce_limit=2)
    a, b = Person(hub, "a"), Person(hub, "b")
    a.take()
    c = Person(hub)
    c.type("c")
    # #lobby now has 3 people, more than 2: only c hears of c's join.
    assert f"{HHMM} -- c joined #lobby" in c.lines()
    assert a.lines() == [] and b.lines() == []
    c.type("still heard")
    assert a.lines() == [f"{HHMM} <c> still heard"]
    b.take()
    c.type("/who")
    assert c.lines()[-1] == "-- #lobby (3): a, b, c"
    c.type("/quit")
    assert a.lines() == [] and b.lines() == []
    assert c.peer.closed == "Quit"


def test_the_names_shown_on_joining_a_big_room_are_capped() -> None:
    from soketler.core import hub as hub_module

    hub = Hub("test", clock=fixed_clock)
    people = [Person(hub, f"p{i}") for i in range(hub_module.NAMES_ON_JOIN + 5)]
    late = Person(hub)
    late.type("late")
    lines = late.lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-- #lobby ("))
    assert lines[start].startswith(f"-- #lobby ({len(people) + 1}): p0, p1, ")
    # The names wrap at 80 columns; the count of the rest ends them.
    names = [lines[start], *(line for line in lines[start + 1 :] if line.startswith("--   "))]
    assert all(len(line) <= 80 for line in names)
    joined = " ".join(line.removeprefix("--   ") for line in names)
    assert joined.endswith(" p99 and 6 more (/who #lobby lists all)")
    late.type("/who")
    assert late.lines()[-1].endswith(f"p{len(people) - 1}, late")
