"""Hostile input over real sockets: the bad line gets its answer, the others chat on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from soketler.transport.server import ChatServer
from tests.e2e.conftest import StartServer
from tests.e2e.lineclient import LineClient, registered


def addr(server: ChatServer) -> tuple[str, int]:
    return server.tcp_addresses[0]


async def canary(a: LineClient, b: LineClient, text: str) -> None:
    """A message between two bystanders still arrives."""
    a.send(text)
    await b.expect(f"<{a.seen_nick}> {text}", timeout=5)


async def bystanders(host: str, port: int) -> tuple[LineClient, LineClient]:
    return await registered(host, port, "canary_a"), await registered(host, port, "canary_b")


@pytest.mark.parametrize(
    "line",
    [
        "/history before 99999999999999999999999",
        "/history before 9223372036854775808",
        "/history before -9223372036854775809",
        '{"type":"history","before":1000000000000000000000000000000}',
    ],
)
async def test_a_huge_history_cursor_on_sqlite_stops_nobody(
    start_server: StartServer, tmp_path: Path, line: str
) -> None:
    server = await start_server(db=str(tmp_path / "h.db"))
    host, port = addr(server)
    a, b = await bystanders(host, port)
    hostile = await LineClient.connect(host, port)
    await hostile.expect("Choose a nickname")
    if line.startswith("{"):
        hostile.send('{"type":"hello","nick":"mallory"}')
        await hostile.expect('"type":"hello"')
    else:
        hostile.send("mallory")
        await hostile.expect("You are in #lobby")
    hostile.send(line)
    answer = await hostile.expect(lambda s: "Usage" in s or "whole number" in s)
    assert "error" in answer or answer.startswith("!!")
    await canary(a, b, "still here after the bad cursor")
    # The one who asked goes on too.
    hostile.send('{"type":"ping","id":1}' if line.startswith("{") else "/history 1")
    await hostile.expect(lambda s: "pong" in s or "End of history" in s)
    for client in (a, b, hostile):
        await client.close()


async def test_a_surrogate_id_after_a_rate_limit_pause_does_not_hang_the_reader(
    start_server: StartServer,
) -> None:
    server = await start_server(rate=5, burst=2)
    host, port = addr(server)
    a, b = await bystanders(host, port)
    bot = await LineClient.connect(host, port)
    bot.send('{"type":"hello","nick":"bot"}')
    await bot.expect('"type":"hello"')
    # The burst is spent by the first lines; the bad ones run after a pause.
    for n in range(3):
        bot.send(json.dumps({"type": "ping", "id": n}))
    bot.send('{"type":"history","id":"\\ud800"}')
    bot.send('{"type":"ping","id":"\\udfff-after"}')
    await bot.expect(lambda s: '"type":"history"' in s and '"re":""' in s)
    await bot.expect('"re":"-after"')
    await canary(a, b, "reading was resumed")
    for client in (a, b, bot):
        await client.close()


@pytest.mark.slow
async def test_a_burst_inside_the_limits_drops_nobody(start_server: StartServer) -> None:
    """40 senders from 40 addresses, 20 lines of 4 KB each (within line length, burst
    and rate): 800 lines, 3.2 MB to each of the 43 members in a moment."""
    server = await start_server()
    host, port = addr(server)
    readers = [await registered(host, port, f"reader{n}") for n in range(3)]
    senders = [
        await registered(host, port, f"s{n}", source=f"127.0.{n // 200 + 3}.{n % 200 + 1}")
        for n in range(40)
    ]
    everyone = readers + senders
    payload = "x" * 4000
    total = 40 * 20

    async def read_all(client: LineClient) -> int:
        got = 0
        while got < total:
            line = await client.line(timeout=30)
            assert "Goodbye" not in line, line
            if line.endswith(payload):
                got += 1
        return got

    readings = [asyncio.create_task(read_all(c)) for c in everyone]
    for sender in senders:
        for n in range(20):
            sender.send(f"{n} {payload}")
    counts = await asyncio.wait_for(asyncio.gather(*readings), 60)
    assert counts == [total] * len(everyone)
    assert len(server.connections) == len(everyone)
    for client in everyone:
        await client.close()
