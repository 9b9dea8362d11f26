"""The IRC door over real sockets on 127.0.0.1, beside the telnet/nc door of the same
server: registration, one room for both doors, room settings enforced, limits, idle
clients."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from soketler.core.config import Limits, Listener, ServerConfig
from soketler.transport.server import ChatServer
from tests.e2e.ircclient import IrcTestClient, command
from tests.e2e.lineclient import LineClient, registered

HOST = "127.0.0.1"


@dataclass
class Doors:
    server: ChatServer
    lines_port: int
    irc_port: int

    async def irc(self, nick: str | None = None, *caps: str) -> IrcTestClient:
        client = await IrcTestClient.connect(HOST, self.irc_port)
        if nick is not None:
            await client.register(nick, *caps)
        return client

    async def telnet(self, nick: str) -> LineClient:
        return await registered(HOST, self.lines_port, nick)


StartDoors = Callable[..., Any]


@pytest.fixture
async def start_doors() -> AsyncIterator[StartDoors]:
    """`await start_doors(irc_password=..., **limits)`: a server with the lines door and
    the IRC door, each on a port the system picks."""
    servers: list[ChatServer] = []

    async def start(irc_password: str = "", **limits: Any) -> Doors:
        limits.setdefault("rate", 0)
        config = ServerConfig(
            hosts=(HOST,),
            port=0,
            server_name="irc.test",
            irc_password=irc_password,
            limits=Limits(**limits),
        )
        listeners = (Listener("lines", (HOST,), 0), Listener("irc", (HOST,), 0))
        server = ChatServer(config, listeners=listeners)
        await server.start()
        servers.append(server)
        [(_, lines_port)] = server.tcp_addresses_of("lines")
        [(_, irc_port)] = server.tcp_addresses_of("irc")
        return Doors(server, lines_port, irc_port)

    yield start
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


@pytest.fixture
async def doors(start_doors: StartDoors) -> Doors:
    started: Doors = await start_doors()
    return started


# --- registration -------------------------------------------------------------------------


async def test_registration_waits_for_cap_end_and_welcomes_in_order(doors: Doors) -> None:
    client = await doors.irc()
    client.send("CAP LS 302", "NICK ayse", "USER ayse 0 * :Ayşe Yılmaz")
    ls = await client.expect(command("CAP", "*", "LS"))
    offered = ls.params[-1].split()
    assert {"server-time", "message-tags", "echo-message", "multi-prefix"} <= set(offered)
    client.send("CAP REQ :multi-prefix server-time no-such-cap")
    assert (await client.expect(command("CAP"))).params[1:] == (
        "NAK",
        "multi-prefix server-time no-such-cap",
    )
    client.send("CAP REQ :multi-prefix server-time")
    assert (await client.expect(command("CAP"))).params[1:] == ("ACK", "multi-prefix server-time")
    # Nothing is welcomed before CAP END, however early NICK and USER came.
    assert not any(m.command == "001" for m in await client.sync("before-end"))
    client.send("CAP END")
    welcome = await client.until(lambda m: m.command in ("376", "422"))
    numerics = [m.command for m in welcome]
    assert numerics[:4] == ["001", "002", "003", "004"]
    assert numerics[4] == "005" and "251" in numerics and numerics[-1] == "422"
    assert welcome[0].params[0] == "ayse" and welcome[0].source == "irc.test"
    isupport = " ".join(" ".join(m.params[1:-1]) for m in welcome if m.command == "005")
    for token in ("CASEMAPPING=ascii", "CHANTYPES=#", "PREFIX=(ov)@+", "NETWORK=soketler", "BOT=B"):
        assert token in isupport.split()
    # server-time is on: the server's lines about others carry the time.
    client.send("JOIN #lobby")
    joined = await client.expect(command("JOIN"))
    assert "time" in joined.tags and joined.source == "ayse!ayse@127.0.0.1"
    await client.close()


async def test_registration_without_cap_and_a_taken_nickname_on_either_door(doors: Doors) -> None:
    bob = await doors.telnet("bob")
    client = await doors.irc()
    client.send("NICK BOB", "USER x 0 * :x")
    taken = await client.expect(command("433"))
    assert taken.params[:2] == ("*", "BOB")
    client.send("NICK ayse")
    await client.expect(command("001", "ayse"))
    other = await LineClient.connect(HOST, doors.lines_port)
    await other.expect("Choose a nickname")
    other.send("AYSE")
    assert "is taken" in await other.expect("!!")
    client.send("NICK bob")
    await client.expect(command("433", "ayse", "bob"))
    await bob.close()
    await other.close()
    await client.close()


async def test_a_wrong_password_gets_464_and_error(start_doors: StartDoors) -> None:
    doors = await start_doors(irc_password="sesame")
    wrong = await doors.irc()
    wrong.send("PASS guess", "NICK ayse", "USER ayse 0 * :a")
    got = await wrong.closed()
    assert [m.command for m in got][-2:] == ["464", "ERROR"]
    await wrong.close()
    right = await doors.irc()
    right.send("PASS sesame", "NICK ayse", "USER ayse 0 * :a")
    await right.expect(command("001"))
    await right.close()


# --- one room, two doors ------------------------------------------------------------------


async def test_a_telnet_user_and_an_irc_user_see_each_other_in_the_lobby(doors: Doors) -> None:
    bob = await doors.telnet("bob")
    ayse = await doors.irc("ayse")
    ayse.send("JOIN #lobby")
    names = await ayse.until(command("366"))
    assert [m.params[-1] for m in names if m.command == "353"] == ["@bob ayse"]
    await bob.expect("-- ayse joined #lobby")

    bob.send("merhaba from telnet")
    said = await ayse.expect(command("PRIVMSG", "#lobby"))
    assert said.source == "bob!bob@127.0.0.1" and said.params[1] == "merhaba from telnet"
    ayse.send("PRIVMSG #lobby :selam from \x02IRC\x02")
    assert (await bob.expect("selam")).endswith("<ayse> selam from IRC")  # no bold codes
    ayse.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    assert (await bob.expect("waves")).endswith("* ayse waves")
    bob.send("/me nods")
    assert (await ayse.expect(command("PRIVMSG"))).params[1] == "\x01ACTION nods\x01"

    bob.send("/msg ayse a private word")
    private = await ayse.expect(command("PRIVMSG", "ayse"))
    assert private.params[1] == "a private word"
    ayse.send("PRIVMSG bob :and back")
    assert (await bob.expect("and back")).endswith("*ayse* and back")

    bob.send("/nick bora")
    assert (await ayse.expect(command("NICK"))).source == "bob!bob@127.0.0.1"
    assert ayse.seen[-1].params == ("bora",)
    ayse.send("NICK ayşe")
    await bob.expect("-- ayse is now known as ayşe")

    ayse.send("TOPIC #lobby :çay saati")
    await bob.expect("set the topic of #lobby: çay saati")
    ayse.send("PART #lobby :brb")
    await bob.expect("-- ayşe left #lobby (brb)")
    ayse.send("JOIN #lobby")
    topic = await ayse.expect(command("332"))
    assert topic.params[1:] == ("#lobby", "çay saati")
    await bob.expect("-- ayşe joined #lobby")

    bob.send("/quit gotta go")
    quit_ = await ayse.expect(command("QUIT"))
    assert quit_.source == "bora!bob@127.0.0.1" and quit_.params == ("gotta go",)
    ayse.send("QUIT :done")
    assert (await ayse.closed())[-1].command == "ERROR"
    await ayse.close()
    await bob.close()


async def test_echo_message_only_for_those_who_ask(doors: Doors) -> None:
    plain = await doors.irc("plain")
    echoed = await doors.irc("echoed", "echo-message", "message-tags")
    for client in (plain, echoed):
        client.send("JOIN #r")
        await client.expect(command("366"))
    plain.send("PRIVMSG #r :from plain")
    got = await echoed.expect(command("PRIVMSG"))
    assert got.params[1] == "from plain" and "msgid" in got.tags
    assert not any(m.command == "PRIVMSG" for m in await plain.sync())
    echoed.send("PRIVMSG #r :from echoed")
    own = await echoed.expect(command("PRIVMSG"))
    assert own.source is not None and own.source.startswith("echoed!")
    assert (await plain.expect(command("PRIVMSG"))).params[1] == "from echoed"
    for client in (plain, echoed):
        await client.close()


# --- room settings and kicks, enforced for both doors ---------------------------------------


async def test_modes_and_kicks_are_enforced_for_both_doors(doors: Doors) -> None:
    op = await doors.irc("op")
    op.send("JOIN #dev")
    assert (await op.until(command("366")))[1].params[-1] == "@op"
    guest = await doors.irc("guest")
    telnet = await doors.telnet("tel")
    guest.send("JOIN #dev")
    await guest.expect(command("366"))
    telnet.send("/join #dev")
    await telnet.expect("-- #dev (")

    op.send("MODE #dev +m")
    await guest.expect(command("MODE", "#dev", "+m"))
    await telnet.expect("-- op set #dev: moderated")
    guest.send("PRIVMSG #dev :may I?")
    assert (await guest.expect(command("404"))).params[1] == "#dev"
    telnet.send("may I too?")
    assert "cannot speak in #dev" in await telnet.expect("!!")
    guest.send("MODE #dev +v guest")  # not an operator
    await guest.expect(command("482"))
    op.send("MODE #dev +v tel")
    await telnet.expect("-- op set #dev: tel may speak")
    telnet.send("thanks")
    assert (await guest.expect(command("PRIVMSG", "#dev"))).params[1] == "thanks"

    op.send("KICK #dev guest :out")
    kick = await guest.expect(command("KICK"))
    assert kick.params == ("#dev", "guest", "out") and kick.source == "op!op@127.0.0.1"
    await telnet.expect("-- op kicked guest from #dev (out)")
    op.send("MODE #dev +i")
    await op.expect(command("MODE", "#dev", "+i"))
    guest.send("JOIN #dev")
    assert (await guest.expect(command("473"))).params[1] == "#dev"
    op.send("INVITE guest #dev")
    await op.expect(command("341"))
    await guest.expect(command("INVITE", "guest", "#dev"))
    guest.send("JOIN #dev")
    await guest.expect(command("366"))

    op.send("MODE #dev -i+k sesame", "KICK #dev guest", "MODE #dev +b guest!*@*")
    await op.expect(command("MODE", "#dev", "+b"))
    guest.send("JOIN #dev sesame")
    assert (await guest.expect(command("474"))).params[1] == "#dev"
    op.send("MODE #dev -b guest!*@*", "MODE #dev +l 2")
    await op.expect(command("MODE", "#dev", "+l", "2"))
    guest.send("JOIN #dev")
    await guest.expect(command("475"))
    guest.send("JOIN #dev sesame")
    await guest.expect(command("471"))
    op.send("MODE #dev")
    shown = await op.expect(command("324"))
    assert shown.params[1:] == ("#dev", "+mkl", "sesame", "2")
    for client in (op, guest):
        await client.close()
    await telnet.close()


# --- the pump's limits apply to IRC too -------------------------------------------------


async def test_a_silent_client_is_pinged_then_ends_with_ping_timeout(
    start_doors: StartDoors,
) -> None:
    doors = await start_doors(idle_timeout=0.4, ping_timeout=0.4)
    watcher = await doors.telnet("watcher")
    answering = await doors.irc("answering")
    silent = await doors.irc("silent")
    for client in (answering, silent):
        client.send("JOIN #lobby")
        await client.expect(command("366"))
    ping = await answering.expect(command("PING"))
    answering.send(f"PONG :{ping.params[-1]}")
    await silent.expect(command("PING"))
    got = await silent.closed()
    assert got[-1].command == "ERROR" and "Ping timeout" in got[-1].params[0]
    await silent.close()
    assert (await watcher.expect("silent quit")).endswith("-- silent quit (Ping timeout)")
    # The one that answered is still there.
    answering.send("PRIVMSG #lobby :still here")
    await watcher.expect("<answering> still here")
    await answering.close()
    await watcher.close()


async def test_a_flooding_irc_client_is_cut_like_any_other(start_doors: StartDoors) -> None:
    doors = await start_doors(rate=1, burst=2, flood_lines=5)
    watcher = await doors.telnet("watcher")
    flood = await doors.irc()
    flood.send("NICK flood", "USER f 0 * :f", "JOIN #lobby")
    await watcher.expect("flood joined #lobby")
    flood.send(*[f"PRIVMSG #lobby :line {n}" for n in range(50)])
    got = await flood.closed()
    assert got[-1].command == "ERROR" and "Excess flood" in got[-1].params[0]
    await flood.close()
    await watcher.expect("flood quit (Excess flood)")
    await watcher.close()


async def test_chathistory_latest_and_before_from_the_store(doors: Doors) -> None:
    ayse = await doors.irc("ayse", "batch", "message-tags", "server-time", "draft/chathistory")
    bob = await doors.telnet("bob")
    ayse.send("JOIN #lobby")
    await ayse.expect(command("366"))
    for n in range(3):
        bob.send(f"line {n}")
        await ayse.expect(lambda m, n=n: m.command == "PRIVMSG" and m.params[1] == f"line {n}")
    ayse.send("CHATHISTORY LATEST #lobby * 2")
    got = await ayse.until(command("BATCH"))
    got += await ayse.until(command("BATCH"))
    start, *lines, end = got
    reference = start.params[0][1:]
    assert start.params[1:] == ("chathistory", "#lobby") and end.params == (f"-{reference}",)
    assert [(m.params[1], m.tags["batch"]) for m in lines] == [
        ("line 1", reference),
        ("line 2", reference),
    ]
    oldest = lines[0].tags["msgid"]
    ayse.send(f"CHATHISTORY BEFORE #lobby msgid={oldest} 10")
    got = await ayse.until(command("BATCH"))
    got += await ayse.until(command("BATCH"))
    assert [m.params[1] for m in got if m.command == "PRIVMSG"] == ["line 0"]
    ayse.send("CHATHISTORY AFTER #lobby msgid=1 10")
    fail = await ayse.expect(command("FAIL"))
    assert fail.params[:3] == ("CHATHISTORY", "INVALID_PARAMS", "AFTER")
    await ayse.close()
    await bob.close()


async def test_an_ipv6_client_is_shown_as_0_colon_colon_1() -> None:
    v6 = ChatServer(
        ServerConfig(hosts=("::1",), port=0, server_name="irc.test"),
        listeners=(Listener("irc", ("::1",), 0),),
    )
    try:
        await v6.start()
    except OSError:
        pytest.fail("IPv6 is needed on loopback (::1) for this test")
    try:
        [(_, port)] = v6.tcp_addresses_of("irc")
        client = await IrcTestClient.connect("::1", port)
        await client.register("altı")
        client.send("WHO altı", "JOIN #r")
        reply = await client.expect(command("352"))
        assert reply.params[3] == "0::1"
        assert (await client.expect(command("JOIN"))).source == "altı!altı@0::1"
        await client.close()
    finally:
        await v6.shutdown(grace=1.0)


async def test_hostile_bytes_on_one_irc_connection_leave_a_conversation_beside_it_alone(
    doors: Doors, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 15: one client's bad input stays its own. Random bytes, lines past every
    limit, bad tags and half-valid commands on one connection, while a telnet user
    and an IRC user go on talking; no request fails on the server."""
    rng = random.Random(1502)
    bob = await doors.telnet("bob")
    ayse = await doors.irc("ayse")
    ayse.send("JOIN #lobby")
    await ayse.expect(command("366"))
    hostile = await doors.irc("hostile")
    junk_lines = [
        b"@" + b"a" * 9000 + b" PRIVMSG #lobby :x",
        b"PRIVMSG #lobby :" + b"y" * 2000,
        b"@+k=\\;\\ \\\\;;=;+=x PRIVMSG #lobby :tags",
        b"\xff\xfe\x00PRIVMSG #lobby :\x00\x1b[2Jbad utf8 \xc3",
        b"MODE #lobby +kl :a b",
        b"CAP REQ :" + b"z" * 600,
        b"JOIN " + b",".join(b"#r%d" % n for n in range(80)),
        b"KICK #lobby,#x,#y a,b",
        b":fake!src@host NICK",
        b"WHO :a b c",
    ]
    for round_ in range(20):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        hostile.writer.write(noise + b"\r\n" + rng.choice(junk_lines) + b"\r\n")
        bob.send(f"canary {round_}")
        said = await ayse.expect(
            lambda m: m.command == "PRIVMSG" and (m.source or "").startswith("bob!")
        )
        assert said.params[1] == f"canary {round_}"
        ayse.send(f"PRIVMSG #lobby :answer {round_}")
        await bob.expect(f"<ayse> answer {round_}")
    failures = [r for r in caplog.records if "request failed" in r.getMessage()]
    assert failures == []
    for client in (ayse, hostile):
        await client.close()
    await bob.close()
