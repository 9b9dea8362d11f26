"""TlsChannel over a socket pair: half-close, a peer that ends without close_notify."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler.security import tls
from soketler.tools.tlschannel import TlsChannel
from tests.security.certs import Certs, make_certs

STEP = 10.0


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
async def pair(certs: Certs) -> AsyncIterator[tuple[TlsChannel, TlsChannel]]:
    left, right = socket.socketpair()
    server_context = tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    client = TlsChannel.client(left, tls.client_tls(ca_file=certs.ca).context, "localhost")
    server = TlsChannel.server(right, server_context)
    async with asyncio.timeout(STEP):
        await asyncio.gather(client.handshake(), server.handshake())
    yield client, server
    left.close()
    right.close()


async def receive_all(channel: TlsChannel) -> bytes:
    data = b""
    async with asyncio.timeout(STEP):
        while chunk := await channel.receive():
            data += chunk
    return data


async def test_a_half_closed_side_still_receives(pair: tuple[TlsChannel, TlsChannel]) -> None:
    client, server = pair
    await client.send(b"question")
    await client.close_sending()
    assert await receive_all(server) == b"question"  # then the close_notify: b""
    await server.send(b"answer after your close_notify")
    await server.close_sending()
    assert await receive_all(client) == b"answer after your close_notify"


async def test_a_peer_that_ends_tcp_without_close_notify_is_still_answered(
    pair: tuple[TlsChannel, TlsChannel],
) -> None:
    client, server = pair
    await server.send(b"question")
    server.sock.shutdown(socket.SHUT_WR)  # as `ncat --ssl` does at the end of its input
    assert await receive_all(client) == b"question"
    # The peer still reads: the answer goes out as on any half-closed connection.
    await client.send(b"answer")
    await client.close_sending()
    assert await receive_all(server) == b"answer"


async def test_big_transfers_both_ways_at_once(pair: tuple[TlsChannel, TlsChannel]) -> None:
    client, server = pair
    payload = bytes(range(256)) * 4096  # 1 MiB: many records, more than the socket buffers

    async def send_then_close(channel: TlsChannel) -> None:
        for start in range(0, len(payload), 65536):
            await channel.send(payload[start : start + 65536])
        await channel.close_sending()

    results = await asyncio.gather(
        send_then_close(client), send_then_close(server), receive_all(server), receive_all(client)
    )
    assert results[2] == payload and results[3] == payload


async def test_a_plaintext_peer_fails_the_handshake(certs: Certs) -> None:
    left, right = socket.socketpair()
    with left, right:
        client = TlsChannel.client(left, tls.client_tls(ca_file=certs.ca).context, "localhost")
        right.sendall(b"220 plaintext service ready\r\n")
        with pytest.raises(ssl.SSLError) as failed:
            async with asyncio.timeout(STEP):
                await client.handshake()
    assert failed.value.reason == "WRONG_VERSION_NUMBER"


def test_certs_folder_is_made(tmp_path: Path) -> None:
    assert Path(make_certs(tmp_path / "deep" / "er").ca).exists()


async def test_keep_open_listener_cuts_a_handshake_that_never_comes(certs: Certs) -> None:
    from soketler.tools import hub

    said: list[str] = []
    context = tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    clients = hub.Hub(
        greeting=None,
        echo=True,
        hex_dump=False,
        keep_open=True,
        log=said.append,
        tls=context,
        tls_handshake_timeout=0.3,
    )
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    stop = asyncio.Event()
    serving = asyncio.create_task(
        hub.serve(listening, clients, stdin=None, stdout=1, crlf=False, stop=stop)
    )
    try:
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)
        settings = tls.client_tls(ca_file=certs.ca)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=settings.context, server_hostname="127.0.0.1"
        )
        writer.write(b"echo\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"echo\n"
        # The silent one is cut by its handshake timer; it never counted as a client.
        assert await asyncio.wait_for(silent_reader.read(), STEP) == b""
        assert any(line.startswith("timed out: TLS handshake with 127.0.0.1") for line in said)
        assert len(clients.clients) == 1
        writer.write(b"still served\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"still served\n"
        writer.close()
        silent_writer.close()
    finally:
        stop.set()
        await asyncio.wait_for(serving, STEP)
