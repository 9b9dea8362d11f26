"""The asyncio API against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket

import pytest

from soketler import exitcodes
from soketler.client import (
    ChatClient,
    ChatMessage,
    ConnectFailed,
    ConnectionLost,
    Disconnected,
    Joined,
    NickChanged,
    NickRejected,
    Pong,
    Reconnected,
    RequestFailed,
    TopicChanged,
    Welcome,
)
from soketler.client.requests import Ping
from soketler.core.config import Limits, ServerConfig
from soketler.transport.server import ChatServer
from tests.client.conftest import (
    FAST_BACKOFF,
    Connect,
    next_matching,
    silent_server,
    start_chat_server,
    unused_port,
)


def message_from(nick: str, text: str | None = None):  # type: ignore[no-untyped-def]
    def match(event: object) -> bool:
        return (
            isinstance(event, ChatMessage)
            and event.sender == nick
            and (text is None or event.text == text)
        )

    return match


async def test_connect_registers_and_joins_the_requested_rooms(connect: Connect) -> None:
    ayse = await connect("ayşe", rooms=["#dev", "#ops"])
    assert ayse.nick == "ayşe"
    assert ayse.rooms == ("#lobby", "#dev", "#ops")
    assert ayse.current_room == "#ops"
    welcome = await ayse.next_event()
    assert isinstance(welcome, Welcome)
    assert welcome.room == "#lobby"


async def test_room_messages_reach_members_only(connect: Connect) -> None:
    ayse = await connect("ayşe", rooms=["#dev"])
    bob = await connect("bob", rooms=["#dev"])
    carol = await connect("carol")
    await bob.send("#dev", "merhaba 👋")
    await bob.action("#dev", "waves")
    got = await next_matching(ayse, message_from("bob", "merhaba 👋"))
    assert isinstance(got, ChatMessage)
    assert (got.room, got.to, got.action) == ("#dev", None, False)
    action = await next_matching(ayse, message_from("bob", "waves"))
    assert isinstance(action, ChatMessage) and action.action
    # carol is not in #dev: after a round trip through the server she has nothing from bob.
    await bob.send("#lobby", "lobby line")
    lobby = await next_matching(carol, message_from("bob"))
    assert isinstance(lobby, ChatMessage) and lobby.text == "lobby line"


async def test_private_messages_go_to_one_person_and_echo_to_the_sender(connect: Connect) -> None:
    ayse = await connect("ayşe")
    bob = await connect("bob")
    carol = await connect("carol")
    await bob.msg("AYŞE", "psst")
    got = await next_matching(ayse, message_from("bob", "psst"))
    assert isinstance(got, ChatMessage) and got.to is not None and got.room is None
    echo = await next_matching(bob, message_from("bob", "psst"))
    assert isinstance(echo, ChatMessage) and echo.to is not None
    # A ping with our own id comes back in the stream after anything sent to carol before.
    await carol.submit(Ping(id="check"))
    async with asyncio.timeout(5):
        while (event := await carol.next_event()) != Pong("check"):
            assert not (isinstance(event, ChatMessage) and event.to is not None)


async def test_rooms_who_topic_nick_and_part(connect: Connect) -> None:
    ayse = await connect("ayşe", rooms=["#dev"])
    bob = await connect("bob", rooms=["#dev"])
    members = await ayse.who("#dev")
    assert set(members.users) == {"ayşe", "bob"}
    rooms = {info.name: info.users for info in await ayse.list_rooms()}
    assert rooms["#dev"] == 2
    await ayse.set_topic("#dev", "release day")
    topic = await next_matching(bob, lambda e: isinstance(e, TopicChanged))
    assert isinstance(topic, TopicChanged) and topic.text == "release day"
    assert await ayse.set_nick("ayse") == "ayse"
    renamed = await next_matching(bob, lambda e: isinstance(e, NickChanged))
    assert isinstance(renamed, NickChanged) and (renamed.old, renamed.new) == ("ayşe", "ayse")
    await ayse.part("#dev", "done")
    assert ayse.rooms == ("#lobby",)
    assert ayse.current_room == "#lobby"
    assert (await bob.who("#dev")).users == ("bob",)


async def test_history_returns_earlier_messages_oldest_first(connect: Connect) -> None:
    bob = await connect("bob", rooms=["#dev"])
    for n in range(5):
        await bob.send("#dev", f"line {n}")
    await bob.ping()
    ayse = await connect("ayşe", rooms=["#dev"])  # history is for members only
    replayed = await ayse.history("#dev", limit=3)
    assert [m.text for m in replayed] == ["line 2", "line 3", "line 4"]
    assert all(m.history and m.room == "#dev" for m in replayed)
    older = await ayse.history("#dev", before=replayed[0].id)
    assert [m.text for m in older] == ["line 0", "line 1"]


async def test_refusals_raise_with_the_servers_code(connect: Connect) -> None:
    ayse = await connect("ayşe")
    await connect("bob")
    with pytest.raises(RequestFailed) as bad_room:
        await ayse.join("no spaces allowed")
    assert bad_room.value.code == "room-invalid"
    with pytest.raises(RequestFailed) as taken:
        await ayse.set_nick("BOB")
    assert taken.value.code == "nick-taken"
    with pytest.raises(RequestFailed) as last:
        await ayse.part("#lobby")
    assert last.value.code == "last-room"
    assert ayse.rooms == ("#lobby",)  # the client still works after all that
    assert await ayse.ping() >= 0


async def test_a_taken_nickname_is_rejected_with_the_servers_reason(connect: Connect) -> None:
    await connect("bob")
    with pytest.raises(NickRejected) as rejected:
        await connect("BOB")
    assert rejected.value.code == "nick-taken"
    assert "bob" in rejected.value.reason.lower()
    assert rejected.value.exit_code == exitcodes.PROTOCOL


async def test_connection_refused_is_one_clear_error() -> None:
    free_port = unused_port()
    with pytest.raises(ConnectFailed) as failed:
        await ChatClient("127.0.0.1", free_port, nick="x").connect()
    assert failed.value.exit_code == exitcodes.REFUSED
    assert str(failed.value) == f"connection refused: 127.0.0.1 port {free_port}"


async def test_a_server_that_never_answers_times_out() -> None:
    async with silent_server() as port:
        client = ChatClient("127.0.0.1", port, nick="x", connect_timeout=0.3)
        with pytest.raises(ConnectFailed) as failed:
            await client.connect()
    assert failed.value.exit_code == exitcodes.TIMEOUT
    assert "timed out" in str(failed.value)


async def test_an_unknown_host_is_its_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_such_host(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # Resolving a made-up name would ask a real DNS server; the mapping is what we test.
    monkeypatch.setattr(asyncio, "open_connection", no_such_host)
    with pytest.raises(ConnectFailed) as failed:
        await ChatClient("chat.invalid", 61000, nick="x").connect()
    assert failed.value.exit_code == exitcodes.UNKNOWN_HOST
    assert str(failed.value) == "unknown host: chat.invalid"


async def test_without_reconnect_the_stream_ends_when_the_server_goes(
    connect: Connect,
) -> None:
    server = await start_chat_server()
    try:
        client = await connect("ayşe", port=server.tcp_addresses[0][1])
    finally:
        await server.shutdown(grace=1.0)
    lost = await next_matching(client, lambda e: isinstance(e, Disconnected))
    assert isinstance(lost, Disconnected) and not lost.reconnecting
    assert "Server shutting down" in lost.reason
    assert await asyncio.wait_for(client.next_event(), 2) is None
    with pytest.raises(ConnectionLost):
        await client.send(None, "anyone?")


async def test_reconnects_after_the_server_restarts_on_the_same_port(connect: Connect) -> None:
    first = await start_chat_server()
    port = first.tcp_addresses[0][1]
    second: ChatServer | None = None
    try:
        ayse = await connect(
            "ayşe", port=port, rooms=["#ops", "#dev"], reconnect=True, backoff=FAST_BACKOFF
        )
        await first.shutdown(grace=1.0)
        lost = await next_matching(ayse, lambda e: isinstance(e, Disconnected))
        assert isinstance(lost, Disconnected) and lost.reconnecting
        second = await start_chat_server(port)
        back = await next_matching(ayse, lambda e: isinstance(e, Reconnected), within=10)
        assert back == Reconnected("ayşe", ("#lobby", "#ops", "#dev"))
        assert ayse.current_room == "#dev"
        # A room made current on our side is current again after the next reconnect.
        assert ayse.make_current("#OPS") == "#ops"
        await second.shutdown(grace=1.0)
        await next_matching(ayse, lambda e: isinstance(e, Disconnected))
        second = await start_chat_server(port)
        await next_matching(ayse, lambda e: isinstance(e, Reconnected), within=10)
        assert ayse.current_room == "#ops"
        bob = await connect("bob", port=port, rooms=["#ops"])
        await bob.send("#ops", "welcome back")
        await next_matching(ayse, message_from("bob", "welcome back"))
        rooms = {info.name: info.users for info in await bob.list_rooms()}
        assert rooms == {"#lobby": 2, "#ops": 2, "#dev": 1}
    finally:
        await first.shutdown(grace=1.0)
        if second is not None:
            await second.shutdown(grace=1.0)


async def test_a_reconnect_takes_another_name_while_a_ghost_holds_ours(connect: Connect) -> None:
    server = await start_chat_server()
    port = server.tcp_addresses[0][1]
    try:
        ayse = await connect("ayşe", port=port, reconnect=True, backoff=FAST_BACKOFF)
        link = ayse._link
        assert link is not None
        # Our side drops the connection; take the name before the server frees it.
        link.writer.transport.abort()
        await next_matching(ayse, lambda e: isinstance(e, Disconnected))
        ghost = await connect_until_free(connect, port, "ayşe")
        back = await next_matching(ayse, lambda e: isinstance(e, Reconnected), within=10)
        assert isinstance(back, Reconnected) and back.nick == "ayşe_"
        assert ghost.nick == "ayşe"
    finally:
        await server.shutdown(grace=1.0)


async def connect_until_free(connect: Connect, port: int, nick: str) -> ChatClient:
    """Registers `nick` as soon as the server has noticed its owner is gone."""
    async with asyncio.timeout(5):
        while True:  # bounded by the timeout; each round is a full connection attempt
            try:
                client: ChatClient = await connect(nick, port=port)
                return client
            except NickRejected:
                await asyncio.sleep(0.02)


async def test_close_ends_the_stream_and_tells_the_others(connect: Connect) -> None:
    ayse = await connect("ayşe")
    bob = await connect("bob")
    await ayse.close("see you")
    assert ayse.connected is False
    gone = await next_matching(
        bob, lambda e: getattr(e, "nick", None) == "ayşe" and not isinstance(e, Joined)
    )
    assert getattr(gone, "reason", None) == "see you"
    events = [event async for event in ayse]
    assert not any(isinstance(e, Disconnected) for e in events)
    await ayse.close()  # closing twice is harmless


async def test_unread_events_are_bounded(connect: Connect) -> None:
    ayse = await connect("ayşe", max_events=10)
    bob = await connect("bob")
    for n in range(30):
        await bob.send("#lobby", f"line {n}")
    await bob.ping()
    await next_matching(ayse, message_from("bob", "line 29"))
    assert ayse.dropped_events > 0


@pytest.mark.parametrize(("rate", "kept"), [(50.0, True), (0.0, False)])
async def test_pacing_keeps_a_burst_under_the_servers_flood_limit(rate: float, kept: bool) -> None:
    limits = Limits(rate=50, burst=5, flood_lines=5)
    server = ChatServer(ServerConfig(hosts=("127.0.0.1",), port=0, limits=limits))
    await server.start()
    try:
        port = server.tcp_addresses[0][1]
        async with ChatClient("127.0.0.1", port, nick="fast", rate=rate, burst=5) as fast:
            for n in range(40):
                await fast.send(None, f"line {n}")
            # Unpaced, the server cuts the client off for flooding; paced, all arrive.
            if kept:
                await fast.ping()
            else:
                lost = await next_matching(fast, lambda e: isinstance(e, Disconnected))
                assert isinstance(lost, Disconnected) and "flood" in lost.reason.lower()
            assert fast.connected is kept
    finally:
        await server.shutdown(grace=1.0)
