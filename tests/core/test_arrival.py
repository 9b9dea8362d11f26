"""JSON `hello` with `room` and `replay`: a program arrives where it asked, with the
history it wants, and nobody in #lobby hears of it."""

from __future__ import annotations

import pytest

from soketler.core.hub import Hub
from soketler.store.archive import ImmediateArchive
from soketler.store.memory import MemoryStore
from tests.core.fakes import Person, fixed_clock


@pytest.fixture
def hub() -> Hub:
    hub = Hub("test", clock=fixed_clock, replay=3)
    store = MemoryStore()
    hub.resume(ImmediateArchive(store), store.load())
    return hub


def test_a_bot_arrives_in_its_room_and_the_lobby_never_hears_of_it(hub: Hub) -> None:
    lobby, ops = Person(hub, "lobbyci"), Person(hub, "opsçu")
    ops.type("/join #ops")
    ops.type("gece yedeği başladı")
    lobby.take()
    ops.take()
    cron = Person(hub)
    cron.take()
    cron.send({"type": "hello", "nick": "cron", "room": "ops", "replay": 0, "id": 1})
    objects = cron.objects()
    assert objects[0]["type"] == "hello" and objects[0]["room"] == "#ops"
    assert [o["type"] for o in objects[1:]] == ["join", "who"]  # no history asked for
    assert [r.name for r in cron.session.rooms.values()] == ["#ops"]
    assert lobby.take() == b""  # not a word in #lobby
    assert "cron joined #ops" in ops.text()


def test_replay_asks_for_fewer_messages_never_more_than_the_server_gives(hub: Hub) -> None:
    talker = Person(hub, "talker")
    for n in range(5):
        talker.type(f"satır {n}")
    some = Person(hub)
    some.take()
    some.send({"type": "hello", "nick": "some", "replay": 2})
    replayed = [o["text"] for o in some.objects() if o["type"] == "message"]
    assert replayed == ["satır 3", "satır 4"]
    greedy = Person(hub)
    greedy.take()
    greedy.send({"type": "hello", "nick": "greedy", "replay": 50})
    assert len([o for o in greedy.objects() if o["type"] == "message"]) == 3  # --replay
    greedy.send({"type": "join", "room": "#sessiz", "replay": 0, "id": 2})
    assert [o["type"] for o in greedy.objects()] == ["join", "who"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"room": "#a b"}, "room-invalid"),
        ({"replay": -1}, "bad-request"),
        ({"replay": "many"}, "bad-request"),
        ({"replay": True}, "bad-request"),
    ],
)
def test_a_bad_room_or_replay_registers_nobody(
    hub: Hub, fields: dict[str, object], code: str
) -> None:
    person = Person(hub)
    person.take()
    person.send({"type": "hello", "nick": "ada", "id": 7, **fields})
    [error] = person.objects()
    assert (error["type"], error["code"], error["re"]) == ("error", code, 7)
    assert not person.session.registered
    person.send({"type": "hello", "nick": "ada"})  # and the name is still free
    assert person.session.registered
