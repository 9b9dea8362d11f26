"""The chat client over TLS, against the server's own TLS listener (beside its
plaintext one: the same rooms)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.cli import build_parser
from soketler.client import ChatClient, ChatMessage, Disconnected
from soketler.client.app import ChatOptions
from soketler.client.errors import TlsFailed
from soketler.core.config import Limits, Listener, ServerConfig
from soketler.security import tls
from soketler.security.fingerprints import format_fingerprint
from soketler.security.selfsigned import ensure_self_signed
from soketler.transport.server import ChatServer
from tests.client.conftest import FAST_BACKOFF, next_matching
from tests.client.test_cli_pipe import run_chat
from tests.security.certs import CertFiles, Certs, make_certs

LOCAL = ("127.0.0.1",)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@contextlib.asynccontextmanager
async def tls_server(
    cert: str, key: str | None = None
) -> AsyncIterator[tuple[ChatServer, int, int]]:
    """A chat server with a plaintext and a TLS port: (server, plaintext, TLS)."""
    config = ServerConfig(
        hosts=LOCAL, port=0, tls_cert=cert, tls_key=key or "", limits=Limits(rate=0)
    )
    listeners = (Listener("lines", LOCAL, 0), Listener("lines", LOCAL, 0, tls=True))
    server = ChatServer(config, listeners=listeners)
    await server.start()
    try:
        yield server, server.tcp_addresses[0][1], server.tls_addresses_of("lines")[0][1]
    finally:
        await server.shutdown(grace=1.0)


async def connected(port: int, nick: str, **options: object) -> ChatClient:
    client = ChatClient("127.0.0.1", port, nick=nick, rate=0, connect_timeout=5.0, **options)  # type: ignore[arg-type]
    await client.connect()
    return client


async def test_a_tls_client_chats_with_a_plaintext_one(certs: Certs) -> None:
    async with tls_server(certs.good.cert, certs.good.key) as (_, plain, tls_port):
        bob = await connected(plain, "bob")
        alice = await connected(
            tls_port, "alice", tls=tls.client_tls(ca_file=certs.ca), rooms=["#lobby"]
        )
        await alice.send("#lobby", "merhaba over TLS")
        heard = await next_matching(bob, lambda e: isinstance(e, ChatMessage))
        assert isinstance(heard, ChatMessage) and heard.text == "merhaba over TLS"
        await bob.send("#lobby", "and back")
        back = await next_matching(
            alice, lambda e: isinstance(e, ChatMessage) and e.sender == "bob"
        )
        assert isinstance(back, ChatMessage) and back.text == "and back"
        await alice.close()
        await bob.close()


@pytest.mark.parametrize(
    ("which", "sentence"),
    [
        ("expired", "has expired"),
        ("untrusted", "is not signed by an authority this machine trusts"),
        ("wrong_name", "is not valid for the name 127.0.0.1"),
    ],
)
async def test_a_refused_certificate_fails_the_connect(
    certs: Certs, which: str, sentence: str
) -> None:
    files: CertFiles = getattr(certs, which)
    async with tls_server(files.cert, files.key) as (_, _plain, tls_port):
        client = ChatClient(
            "127.0.0.1", tls_port, nick="x", tls=tls.client_tls(ca_file=certs.ca), reconnect=True
        )
        with pytest.raises(TlsFailed) as refused:
            await client.connect()
    assert str(refused.value).startswith(f"TLS: the certificate of 127.0.0.1 port {tls_port} ")
    assert sentence in str(refused.value)
    assert refused.value.exit_code == exitcodes.TLS


async def test_soketler_chat_pins_a_self_signed_server(tmp_path: Path) -> None:
    made = ensure_self_signed(str(tmp_path))
    async with tls_server(made.path) as (_, plain, tls_port):
        bob = await connected(plain, "bob")
        code, _, err = await run_chat(
            "127.0.0.1", str(tls_port), "--nick", "cron", "--tls-fingerprint",
            made.fingerprint_text, "--send", "pinned and sent",
        )  # fmt: skip
        assert (code, err) == (0, "")
        heard = await next_matching(bob, lambda e: isinstance(e, ChatMessage))
        assert isinstance(heard, ChatMessage) and heard.text == "pinned and sent"

        wrong = "00" * 32
        code, out, err = await run_chat(
            "127.0.0.1", str(tls_port), "--nick", "cron", "--tls-fingerprint", wrong,
            "--send", "never sent",
        )  # fmt: skip
        await bob.close()
    assert code == exitcodes.TLS
    assert err == (
        f"soketler chat: TLS: the certificate of 127.0.0.1 port {tls_port} does not match "
        f"--tls-fingerprint; it has SHA256 {made.fingerprint_text}\n"
    )
    assert out == ""


async def test_tls_spoken_to_the_plaintext_port_is_recognised(port: int) -> None:
    code, _, err = await run_chat(
        "127.0.0.1", str(port), "--tls", "--insecure", "--nick", "x", "--send", "hi"
    )
    assert code == exitcodes.TLS
    assert err == (
        f"soketler chat: TLS: 127.0.0.1 port {port} did not answer in TLS "
        "(is it a plaintext port?)\n"
    )


async def test_a_certificate_that_changes_is_not_reconnected_to(
    certs: Certs, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(certs.good.cert, cert)
    shutil.copy(certs.good.key, key)
    pinned = tls.certificate_fingerprint(certs.good.cert)
    async with tls_server(str(cert), str(key)) as (server, _, tls_port):
        client = ChatClient(
            "127.0.0.1",
            tls_port,
            nick="careful",
            tls=tls.client_tls(pinned=pinned),
            reconnect=True,
            backoff=FAST_BACKOFF,
            connect_timeout=5.0,
        )
        await client.connect()
        # The same port, another certificate (read again, as on SIGHUP): what an
        # impostor would present. The open connection keeps its certificate; once it
        # is cut, the client will not reconnect to the new one.
        other = make_certs(tmp_path / "other").good
        shutil.copy(other.cert, cert)
        shutil.copy(other.key, key)
        await server.reload(server.config)
        for connection in list(server.connections):
            connection.end("cut for the test")
        lost = await next_matching(client, lambda e: isinstance(e, Disconnected))
        assert isinstance(lost, Disconnected) and lost.reconnecting
        gave_up = await next_matching(
            client, lambda e: isinstance(e, Disconnected) and not e.reconnecting, within=10
        )
    assert isinstance(gave_up, Disconnected)
    actual = format_fingerprint(tls.certificate_fingerprint(other.cert))
    assert gave_up.reason == (
        f"gave up reconnecting: TLS: the certificate of 127.0.0.1 port {tls_port} does not "
        f"match --tls-fingerprint; it has SHA256 {actual}"
    )
    assert await client.next_event() is None  # the stream has ended
    await client.close()


@pytest.mark.parametrize(
    ("args", "port", "tls_on"),
    [
        ([], 61000, False),
        (["--tls"], 61001, True),
        (["--insecure"], 61001, True),
        (["--tls", "chat.example.org", "7000"], 7000, True),
    ],
)
def test_tls_options_and_the_default_port(args: list[str], port: int, tls_on: bool) -> None:
    options = ChatOptions.from_args(build_parser().parse_args(["chat", *args]))
    assert options.port == port
    assert (options.tls is not None) == tls_on


async def test_bad_tls_options_are_usage_errors() -> None:
    code, _, err = await run_chat("--tls-fingerprint", "AB:CD", "--send", "x")
    assert code == exitcodes.USAGE
    assert err.startswith("soketler chat: a SHA-256 fingerprint is 32 bytes")
    code, _, err = await run_chat("--tls-ca", "/nonexistent/ca.pem", "--send", "x")
    assert code == exitcodes.TLS
    assert err == (
        "soketler chat: TLS: cannot load the authorities /nonexistent/ca.pem: no such file\n"
    )
