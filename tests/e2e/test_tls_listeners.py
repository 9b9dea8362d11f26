"""TLS on the server's own listeners: the lines door and IRC, beside their plaintext
ports, in the same rooms; handshakes counted against the limits and cut when they
stall; plaintext spoken to a TLS port; client certificates; a new certificate read
while clients stay connected; `openssl s_client` as a client."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from soketler.core import texts
from soketler.core.config import Limits, Listener, ServerConfig
from soketler.security.tls import certificate_fingerprint
from soketler.transport.server import ChatServer
from tests.e2e.ircclient import IrcTestClient, command
from tests.e2e.lineclient import TIMEOUT, LineClient, registered
from tests.helpers import require_program
from tests.security.certs import Certs, make_certs

HOST = "127.0.0.1"
LOCAL = (HOST,)
Start = Callable[..., Any]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
async def start(certs: Certs) -> AsyncIterator[Start]:
    """`await start(**settings)`: plaintext and TLS listeners of the lines and IRC doors
    on free ports of 127.0.0.1 (settings: ServerConfig or Limits fields)."""
    servers: list[ChatServer] = []

    async def make(**settings: Any) -> ChatServer:
        limit_names = set(Limits.__dataclass_fields__)
        limits = Limits(**{k: v for k, v in settings.items() if k in limit_names})
        fields = {k: v for k, v in settings.items() if k not in limit_names}
        fields.setdefault("tls_cert", certs.good.cert)
        fields.setdefault("tls_key", certs.good.key)
        config = ServerConfig(hosts=LOCAL, port=0, limits=limits, **fields)
        listeners = (
            Listener("lines", LOCAL, 0),
            Listener("lines", LOCAL, 0, tls=True),
            Listener("irc", LOCAL, 0),
            Listener("irc", LOCAL, 0, tls=True),
        )
        server = ChatServer(config, listeners=listeners)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        with contextlib.suppress(Exception):
            await server.shutdown(grace=1.0)


def trusting(certs: Certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs.ca)


def lines_tls(server: ChatServer) -> int:
    return server.tls_addresses_of("lines")[0][1]


def irc_tls(server: ChatServer) -> int:
    return server.tls_addresses_of("irc")[0][1]


async def read_until_closed(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """What a raw socket reads until the server closes it (or resets it)."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    got = b""
    async with asyncio.timeout(timeout):
        while True:
            try:
                data = await loop.sock_recv(sock, 4096)
            except ConnectionResetError:
                return got
            if not data:
                return got
            got += data


async def test_lines_and_irc_over_tls_share_a_room_with_plaintext_users(
    start: Start, certs: Certs
) -> None:
    server = await start()
    telnet = await registered(HOST, server.tcp_addresses[0][1], "telnet")
    secure = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    await secure.register("gizli")
    irc = await IrcTestClient.connect(HOST, irc_tls(server), trusting(certs))
    await irc.register("ircci")
    irc.send("JOIN #lobby")
    await irc.expect(command("366"))

    secure.send("over TLS")
    await telnet.expect("<gizli> over TLS")
    heard = await irc.expect(command("PRIVMSG"))
    assert heard.params == ("#lobby", "over TLS")
    irc.send("PRIVMSG #lobby :from IRC over TLS")
    await secure.expect("<ircci> from IRC over TLS")
    await telnet.expect("<ircci> from IRC over TLS")

    # WHOIS tells who is on a secure connection (671), and who is not.
    irc.send("WHOIS gizli", "WHOIS telnet")
    replies = await irc.until(lambda m: m.command == "318" and m.params[1] == "telnet")
    secure_nicks = {m.params[1] for m in replies if m.command == "671"}
    assert secure_nicks == {"gizli"}
    for client in (telnet, secure, irc):
        await client.close()


async def test_plaintext_to_a_tls_port_is_told_and_closed_at_once(
    start: Start, certs: Certs
) -> None:
    server = await start()
    secure = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    await secure.register("gizli")
    watcher = await registered(HOST, server.tcp_addresses[0][1], "watcher")

    for port, speech, answer in (
        (lines_tls(server), b"ayse\r\n", b"!! " + texts.TLS_ONLY.encode()),
        (irc_tls(server), b"NICK x\r\nUSER x 0 * :x\r\n", b"ERROR :" + texts.TLS_ONLY.encode()),
    ):
        with socket.create_connection((HOST, port), timeout=TIMEOUT) as plain:
            plain.sendall(speech)
            got = await read_until_closed(plain)
        assert got.startswith(answer), got
        assert b"Welcome" not in got

    # Nobody else noticed anything.
    secure.send("still here")
    await watcher.expect("<gizli> still here")
    assert len(server.connections) == 2
    await secure.close()
    await watcher.close()


