"""Server and client contexts over real TLS connections on loopback, and their errors."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from soketler import exitcodes, loops
from soketler.security import tls
from soketler.security.fingerprints import format_fingerprint, sha256_fingerprint
from soketler.security.selfsigned import ensure_self_signed
from soketler.security.tls import ClientTls, ReloadableServerContext, ServerFiles, TlsError
from soketler.tools.tlschannel import TlsChannel
from tests.security.certs import CertFiles, Certs, make_certs, threaded_tls_echo

STEP = 10.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def tls_echo_server(context: ssl.SSLContext, host: str = "127.0.0.1") -> AsyncIterator[int]:
    server = await asyncio.start_server(_echo, host, 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def round_trip(settings: ClientTls, port: int, host: str = "127.0.0.1") -> bytes:
    """Connects, checks the peer, echoes one line; returns the server's fingerprint."""
    peer = f"{host} port {port}"
    name = settings.name_for(host)
    try:
        async with asyncio.timeout(STEP):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=settings.context, server_hostname=name
            )
    except (OSError, TimeoutError) as exc:
        raise tls.explain_handshake_error(exc, peer, name) from None
    try:
        tls_object = writer.get_extra_info("ssl_object")
        settings.check_peer(tls_object, peer)
        writer.write(b"ping\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"ping\n"
        return sha256_fingerprint(tls_object.getpeercert(binary_form=True))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def fingerprint_of(files: CertFiles) -> bytes:
    return tls.certificate_fingerprint(files.cert)


# --- verification ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "name"), [("127.0.0.1", None), ("127.0.0.1", "localhost"), ("::1", None)]
)
async def test_a_certificate_from_a_trusted_authority_is_accepted(
    certs: Certs, host: str, name: str | None
) -> None:
    server = tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    async with tls_echo_server(server, host) as port:
        client = tls.client_tls(ca_file=certs.ca, server_name=name)
        assert await round_trip(client, port, host) == fingerprint_of(certs.good)


@pytest.mark.parametrize(
    ("which", "sentence"),
    [
        ("expired", "TLS: the certificate of 127.0.0.1 port {port} has expired"),
        (
            "untrusted",
            "TLS: the certificate of 127.0.0.1 port {port} is not signed by an authority this "
            "machine trusts; trust its authority with --tls-ca FILE, or pin it with "
            "--tls-fingerprint SHA256",
        ),
        (
            "wrong_name",
            "TLS: the certificate of 127.0.0.1 port {port} is not valid for the name 127.0.0.1",
        ),
    ],
)
async def test_a_refused_certificate_is_one_sentence(
    certs: Certs, which: str, sentence: str
) -> None:
    files: CertFiles = getattr(certs, which)
    async with tls_echo_server(tls.server_context(ServerFiles(files.cert, files.key))) as port:
        with pytest.raises(TlsError) as refused:
            await round_trip(tls.client_tls(ca_file=certs.ca), port)
    assert refused.value.message == sentence.format(port=port)
    assert refused.value.exit_code == exitcodes.TLS


async def test_a_host_name_that_the_certificate_does_not_name_is_refused(certs: Certs) -> None:
    async with tls_echo_server(
        tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    ) as port:
        with pytest.raises(TlsError, match=r"is not valid for the name chat\.example\.org$"):
            await round_trip(tls.client_tls(ca_file=certs.ca, server_name="chat.example.org"), port)


async def test_the_default_trust_is_the_systems_which_does_not_know_a_private_ca(
    certs: Certs,
) -> None:
    async with tls_echo_server(
        tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    ) as port:
        with pytest.raises(TlsError, match="not signed by an authority this machine trusts"):
            await round_trip(tls.client_tls(), port)


async def test_self_signed_is_named_as_such_and_can_be_pinned(data_home: Path) -> None:
    made = ensure_self_signed()
    async with tls_echo_server(tls.server_context(ServerFiles(made.path))) as port:
        with pytest.raises(TlsError, match=r"trusts \(it is self-signed\); trust its authority"):
            await round_trip(tls.client_tls(), port)
        assert await round_trip(tls.client_tls(pinned=made.fingerprint), port) == made.fingerprint
        # Its certificate file is what a client's --tls-ca takes.
        assert await round_trip(tls.client_tls(ca_file=made.cert_path), port) == made.fingerprint


async def test_a_pin_that_does_not_match_is_refused_and_the_real_one_shown(certs: Certs) -> None:
    async with tls_echo_server(
        tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    ) as port:
        with pytest.raises(TlsError) as refused:
            await round_trip(tls.client_tls(pinned=bytes(32)), port)
    actual = format_fingerprint(fingerprint_of(certs.good))
    assert refused.value.message == (
        f"TLS: the certificate of 127.0.0.1 port {port} does not match --tls-fingerprint; "
        f"it has SHA256 {actual}"
    )


