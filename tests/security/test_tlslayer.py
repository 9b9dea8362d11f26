"""TlsLayer without sockets (bytes in, bytes out), then inside a plain asyncio protocol."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import ssl
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soketler import loops
from soketler.security import tls
from soketler.security.tlslayer import TlsLayer
from tests.security.certs import Certs

STEP = 10.0


def layers(certs: Certs) -> tuple[TlsLayer, TlsLayer]:
    server = tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    client = tls.client_tls(ca_file=certs.ca).context
    return (
        TlsLayer(client, server_side=False, server_hostname="localhost"),
        TlsLayer(server, server_side=True),
    )


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def carry(src: TlsLayer, dst: TlsLayer, cuts: list[int]) -> bytes:
    """Moves what `src` has to send into `dst`, cut at arbitrary points; returns plaintext."""
    return b"".join(dst.receive(piece) for piece in _pieces(src.data_to_send(), cuts))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=5),
    st.lists(st.integers(0, 10**6), max_size=8),
)
def test_what_arrives_does_not_depend_on_how_tcp_cut_it(
    certs: Certs, messages: list[bytes], cuts: list[int]
) -> None:
    client, server = layers(certs)
    received = b""
    for _ in range(4):  # ClientHello, server flight, client Finished (+ tickets)
        received += carry(client, server, cuts)
        carry(server, client, cuts)
    assert client.handshake_done and server.handshake_done
    for message in messages:
        client.send(message)
        received += carry(client, server, cuts)
    assert received == b"".join(messages)
    server.send(b"reply")
    assert carry(server, client, cuts) == b"reply"


def test_half_close_and_the_end_of_the_stream(certs: Certs) -> None:
    client, server = layers(certs)
    for _ in range(3):
        carry(client, server, [])
        carry(server, client, [])
    client.send(b"last question")
    client.close()
    assert carry(client, server, []) == b"last question"
    assert server.peer_finished and not client.peer_finished
    server.send(b"answer after the close_notify")
    assert carry(server, client, []) == b"answer after the close_notify"
    # The server ends TCP without a close_notify: that is the peer having finished too.
    assert client.receive_eof() == b""
    assert client.peer_finished


def test_plaintext_fails_at_once(certs: Certs) -> None:
    _, server = layers(certs)
    with pytest.raises(ssl.SSLError) as failed:
        server.receive(b"NICK guest\r\nUSER guest 0 * :guest\r\n")
    assert failed.value.reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL")


def test_a_refused_client_certificate_leaves_an_alert_to_send(certs: Certs) -> None:
    files = tls.ServerFiles(certs.good.cert, certs.good.key, client_ca=certs.ca)
    server = TlsLayer(tls.server_context(files), server_side=True)
    stranger = tls.client_tls(
        ca_file=certs.ca, cert=certs.untrusted.cert, key=certs.untrusted.key
    ).context
    client = TlsLayer(stranger, server_side=False, server_hostname="localhost")
    carry(client, server, [])
    carry(server, client, [])
    with pytest.raises(ssl.SSLError):
        carry(client, server, [])
    alert = server.data_to_send()  # (encrypted in TLS 1.3) a transport sends it, then closes
    with pytest.raises(ssl.SSLError) as told:
        client.receive(alert)
    assert told.value.reason == "TLSV1_ALERT_UNKNOWN_CA"


def test_the_end_of_the_stream_during_the_handshake_is_an_error(certs: Certs) -> None:
    client, server = layers(certs)
    carry(client, server, [])
    with pytest.raises(ssl.SSLError):
        server.receive_eof()


# --- the shape a server's connection protocol can take -----------------------------


class _Echo(asyncio.Protocol):
    """Plain TCP accepted and counted at once, TLS by TlsLayer, a handshake timer of its own.

    A connection is counted from accept to close whatever its handshake does, which
    is what connection limits need; nothing depends on the event loop's TLS.
    """

    open_now: set[_Echo]
    all_closed: asyncio.Event

    def __init__(self, context: ssl.SSLContext, timeout: float) -> None:
        self.layer = TlsLayer(context, server_side=True)
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports do not derive from asyncio.Transport, hence a cast.)
        self.transport = transport = cast(asyncio.Transport, transport)
        _Echo.open_now.add(self)
        self.timer = asyncio.get_running_loop().call_later(self.timeout, transport.abort)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            plain = self.layer.receive(data)
        except ssl.SSLError:
            self.transport.write(self.layer.data_to_send())  # the alert says why
            self.transport.close()
            return
        if self.layer.handshake_done and self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if plain:
            self.layer.send(plain)
        if self.layer.peer_finished:
            # Its close_notify: answer with ours and close, or the peer waits for it.
            self.layer.close()
            self.transport.write(self.layer.data_to_send())
            self.transport.close()
            return
        self.transport.write(self.layer.data_to_send())

    def eof_received(self) -> bool:
        with contextlib.suppress(ssl.SSLError):
            self.layer.receive_eof()
        self.layer.close()
        assert self.transport is not None
        self.transport.write(self.layer.data_to_send())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        _Echo.open_now.discard(self)
        if not _Echo.open_now:
            _Echo.all_closed.set()
        if self.timer is not None:
            self.timer.cancel()


async def _serve_and_probe(certs: Certs) -> None:
    _Echo.open_now = set()
    _Echo.all_closed = asyncio.Event()
    context = tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Echo(context, timeout=0.5), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        silent = socket.create_connection(("127.0.0.1", port))
        client = tls.client_tls(ca_file=certs.ca)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client.context, server_hostname="127.0.0.1"
        )
        # The silent one is counted before any handshake: that is the point.
        assert len(_Echo.open_now) == 2
        writer.write(b"echo over TLS\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"echo over TLS\n"
        plain_reader, plain_writer = await asyncio.open_connection("127.0.0.1", port)
        plain_writer.write(b"hello in plaintext\r\n")
        assert await asyncio.wait_for(plain_reader.read(), STEP) == b""  # closed at once
        plain_writer.close()
        # The silent connection is cut by the handshake timer; the TLS client stays.
        silent.settimeout(STEP)
        assert await asyncio.to_thread(silent.recv, 100) == b""
        silent.close()
        writer.write(b"still here\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"still here\n"
        writer.close()
        async with asyncio.timeout(STEP):
            await _Echo.all_closed.wait()
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_plain_protocol_with_tls_inside_counts_handshakes(certs: Certs, loop: str) -> None:
    loops.run(lambda: _serve_and_probe(certs), loop)
