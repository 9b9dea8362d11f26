"""ChatClient(only_rooms=True): in the rooms asked for, and nowhere else."""

from __future__ import annotations

import itertools

from soketler.client import ChatClient, Event, Joined, Parted
from soketler.client.requests import Register
from tests.client.conftest import Connect


async def test_it_arrives_in_its_first_room_without_passing_through_the_lobby(
    connect: Connect,
) -> None:
    heard: list[Event] = []
    bob = await connect("bob", on_event=heard.append)
    bot = await connect("bot", rooms=["#ops", "#dev"], only_rooms=True, replay=0)
    assert bot.rooms == ("#ops", "#dev") and bot.current_room == "#dev"
    await bob.ping()  # what the server told bob before this has reached him
    assert not [e for e in heard if isinstance(e, Joined) and e.nick == "bot"]


async def test_a_server_that_ignores_room_is_left_for_the_rooms_asked(
    connect: Connect, port: int
) -> None:
    """An older server puts everyone in #lobby whatever `hello` says: the client joins
    its rooms, then leaves #lobby."""
    ids = itertools.count(1000)
    bot = ChatClient("127.0.0.1", port, nick="eski", rooms=["#ops"], only_rooms=True, rate=0)
    bot._hello = lambda nick: Register(nick, id=next(ids))  # type: ignore[method-assign]
    heard: list[Event] = []
    bob = await connect("bob", on_event=heard.append)
    try:
        await bot.connect()
        assert bot.rooms == ("#ops",)
        await bob.ping()  # what the server told bob before this has reached him
        assert [type(e) for e in heard if getattr(e, "nick", None) == "eski"] == [Joined, Parted]
    finally:
        await bot.close()