async def test_half_open_handshakes_count_against_the_limits_and_are_cut(
    start: Start, certs: Certs
) -> None:
    server = await start(max_per_address=2, tls_handshake_timeout=0.5)
    # Two connections that never start their handshake hold both places of 127.0.0.7.
    port = lines_tls(server)
    silent = [socket.create_connection((HOST, port), source_address=("127.0.0.7", 0)) for _ in "ab"]
    loop = asyncio.get_running_loop()
    # A third, accepted after them from the same listening socket, is refused at once:
    # closed before its handshake, since nothing can be said in TLS yet.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await LineClient.connect(HOST, port, source="127.0.0.7", tls=trusting(certs))
    plain = await LineClient.connect(HOST, server.tcp_addresses[0][1], source="127.0.0.7")
    assert "Too many connections from your address" in await plain.line()
    await plain.close()
    # The timeout cuts them (without a word: there is no TLS to say it in)...
    began = loop.time()
    for sock in silent:
        assert await read_until_closed(sock) == b""
        sock.close()
    assert loop.time() - began < TIMEOUT
    # ...and the places are free again.
    again = await LineClient.connect(
        HOST, lines_tls(server), source="127.0.0.7", tls=trusting(certs)
    )
    await again.register("sonunda")
    await again.close()


async def test_client_certificates_are_required_when_a_client_ca_is_given(
    start: Start, certs: Certs
) -> None:
    server = await start(tls_client_ca=certs.ca)
    anonymous = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    # TLS 1.3: the client's handshake is over before the server has judged it; the
    # server's alert ends the connection at the first read, before any greeting.
    with pytest.raises((EOFError, ssl.SSLError, ConnectionError)):
        await anonymous.expect("Choose a nickname")
    await anonymous.close()

    with_cert = trusting(certs)
    with_cert.load_cert_chain(certs.client.cert, certs.client.key)
    known = await LineClient.connect(HOST, lines_tls(server), tls=with_cert)
    await known.register("sertifikali")
    await known.close()


async def test_a_new_certificate_is_read_while_clients_stay_connected(
    start: Start, certs: Certs, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(certs.good.cert, cert)
    shutil.copy(certs.good.key, key)
    server = await start(tls_cert=str(cert), tls_key=str(key))
    before = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    await before.register("eski")

    renewed = certs.authority.issue_cert("localhost", "127.0.0.1")
    cert.write_bytes(b"".join(blob.bytes() for blob in renewed.cert_chain_pems))
    renewed.private_key_pem.write_to_path(str(key))
    done = await server.reload(server.config)
    assert any("TLS certificate SHA256" in line for line in done)

    after = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    presented = after.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    assert presented is not None
    assert certificate_fingerprint(str(cert)) != certificate_fingerprint(certs.good.cert)
    import hashlib

    assert hashlib.sha256(presented).digest() == certificate_fingerprint(str(cert))
    await after.register("yeni")
    # The one connected before still chats, under its old certificate.
    before.send("still here")
    await after.expect("<eski> still here")

    # A broken file changes nothing: the certificate in use stays.
    cert.write_text("not a certificate")
    done = await server.reload(server.config)
    assert any("the certificate in use stays" in line for line in done)
    third = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    await third.register("ucuncu")
    for client in (before, after, third):
        await client.close()


async def test_openssl_s_client_chats(start: Start, certs: Certs) -> None:
    openssl = require_program("openssl")
    server = await start()
    watcher = await registered(HOST, server.tcp_addresses[0][1], "watcher")
    proc = await asyncio.create_subprocess_exec(
        openssl, "s_client", "-connect", f"{HOST}:{lines_tls(server)}",
        "-CAfile", certs.ca, "-verify_return_error", "-quiet",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        async with asyncio.timeout(TIMEOUT):
            assert b"Choose a nickname" in await proc.stdout.readuntil(b"Choose a nickname:\r\n")
            proc.stdin.write(b"openssl\n")
            await proc.stdout.readuntil(b"You are in #lobby")
            proc.stdin.write(b"merhaba from s_client\n")
            await watcher.expect("<openssl> merhaba from s_client")
            watcher.send("and back")
            await proc.stdout.readuntil(b"<watcher> and back")
    finally:
        proc.kill()
        await proc.wait()
    await watcher.close()


async def test_shutdown_does_not_wait_for_handshakes_under_way(start: Start, certs: Certs) -> None:
    server = await start(tls_handshake_timeout=60.0)
    silent = socket.create_connection((HOST, lines_tls(server)))
    # Greeted after it from the same listening socket: by then it has been accepted.
    greeted = await LineClient.connect(HOST, lines_tls(server), tls=trusting(certs))
    await greeted.expect("Choose a nickname")
    # Goodbyes would be waited for up to the grace; a half-open handshake has none to
    # wait for, and is cut at once.
    async with asyncio.timeout(TIMEOUT):
        await server.shutdown(grace=TIMEOUT * 2)
    assert await read_until_closed(silent) == b""
    silent.close()
    assert "Server shutting down" in "\n".join(await greeted.closed())
    await greeted.close()
