"""The chat client over TLS.

Until the server has TLS listeners of its own, a TLS front (asyncio, on 127.0.0.1)
passes each TLS connection on to the in-process chat server in plaintext; the
client's side of it, what these tests are about, is the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.cli import build_parser
from soketler.client import ChatClient, ChatMessage, Disconnected
from soketler.client.app import ChatOptions
from soketler.client.errors import TlsFailed
from soketler.security import tls
from soketler.security.fingerprints import format_fingerprint
from soketler.security.selfsigned import ensure_self_signed
from tests.client.conftest import FAST_BACKOFF, Connect, next_matching
from tests.client.test_cli_pipe import run_chat
from tests.security.certs import CertFiles, Certs, make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


@contextlib.asynccontextmanager
async def tls_front(context: ssl.SSLContext, chat_port: int, port: int = 0) -> AsyncIterator[int]:
    """A TLS listener that relays each connection to the chat server's plaintext port."""
    tasks: set[asyncio.Task[None]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", chat_port)
        writers.extend((writer, up_writer))
        both = [
            asyncio.create_task(_pump(reader, up_writer)),
            asyncio.create_task(_pump(up_reader, writer)),
        ]
        tasks.update(both)
        await asyncio.gather(*both)

    server = await asyncio.start_server(relay, "127.0.0.1", port, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def server_context(files: CertFiles) -> ssl.SSLContext:
    return tls.server_context(tls.ServerFiles(files.cert, files.key))


async def test_a_tls_client_chats_with_a_plaintext_one(
    certs: Certs, port: int, connect: Connect
) -> None:
    bob = await connect("bob")
    async with tls_front(server_context(certs.good), port) as tls_port:
        alice = await connect(
            "alice", port=tls_port, tls=tls.client_tls(ca_file=certs.ca), rooms=["#lobby"]
        )
        await alice.send("#lobby", "merhaba over TLS")
        heard = await next_matching(bob, lambda e: isinstance(e, ChatMessage))
        assert isinstance(heard, ChatMessage) and heard.text == "merhaba over TLS"
        await bob.send("#lobby", "and back")
        back = await next_matching(
            alice, lambda e: isinstance(e, ChatMessage) and e.sender == "bob"
        )
        assert isinstance(back, ChatMessage) and back.text == "and back"


@pytest.mark.parametrize(
    ("which", "sentence"),
    [
        ("expired", "has expired"),
        ("untrusted", "is not signed by an authority this machine trusts"),
        ("wrong_name", "is not valid for the name 127.0.0.1"),
    ],
)
async def test_a_refused_certificate_fails_the_connect(
    certs: Certs, port: int, which: str, sentence: str
) -> None:
    async with tls_front(server_context(getattr(certs, which)), port) as tls_port:
        client = ChatClient(
            "127.0.0.1", tls_port, nick="x", tls=tls.client_tls(ca_file=certs.ca), reconnect=True
        )
        with pytest.raises(TlsFailed) as refused:
            await client.connect()
    assert str(refused.value).startswith(f"TLS: the certificate of 127.0.0.1 port {tls_port} ")
    assert sentence in str(refused.value)
    assert refused.value.exit_code == exitcodes.TLS


async def test_soketler_chat_pins_a_self_signed_server(
    port: int, connect: Connect, tmp_path: Path
) -> None:
    made = ensure_self_signed(str(tmp_path))
    bob = await connect("bob")
    async with tls_front(tls.server_context(tls.ServerFiles(made.path)), port) as tls_port:
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
    certs: Certs, port: int, tmp_path: Path
) -> None:
    pinned = tls.certificate_fingerprint(certs.good.cert)
    client = ChatClient(
        "127.0.0.1",
        0,
        nick="careful",
        tls=tls.client_tls(pinned=pinned),
        reconnect=True,
        backoff=FAST_BACKOFF,
        connect_timeout=5.0,
    )
    async with tls_front(server_context(certs.good), port) as tls_port:
        client.port = tls_port
        await client.connect()
    # The same port, another certificate: what an impostor would present.
    other = make_certs(tmp_path / "other").good
    async with tls_front(server_context(other), port, tls_port):
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