async def test_a_pin_replaces_verification_even_for_an_expired_certificate(certs: Certs) -> None:
    files = certs.expired
    async with tls_echo_server(tls.server_context(ServerFiles(files.cert, files.key))) as port:
        pinned = fingerprint_of(files)
        assert await round_trip(tls.client_tls(pinned=pinned), port) == pinned


async def test_insecure_checks_nothing(certs: Certs) -> None:
    files = certs.untrusted
    async with tls_echo_server(tls.server_context(ServerFiles(files.cert, files.key))) as port:
        assert await round_trip(tls.client_tls(insecure=True), port) == fingerprint_of(files)


# --- what is not a TLS server -------------------------------------------------------


@contextlib.asynccontextmanager
async def plain_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object],
) -> AsyncIterator[int]:
    writers: list[asyncio.StreamWriter] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        result = handler(reader, writer)
        if asyncio.iscoroutine(result):
            await result

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def test_a_plaintext_server_is_recognised(certs: Certs) -> None:
    def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Welcome to a plaintext chat. Your nickname?\r\n")

    async with plain_server(greet) as port:
        with pytest.raises(TlsError) as refused:
            await round_trip(tls.client_tls(ca_file=certs.ca), port)
    assert (
        refused.value.message
        == f"TLS: 127.0.0.1 port {port} did not answer in TLS (is it a plaintext port?)"
    )


async def test_a_server_that_hangs_up_during_the_handshake(certs: Certs) -> None:
    def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with plain_server(hang_up) as port:
        with pytest.raises(TlsError, match="closed the connection during the handshake"):
            await round_trip(tls.client_tls(ca_file=certs.ca), port)


async def test_a_silent_server_times_out_with_the_timeout_exit_code(certs: Certs) -> None:
    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    async with plain_server(say_nothing) as port:
        settings = tls.client_tls(ca_file=certs.ca)
        peer = f"127.0.0.1 port {port}"
        with pytest.raises(TimeoutError) as waited:
            async with asyncio.timeout(0.3):
                await asyncio.open_connection(
                    "127.0.0.1", port, ssl=settings.context, server_hostname="127.0.0.1"
                )
        error = tls.explain_handshake_error(waited.value, peer)
    assert (error.message, error.exit_code) == (
        f"timed out: TLS handshake with {peer}",
        exitcodes.TIMEOUT,
    )


# --- client certificates and versions ---------------------------------------------


