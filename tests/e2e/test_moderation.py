"""Keeping order, the same for telnet and IRC users: room founders and operators kick,
ban (by nickname, mask or address range) and mute; server operators end sessions and
ban addresses from the whole server; access lists decide who may connect at all, and
new lists end only those they now refuse."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from soketler.core.config import Limits, Listener, ServerConfig
from soketler.security.operators import operators_from_config
from soketler.security.passwords import ScryptCost, hash_password
from soketler.transport.server import ChatServer
from tests.e2e.ircclient import IrcTestClient, command
from tests.e2e.lineclient import LineClient, registered

HOST = "127.0.0.1"
LOCAL = (HOST,)
ROOT_PASSWORD = "kök şifresi uzun"
OPERATORS = tuple(
    operators_from_config(
        {"root": {"password": hash_password(ROOT_PASSWORD, ScryptCost(log_n=10))}}
    )
)
Start = Callable[..., Any]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """`await start(**settings)`: the lines and IRC doors on free ports of 127.0.0.1,
    with the operator root (settings: ServerConfig fields)."""
    servers: list[ChatServer] = []

    async def make(**settings: Any) -> ChatServer:
        settings.setdefault("operators", OPERATORS)
        config = ServerConfig(hosts=LOCAL, port=0, limits=Limits(rate=0), **settings)
        listeners = (Listener("lines", LOCAL, 0), Listener("irc", LOCAL, 0))
        server = ChatServer(config, listeners=listeners)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


def lines(server: ChatServer) -> int:
    return server.tcp_addresses[0][1]


def irc(server: ChatServer) -> int:
    return server.tcp_addresses_of("irc")[0][1]


async def irc_user(server: ChatServer, nick: str, *rooms: str) -> IrcTestClient:
    client = await IrcTestClient.connect(HOST, irc(server))
    await client.register(nick)
    for room in rooms:
        client.send(f"JOIN {room}")
        await client.expect(command("366"))
    return client


async def test_a_room_founder_kicks_bans_and_mutes_telnet_and_irc_users(start: Start) -> None:
    server = await start()
    founder = await registered(HOST, lines(server), "kurucu")
    founder.send("/join #oda")
    await founder.expect("-- #oda (1)")
    ircci = await irc_user(server, "ircci", "#oda")
    tel = await registered(HOST, lines(server), "tel", source="127.0.0.2")
    tel.send("/join #oda")
    await tel.expect("-- #oda (3)")

    # Someone who is not an operator of the room may not.
    tel.send("/kick ircci")
    assert "Only operators of #oda may do that." in await tel.expect("!!")

    # A mute: the IRC user stays, and cannot speak (404), until unmuted.
    founder.send("/mute ircci")
    change = await ircci.expect(command("MODE"))
    assert change.params == ("#oda", "+q", "*!ircci@127.0.0.1")
    ircci.send("PRIVMSG #oda :can you hear me")
    assert (await ircci.expect(command("404"))).params[1] == "#oda"
    founder.send("/unmute ircci")
    await ircci.expect(command("MODE"))
    ircci.send("PRIVMSG #oda :and now?")
    await tel.expect("<ircci> and now?")

    # A ban by nickname puts them out and keeps them out.
    founder.send("/ban ircci spam")
    kicked = await ircci.expect(command("KICK"))
    assert kicked.params == ("#oda", "ircci", "spam")
    ircci.send("JOIN #oda")
    assert (await ircci.expect(command("474"))).params[1] == "#oda"
    founder.send("/unban ircci")
    await tel.expect("no longer banned")
    ircci.send("JOIN #oda")
    await ircci.expect(command("366"))

    # An address range: the telnet user from 127.0.0.2 is put out and kept out.
    founder.send("/ban 127.0.0.2/32")
    await tel.expect("-- kurucu kicked tel from #oda")
    tel.send("/join #oda")
    assert "You are banned from #oda." in await tel.expect("!!")
    # IRC lists the same bans.
    ircci.send("MODE #oda b")
    bans = await ircci.until(command("368"))
    assert [m.params[2] for m in bans if m.command == "367"] == ["*!*@127.0.0.2"]
    for client in (founder, ircci, tel):
        await client.close()


async def test_irc_operators_mute_telnet_users_with_mode_q(start: Start) -> None:
    server = await start()
    ircci = await irc_user(server, "ircci", "#kanal")  # its maker: an operator
    tel = await registered(HOST, lines(server), "tel")
    tel.send("/join #kanal")
    await tel.expect("-- #kanal (2)")
    ircci.send("MODE #kanal +q tel!*@*")
    await tel.expect("tel!*@* muted")
    tel.send("merhaba")
    assert "You cannot speak in #kanal" in await tel.expect("!!")
    ircci.send("MODE #kanal q")
    listed = await ircci.until(command("729"))
    assert [m.params[3] for m in listed if m.command == "728"] == ["tel!*@*"]
    ircci.send("MODE #kanal -q tel!*@*")
    await tel.expect("no longer muted")
    tel.send("merhaba")
    await ircci.expect(command("PRIVMSG"))
    await ircci.close()
    await tel.close()


async def test_server_operators_kill_and_ban_addresses_from_the_server(start: Start) -> None:
    server = await start()
    root = await registered(HOST, lines(server), "root")
    root.send("/oper root")
    await root.expect("Operator password of root:")
    root.send("wrong")
    assert "Wrong password." in await root.expect("!!")
    root.send(f"/oper root {ROOT_PASSWORD}")
    await root.expect("You are now a server operator.")

    bad = await registered(HOST, lines(server), "bad")
    root.send("/kill bad spam")
    assert "Killed by root: spam" in "\n".join(await bad.closed())
    await root.expect("-- bad quit (Killed by root: spam)")
    await bad.close()

    # A server operator acts in any room, member or not.
    other = await registered(HOST, lines(server), "other")
    other.send("/join #uzak")
    await other.expect("-- #uzak (1)")
    root.send("/kick #uzak other out")
    await other.expect("-- root kicked other from #uzak (out)")

    # A ban of an address range ends whoever comes from it, and refuses them at once.
    victim = await registered(HOST, lines(server), "victim", source="127.0.0.5")
    ircv = await irc_user(server, "ircv")
    root.send("/kline 127.0.0.5/32 abuse")
    await root.expect("*!*@127.0.0.5 is banned from the server.")
    assert "Banned from this server: abuse" in "\n".join(await victim.closed())
    await victim.close()
    again = await LineClient.connect(HOST, lines(server), source="127.0.0.5")
    assert await again.line() == "!! Banned from this server: abuse"
    await again.close()
    # IRC: KLINE by an operator (OPER), the same ban list.
    ircv.send(f"OPER root :{ROOT_PASSWORD}")
    await ircv.expect(command("381"))
    ircv.send("KLINE *!*@127.0.0.6 :more abuse")
    await ircv.expect(command("NOTICE"))
    from_six = await LineClient.connect(HOST, irc(server), source="127.0.0.6")
    assert await from_six.line() == "ERROR :Banned from this server: more abuse"
    await from_six.close()
    root.send("/unkline 127.0.0.5/32")
    await root.expect("is no longer banned from the server")
    back = await registered(HOST, lines(server), "back", source="127.0.0.5")
    for client in (root, other, ircv, back):
        await client.close()


async def test_server_bans_are_kept_across_restarts(start: Start, tmp_path: Path) -> None:
    db = str(tmp_path / "history.sqlite3")
    server = await start(db=db)
    root = await registered(HOST, lines(server), "root")
    root.send(f"/oper root {ROOT_PASSWORD}")
    await root.expect("You are now a server operator.")
    root.send("/kline 127.0.0.8 flood")
    await root.expect("is banned from the server")
    await root.close()
    await server.shutdown(grace=1.0)

    again = await start(db=db)
    refused = await LineClient.connect(HOST, lines(again), source="127.0.0.8")
    assert await refused.line() == "!! Banned from this server: flood"
    await refused.close()


async def test_access_lists_refuse_at_accept_and_new_lists_end_only_the_refused(
    start: Start,
) -> None:
    server = await start(deny=("127.0.0.4/32",))
    refused = await LineClient.connect(HOST, lines(server), source="127.0.0.4")
    assert await refused.line() == "!! Your address may not connect to this server."
    await refused.close()
    irc_refused = await LineClient.connect(HOST, irc(server), source="127.0.0.4")
    assert await irc_refused.line() == "ERROR :Your address may not connect to this server."
    await irc_refused.close()

    stays = await registered(HOST, lines(server), "stays", source="127.0.0.2")
    goes = await registered(HOST, lines(server), "goes", source="127.0.0.3")
    listening = await registered(HOST, lines(server), "listening")
    # As SIGHUP does with the file's lists: 127.0.0.3 is now denied, 127.0.0.4 no more.
    done = await server.reload(replace(server.config, deny=("127.0.0.3/32",)))
    assert any("1 connections ended" in line for line in done)
    assert "Your address may no longer connect to this server" in "\n".join(await goes.closed())
    await listening.expect("-- goes quit (Your address may no longer connect to this server)")
    stays.send("still here")
    await listening.expect("<stays> still here")
    welcome = await registered(HOST, lines(server), "welcome", source="127.0.0.4")
    for client in (stays, goes, listening, welcome):
        await client.close()


async def test_an_allow_list_lets_in_only_its_ranges(start: Start) -> None:
    server = await start(allow=("127.0.0.0/30",), deny=("127.0.0.2/32",))
    inside = await registered(HOST, lines(server), "inside", source="127.0.0.1")
    for source in ("127.0.0.2", "127.0.0.9"):
        outside = await LineClient.connect(HOST, lines(server), source=source)
        assert await outside.line() == "!! Your address may not connect to this server."
        await outside.close()
    await inside.close()
