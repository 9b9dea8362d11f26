"""The flusher: one send per connection per round, a slice of sockets per loop tick."""

from __future__ import annotations

import asyncio
import dataclasses
import types

from soketler.core.config import Limits, ServerConfig
from soketler.core.hub import Hub
from soketler.doors import Door, lines
from soketler.protocols.events import Request
from soketler.transport.backlog import Backlog
from soketler.transport.connection import ChatConnection
from soketler.transport.flusher import FLUSH_SLICE, Flusher
from soketler.transport.pump import LINES_PER_TURN


class RecordingTransport:
    """Just enough of an asyncio transport: remembers every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int, low: int) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default


def connections(
    count: int, door: Door = lines.DOOR
) -> tuple[list[ChatConnection], list[RecordingTransport]]:
    loop = asyncio.get_running_loop()
    limits = Limits(nick_timeout=0)
    backlog = Backlog(loop, limits)
    server = types.SimpleNamespace(
        hub=Hub(),
        config=ServerConfig(limits=limits),
        loop=loop,
        backlog=backlog,
        flusher=Flusher(loop, backlog),
        connections=set(),
        admit=lambda address: None,
        address_of=lambda transport: "127.0.0.1",
        release=lambda connection: None,
    )
    made, transports = [], []
    for _ in range(count):
        connection = ChatConnection(server, door)  # type: ignore[arg-type]
        transport = RecordingTransport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        made.append(connection)
        transports.append(transport)
    return made, transports


async def ticks(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def greeted(count: int) -> tuple[list[ChatConnection], list[RecordingTransport]]:
    """Connections whose greetings are written and forgotten."""
    made, transports = connections(count)
    await ticks(5)
    for transport in transports:
        transport.writes.clear()
    return made, transports


async def test_a_pass_is_written_a_slice_per_tick_in_order() -> None:
    made, transports = connections(3 * FLUSH_SLICE)
    await ticks(5)  # the greetings
    for transport in transports:
        transport.writes.clear()
    for connection in made:
        connection.write(b"hello\r\n")
    await ticks(1)
    written = [i for i, t in enumerate(transports) if t.writes]
    assert written == list(range(FLUSH_SLICE))
    await ticks(3)
    assert all(t.writes == [b"hello\r\n"] for t in transports)


async def test_what_arrives_during_a_pass_leaves_in_the_same_send() -> None:
    made, transports = await greeted(3 * FLUSH_SLICE)
    for connection in made:
        connection.write(b"one\r\n")
    await ticks(1)  # the first slice is written; the rest wait their turn
    for connection in made:
        connection.write(b"two\r\n")
    await ticks(6)
    first, rest = transports[:FLUSH_SLICE], transports[FLUSH_SLICE:]
    # Already written: a second send for the second line, in order.
    assert all(t.writes == [b"one\r\n", b"two\r\n"] for t in first)
    # Still waiting when the second line came: both lines in one send.
    assert all(t.writes == [b"one\r\ntwo\r\n"] for t in rest)


async def test_other_callbacks_run_between_slices() -> None:
    made, transports = await greeted(2 * FLUSH_SLICE)
    for connection in made:
        connection.write(b"x\r\n")
    seen: list[int] = []
    asyncio.get_running_loop().call_soon(
        lambda: seen.append(sum(1 for t in transports if t.writes))
    )
    await ticks(4)
    # The callback ran after the first slice and before the second.
    assert seen == [FLUSH_SLICE]
    assert all(t.writes for t in transports)


async def test_an_idle_client_of_a_door_that_asks_is_asked_then_ended() -> None:
    asked: list[str] = []
    door = dataclasses.replace(
        lines.DOOR, probe=lambda hub, session: asked.append(session.nick) or None
    )
    [connection], _ = connections(1, door)
    assert connection.session is not None
    lines.handle(connection.hub, connection.session, Request("hello", fields={"nick": "idle"}))
    limits = connection.limits
    start = connection.session.last_activity
    connection.check_idle(start + limits.idle_timeout - 1)
    assert asked == []
    connection.check_idle(start + limits.idle_timeout + 1)
    assert asked == ["idle"]
    connection.feed(b'{"type":"ping"}\n')  # any byte answers
    connection.check_idle(connection.session.last_activity + limits.ping_timeout + 1)
    assert not connection.session.closed
    later = connection.session.last_activity + limits.idle_timeout + 1
    connection.check_idle(later)
    assert asked == ["idle", "idle"]
    connection.check_idle(later + limits.ping_timeout + 1)
    assert connection.session.closed and connection.reason == "Ping timeout"


async def test_a_connection_handles_a_bounded_number_of_lines_per_turn() -> None:
    [connection], [transport] = connections(1)
    connection.server.config = ServerConfig(limits=Limits(rate=0, nick_timeout=0))
    connection.feed(b'{"type":"hello","nick":"many"}\n')
    await ticks(3)
    transport.writes.clear()
    connection.feed(b"".join(b'{"type":"ping","id":%d}\n' % n for n in range(100)))
    # What the first lines said goes out before more are taken.
    await ticks(1)
    assert b"".join(transport.writes).count(b'"pong"') == LINES_PER_TURN
    await ticks(10)
    assert b"".join(transport.writes).count(b'"pong"') == 100