async def _client_cert_attempt(settings: ClientTls, port: int) -> bytes:
    """Over a TlsChannel, which (unlike asyncio's streams) reports the server's alert."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=STEP)
    with sock:
        channel = TlsChannel.client(sock, settings.context, "127.0.0.1")
        peer = f"127.0.0.1 port {port}"
        try:
            async with asyncio.timeout(STEP):
                await channel.handshake()
                await channel.send(b"ping\n")
                return await channel.receive()
        except ssl.SSLError as exc:
            raise tls.explain_connection_error(exc, peer) from None


async def test_a_server_with_client_ca_wants_a_client_certificate(certs: Certs) -> None:
    files = ServerFiles(certs.good.cert, certs.good.key, client_ca=certs.ca)
    # TLS 1.3 finishes the client's side of the handshake before the server has looked
    # at the certificate: the refusal arrives as an alert on the first read.
    with threaded_tls_echo(tls.server_context(files)) as port, pytest.raises(TlsError) as refused:
        await _client_cert_attempt(tls.client_tls(ca_file=certs.ca), port)
    assert refused.value.message == (
        f"TLS: 127.0.0.1 port {port} wants a client certificate (--tls-cert and --tls-key)"
    )
    with threaded_tls_echo(tls.server_context(files)) as port:
        with_cert = tls.client_tls(ca_file=certs.ca, cert=certs.client.cert, key=certs.client.key)
        assert await _client_cert_attempt(with_cert, port) == b"ping\n"


async def test_a_client_certificate_from_another_authority_is_refused(certs: Certs) -> None:
    files = ServerFiles(certs.good.cert, certs.good.key, client_ca=certs.ca)
    stranger = tls.client_tls(ca_file=certs.ca, cert=certs.untrusted.cert, key=certs.untrusted.key)
    with threaded_tls_echo(tls.server_context(files)) as port, pytest.raises(TlsError) as refused:
        await _client_cert_attempt(stranger, port)
    assert refused.value.message == (
        f"TLS: the connection with 127.0.0.1 port {port} failed: tlsv1 alert unknown ca"
    )


async def test_tls_1_2_is_the_oldest_version_and_still_served(certs: Certs) -> None:
    server = tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    assert server.minimum_version is ssl.TLSVersion.TLSv1_2
    client = tls.client_tls(ca_file=certs.ca)
    assert client.context.minimum_version is ssl.TLSVersion.TLSv1_2
    client.context.maximum_version = ssl.TLSVersion.TLSv1_2
    async with tls_echo_server(server) as port:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client.context, server_hostname="127.0.0.1"
        )
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.2"
        writer.close()


def test_a_client_that_only_speaks_tls_1_1_is_refused(certs: Certs) -> None:
    server = tls.server_context(ServerFiles(certs.good.cert, certs.good.key))
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # as it should be: that is the point
        # OpenSSL's own floor is 1.2 as well; offering 1.1 needs the lowest security level.
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.TLSv1_1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with threaded_tls_echo(server) as port, socket.create_connection(("127.0.0.1", port)) as raw:
        raw.settimeout(STEP)
        with pytest.raises(ssl.SSLError) as refused:
            old.wrap_socket(raw, server_hostname="127.0.0.1")
    # The server's alert, not the client's own refusal to try.
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"


# --- loading files -----------------------------------------------------------------


def test_files_that_cannot_be_loaded_are_named_with_the_reason(
    certs: Certs, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cases = [
        (
            ServerFiles(str(tmp_path / "missing.pem")),
            "the certificate",
            "missing.pem: no such file",
        ),
        (
            ServerFiles(certs.good.cert, certs.expired.key),
            "the key",
            "the key does not belong to the certificate",
        ),
        (
            ServerFiles(certs.good.cert),
            "the key",
            "no PEM private key in it; give the key file too",
        ),
        (
            ServerFiles(str(junk), certs.good.key),
            "the certificate",
            "junk.pem: no PEM certificate in it",
        ),
        (
            ServerFiles(certs.good.cert, certs.good.key, str(junk)),
            "the client authorities",
            "junk.pem",
        ),
    ]
    for files, what, reason in cases:
        with pytest.raises(TlsError) as failed:
            tls.server_context(files)
        assert failed.value.message.startswith(f"TLS: cannot load {what} ")
        assert reason in failed.value.message
        assert failed.value.exit_code == exitcodes.TLS


def test_an_encrypted_key_is_refused_rather_than_prompted_for(certs: Certs, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(Path(certs.good.key).read_bytes(), None)
    locked = tmp_path / "locked.key"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(TlsError, match="the key is encrypted; give a key without a passphrase"):
        tls.server_context(ServerFiles(certs.good.cert, str(locked)))


def test_cert_and_key_in_one_file(certs: Certs, tmp_path: Path) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(Path(certs.good.key).read_bytes() + Path(certs.good.cert).read_bytes())
    tls.server_context(ServerFiles(str(both)))
    assert tls.certificate_fingerprint(str(both)) == fingerprint_of(certs.good)


# --- reloading ---------------------------------------------------------------------


async def _reload_keeps_old_connections_and_serves_new_handshakes(folder: Path) -> None:
    first, second = make_certs(folder / "first"), None
    (folder / "live").mkdir()
    live = ServerFiles(str(folder / "live" / "cert.pem"), str(folder / "live" / "key.pem"))

    def install(files: CertFiles) -> None:
        shutil.copyfile(files.cert, live.cert)
        shutil.copyfile(files.key, live.key)  # type: ignore[arg-type]

    install(first.good)
    holder = ReloadableServerContext(live)
    assert holder.fingerprint == fingerprint_of(first.good)
    server = await asyncio.start_server(_echo, "127.0.0.1", 0, ssl=holder.context)
    port = server.sockets[0].getsockname()[1]
    try:
        trusting_first = tls.client_tls(ca_file=first.ca)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=trusting_first.context, server_hostname="127.0.0.1"
        )
        assert sha256_fingerprint(
            writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        ) == fingerprint_of(first.good)

        second = make_certs(folder / "second")
        install(second.good)
        assert holder.reload() == fingerprint_of(second.good)
        # A new handshake gets the new certificate (the client connects to an address,
        # so it sends no SNI: the callback runs all the same) ...
        trusting_second = tls.client_tls(ca_file=second.ca)
        assert await round_trip(trusting_second, port) == fingerprint_of(second.good)
        # ... and the connection made before goes on as if nothing happened.
        writer.write(b"still here\n")
        assert await asyncio.wait_for(reader.readline(), STEP) == b"still here\n"

        # Broken files are refused and the last good certificate stays in service.
        await asyncio.to_thread(Path(live.cert).write_text, "half a certificate")
        with pytest.raises(TlsError):
            holder.reload()
        assert await round_trip(trusting_second, port) == fingerprint_of(second.good)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_reload_changes_the_certificate_for_new_connections_only(loop: str, tmp_path: Path) -> None:
    loops.run(lambda: _reload_keeps_old_connections_and_serves_new_handshakes(tmp_path), loop)
