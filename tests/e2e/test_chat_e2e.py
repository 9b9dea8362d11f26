"""The chat server over real sockets on 127.0.0.1, ::1 and a Unix socket."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from soketler.transport.server import ChatServer
from tests.e2e.conftest import StartServer
from tests.e2e.lineclient import LineClient, registered


def addr(server: ChatServer) -> tuple[str, int]:
    return server.tcp_addresses[0]


async def test_three_users_chat_across_two_rooms(server: ChatServer) -> None:
    host, port = addr(server)
    ayse = await registered(host, port, "ayşe")
    bob = await registered(host, port, "bob")
    minjun = await registered(host, port, "민준")
    for nick in ("bob", "민준"):
        await ayse.expect(f"-- {nick} joined #lobby")
    ayse.send("/join #dev")
    bob.send("/join #dev")
    await ayse.expect("-- bob joined #dev")
    bob.send("derleme bitti")
    assert (await ayse.expect("derleme")).endswith("<bob> derleme bitti")
    minjun.send("로비에 누구 있어요?")
    # ayşe is in #lobby too, but #dev is her current room: the line names its room.
    assert (await ayse.expect("로비")).endswith("[#lobby] <민준> 로비에 누구 있어요?")
    assert (await minjun.expect("로비")).endswith("<민준> 로비에 누구 있어요?")
    # 민준 never joined #dev: he may see who is there, but no #dev message reached him.
    minjun.send("/who #dev")
    assert (await minjun.expect("-- #dev (")) == "-- #dev (2): ayşe, bob"
    assert not any("derleme" in line for line in minjun.seen)
    minjun.send("/who #nowhere")
    assert await minjun.expect("!!") == "!! Nobody is in #nowhere."
    for client in (ayse, bob, minjun):
        await client.close()


async def test_ipv6_and_unix_socket_users_share_the_rooms(
    start_server: StartServer, tmp_path: Path
) -> None:
    if not socket.has_ipv6:
        pytest.fail("IPv6 is needed on loopback (::1) for this test")
    path = str(tmp_path / "chat.sock")
    server = await start_server(hosts=("127.0.0.1", "::1"), unix=path)
    ports = {h: p for h, p in server.tcp_addresses}
    v4 = await registered("127.0.0.1", ports["127.0.0.1"], "dört")
    v6 = await registered("::1", ports["::1"], "altı")
    unix = await LineClient.unix(path)
    await unix.register("yuva")
    unix.send("merhaba from a Unix socket")
    for client in (v4, v6, unix):
        await client.expect("<yuva> merhaba from a Unix socket")
    v6.send("ve IPv6")
    await v4.expect("<altı> ve IPv6")
    for client in (v4, v6, unix):
        await client.close()


async def test_nickname_collision_is_refused_with_a_new_prompt(server: ChatServer) -> None:
    host, port = addr(server)
    first = await registered(host, port, "Şule")
    second = await LineClient.connect(host, port)
    await second.expect("Choose a nickname")
    second.send("ŞULE")
    assert "is taken" in await second.expect("!!")
    second.send("Şule2")
    await second.expect("You are in #lobby")
    await first.close()
    await second.close()


async def test_utf8_round_trip_and_invalid_bytes(server: ChatServer) -> None:
    host, port = addr(server)
    a = await registered(host, port, "a")
    b = await registered(host, port, "b")
    text = "Ağaç gölgesinde çay içtik 🍵 — 오늘 날씨가 좋네요"
    a.send(text)
    assert (await b.expect("Ağaç")).endswith(f"<a> {text}")
    # (0xFF is telnet's IAC, so it is not among them: see the telnet test.)
    a.send(b"bozuk \xc3( \xfe bayt")
    assert (await b.expect("bozuk")).endswith("<a> bozuk \ufffd( \ufffd bayt")
    a.send(b"renk \x1b[31mkirmizi\x1b[0m \x1b[2J ekran")
    assert (await b.expect("renk")).endswith("<a> renk kirmizi  ekran")
    await a.close()
    await b.close()


async def test_telnet_negotiation_and_cr_nul_line_endings(server: ChatServer) -> None:
    host, port = addr(server)
    watcher = await registered(host, port, "watcher")
    telnet = await LineClient.connect(host, port)
    await telnet.expect("Choose a nickname")
    # What a telnet client sends first: IAC WILL/DO option negotiation.
    telnet.send(bytes([255, 251, 31, 255, 251, 32, 255, 253, 3]) + b"tel", end=b"")
    telnet.send(b"net", end=b"\r\x00")
    await telnet.expect("You are in #lobby")
    telnet.send(b"split ", end=b"")
    telnet.send(b"across packets", end=b"\r\x00")
    await watcher.expect("<telnet> split across packets")
    await watcher.close()
    await telnet.close()


async def test_an_oversize_line_is_refused_and_the_connection_kept(
    start_server: StartServer,
) -> None:
    server = await start_server(max_line=1024)
    a = await registered(*addr(server), "a")
    a.send("x" * 5000)
    assert "Line too long" in await a.expect("!!")
    a.send("still here")
    await a.expect("<a> still here")
    await a.close()


async def test_a_flooder_is_throttled_then_disconnected(server: ChatServer) -> None:
    host, port = addr(server)
    watcher = await registered(host, port, "watcher")
    flooder = await registered(host, port, "flooder")
    await watcher.expect("flooder joined")
    flooder.writer.write(b"".join(f"flood {i}\r\n".encode() for i in range(500)))
    await watcher.expect("flooder quit (Excess flood)")
    received = [line for line in watcher.seen if "<flooder> flood" in line]
    # The burst (20) got through; the rest was never delivered.
    assert 15 <= len(received) <= 25, received
    assert "Goodbye (Excess flood)" in "\n".join(await flooder.closed())
    await watcher.close()
    await flooder.close()


async def test_a_pasted_hundred_lines_all_arrive_slowed_down_with_one_notice(
    start_server: StartServer,
) -> None:
    # The default burst (20) and flood rule; a faster rate only to keep the test short.
    server = await start_server(rate=50.0)
    host, port = addr(server)
    watcher = await registered(host, port, "watcher")
    paster = await registered(host, port, "paster")
    paster.writer.write(b"".join(f"satir {i:03} of a pasted log\n".encode() for i in range(100)))
    for i in range(100):
        assert (await watcher.expect("<paster> satir")).endswith(f"satir {i:03} of a pasted log")
    await paster.expect("<paster> satir 099")
    notices = [line for line in paster.seen if "Slow down" in line]
    assert len(notices) == 1, notices
    assert not any("Goodbye" in line for line in paster.seen)
    await watcher.close()
    await paster.close()


async def test_a_paced_sender_is_delayed_not_dropped(start_server: StartServer) -> None:
    server = await start_server(rate=50.0, burst=5, flood_lines=50)
    host, port = addr(server)
    watcher = await registered(host, port, "watcher")
    sender = await registered(host, port, "sender")
    sender.writer.write(b"".join(f"line {i}\r\n".encode() for i in range(40)))
    for i in range(40):
        assert (await watcher.expect("<sender> line")).endswith(f"line {i}")
    await watcher.close()
    await sender.close()


async def test_500_clients_each_get_every_message_in_the_same_order(
    server: ChatServer,
) -> None:
    host, port = addr(server)
    # 20 connections per address is the default limit: come from 25 loopback addresses.
    clients = await asyncio.gather(
        *(
            registered(host, port, f"u{i}", source=f"127.0.{1 + i // 20}.{1 + i % 20}")
            for i in range(500)
        )
    )
    senders = clients[:10]
    for n in range(20):
        senders[n % 10].send(f"msg-{n}")

    async def collect(client: LineClient) -> list[str]:
        got = []
        while len(got) < 20:
            # (A generous wait: 500 clients first read 125,000 join lines between them.)
            line = await client.expect(" <u", timeout=60)
            got.append(line.split("> ", 1)[1])
        return got

    try:
        orders = await asyncio.gather(*(collect(c) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    assert sorted(orders[0]) == sorted(f"msg-{n}" for n in range(20))
    assert all(order == orders[0] for order in orders)


async def test_a_client_that_never_reads_is_dropped_and_nobody_waits(
    start_server: StartServer,
) -> None:
    # Rate limiting off (a configuration, as a busy room would set it), SendQ default.
    server = await start_server(rate=0)
    host, port = addr(server)
    readers = [await registered(host, port, f"r{i}") for i in range(3)]
    slow = await registered(host, port, "slow", rcvbuf=4096)
    sender = await registered(host, port, "sender")
    payload = "p" * 4000
    batches, batch = 20, 100  # 8 MB: past the kernel's ~4 MB buffers plus the 1 MiB SendQ

    async def read_batch(client: LineClient) -> None:
        for _ in range(batch):
            line = await client.expect(lambda s: "<sender> " in s)
            assert line.endswith("> " + payload), (len(line), line[:40])

    # The readers keep up with the sender batch by batch, as people reading a busy
    # room do; only the client that never reads falls behind.
    for _ in range(batches):
        for _ in range(batch):
            sender.send(payload)
        await asyncio.gather(*(read_batch(r) for r in readers))
    for r in readers:
        if not any("slow quit (SendQ exceeded)" in line for line in r.seen):
            await r.expect("slow quit (SendQ exceeded)")
    # It was cut off with a reset, not a close that would keep megabytes queued for it.
    with pytest.raises(ConnectionResetError):
        async with asyncio.timeout(10):
            while await slow.reader.read(1 << 16):
                pass
    for client in (*readers, slow, sender):
        await client.close()


async def test_per_address_limit_gets_a_polite_line(start_server: StartServer) -> None:
    server = await start_server(max_per_address=3)
    host, port = addr(server)
    held = [await LineClient.connect(host, port, source="127.0.9.9") for _ in range(3)]
    for client in held:
        await client.expect("Choose a nickname")
    extra = await LineClient.connect(host, port, source="127.0.9.9")
    assert await extra.closed() == [
        "!! Too many connections from your address (3); try again later."
    ]
    other = await LineClient.connect(host, port, source="127.0.9.10")
    await other.expect("Choose a nickname")
    for client in (*held, extra, other):
        await client.close()


async def test_server_full_and_registration_timeout(start_server: StartServer) -> None:
    server = await start_server(max_clients=1, nick_timeout=0.3)
    host, port = addr(server)
    first = await LineClient.connect(host, port)
    await first.expect("Choose a nickname")
    second = await LineClient.connect(host, port)
    assert "Server full (1 clients)" in (await second.closed())[0]
    assert "Goodbye (Registration timeout)" in "\n".join(await first.closed())
    await first.close()
    await second.close()
