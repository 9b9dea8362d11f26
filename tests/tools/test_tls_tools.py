"""`soketler connect --tls` and `soketler listen --tls`: round trips, refusals, reloads."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.security import tls
from soketler.security.fingerprints import format_fingerprint, sha256_fingerprint
from tests.helpers import require_program
from tests.security.certs import CertFiles, Certs, make_certs, threaded_tls_echo
from tests.tools.support import (
    STEP_TIMEOUT,
    LineReader,
    Tool,
    free_port,
    recv_all,
    run_tool,
    running,
)

FINGERPRINT = r"TLS certificate SHA256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a process whose self-signed certificate goes in a temporary folder."""
    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}


def tls_listener(files: CertFiles, *extra: str) -> contextlib.AbstractContextManager[Tool]:
    args = ["listen", "-s", "127.0.0.1", "-p", "0", "-v", "--tls", *extra]
    return running([*args, "--tls-cert", files.cert, "--tls-key", files.key])


def fingerprint_of(files: CertFiles) -> str:
    return format_fingerprint(tls.certificate_fingerprint(files.cert))


# --- round trips -------------------------------------------------------------------


def test_round_trip_with_a_certificate_from_a_trusted_authority(certs: Certs) -> None:
    with tls_listener(certs.good) as server:
        assert server.stderr.wait_for(FINGERPRINT).group(1) == fingerprint_of(certs.good)
        port = server.listening_port()
        assert server.proc.stdin is not None
        server.proc.stdin.write(b"from the listener\n")
        server.proc.stdin.close()
        client = run_tool(
            ["connect", "--tls-ca", certs.ca, "127.0.0.1", str(port), "-v"],
            input=b"from the client\n",
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"from the listener\n"
        assert f"certificate SHA256 {fingerprint_of(certs.good)}".encode() in client.stderr
        code, out = server.finish()
        assert (code, out) == (0, b"from the client\n")


def test_round_trip_with_the_self_signed_certificate_pinned(data_env: dict[str, str]) -> None:
    with running(
        ["listen", "--tls", "-s", "127.0.0.1", "-p", "0", "-v"],
        stdin=subprocess.DEVNULL,
        env=data_env,
    ) as server:
        line = server.stderr.wait_for(FINGERPRINT + r" \(self-signed, made now; .*: (.*)\)")
        fingerprint, cert_path = line.group(1), line.group(2)
        assert cert_path == os.path.join(
            data_env["XDG_DATA_HOME"], "soketler", "tls", "selfsigned.crt"
        )
        assert fingerprint == format_fingerprint(tls.certificate_fingerprint(cert_path))
        port = server.listening_port()
        client = run_tool(
            ["connect", "--tls-fingerprint", fingerprint, "127.0.0.1", str(port)],
            input=b"pinned\n",
        )
        assert client.returncode == 0, client.stderr
        assert server.finish() == (0, b"pinned\n")
    # The next start uses the same certificate, so the pin still holds.
    with running(["listen", "--tls", "-p", "0"], stdin=subprocess.DEVNULL, env=data_env) as again:
        assert (
            again.stderr.wait_for(FINGERPRINT + r" \(self-signed, made earlier").group(1)
            == fingerprint
        )


def test_input_end_is_a_half_close_over_tls(certs: Certs) -> None:
    """The end of stdin sends close_notify and the answer still comes back."""
    with tls_listener(certs.good, "-k", "--echo") as server:
        port = server.listening_port()
        client = run_tool(
            ["connect", "--tls-ca", certs.ca, "127.0.0.1", str(port)], input=b"echo me\n" * 1000
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"echo me\n" * 1000


def test_sni_and_the_verified_name_come_from_tls_servername(certs: Certs) -> None:
    seen: list[str | None] = []
    server = tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    server.sni_callback = lambda conn, name, ctx: seen.append(name)  # type: ignore[assignment, func-returns-value]
    with threaded_tls_echo(server) as port:
        client = run_tool(
            [
                "connect",
                "--tls-ca",
                certs.ca,
                "--tls-servername",
                "localhost",
                "127.0.0.1",
                str(port),
            ],
            input=b"named\n",
        )
    assert client.returncode == 0, client.stderr
    assert client.stdout == b"named\n"
    assert seen == ["localhost"]


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "sentence"),
    [
        ("expired", "the certificate of 127.0.0.1 port {port} has expired"),
        ("untrusted", "the certificate of 127.0.0.1 port {port} is not signed by an authority"),
        (
            "wrong_name",
            "the certificate of 127.0.0.1 port {port} is not valid for the name 127.0.0.1",
        ),
    ],
)
def test_a_refused_certificate_exits_12_with_one_line(
    certs: Certs, which: str, sentence: str
) -> None:
    files: CertFiles = getattr(certs, which)
    with threaded_tls_echo(tls.server_context(tls.ServerFiles(files.cert, files.key))) as port:
        client = run_tool(["connect", "--tls-ca", certs.ca, "127.0.0.1", str(port)], input=b"x\n")
    assert client.returncode == exitcodes.TLS
    lines = client.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("soketler connect: TLS: " + sentence.format(port=port))
    assert client.stdout == b""


def test_a_wrong_pin_exits_12_and_names_the_real_fingerprint(certs: Certs) -> None:
    with threaded_tls_echo(
        tls.server_context(tls.ServerFiles(certs.good.cert, certs.good.key))
    ) as port:
        client = run_tool(
            ["connect", "--tls-fingerprint", "00" * 32, "127.0.0.1", str(port)], input=b"x\n"
        )
    assert client.returncode == exitcodes.TLS
    assert client.stderr.decode() == (
        f"soketler connect: TLS: the certificate of 127.0.0.1 port {port} does not match "
        f"--tls-fingerprint; it has SHA256 {fingerprint_of(certs.good)}\n"
    )


def test_tls_to_a_plaintext_port_says_so() -> None:
    with running(["listen", "-s", "127.0.0.1", "-p", "0", "-v", "--greet", "hello"]) as server:
        port = server.listening_port()
        client = run_tool(["connect", "--insecure", "127.0.0.1", str(port)], input=b"x\n")
    assert client.returncode == exitcodes.TLS
    assert client.stderr.decode() == (
        f"soketler connect: TLS: 127.0.0.1 port {port} did not answer in TLS "
        "(is it a plaintext port?)\n"
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--tls-fingerprint", "AB:CD"], "a SHA-256 fingerprint is 32 bytes"),
        (["--tls", "-u"], "--tls works over TCP and Unix stream sockets, not with -u"),
        (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
        (
            ["--tls-ca", "/nonexistent/ca.pem"],
            "TLS: cannot load the authorities /nonexistent/ca.pem",
        ),
    ],
)
def test_bad_tls_options_fail_before_connecting(args: list[str], complaint: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        client = run_tool(["connect", *args, "127.0.0.1", str(port)])
        listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came
    assert complaint in client.stderr.decode()
    expected = exitcodes.TLS if complaint.startswith("TLS:") else exitcodes.USAGE
    assert client.returncode == expected


@pytest.mark.parametrize("mode", [[], ["-k"]], ids=["one client", "keep open"])
def test_client_certificates(certs: Certs, mode: list[str]) -> None:
    with tls_listener(certs.good, "--tls-client-ca", certs.ca, *mode) as server:
        port = server.listening_port()
        without = run_tool(["connect", "--tls-ca", certs.ca, "127.0.0.1", str(port)], input=b"x\n")
        assert without.returncode == exitcodes.TLS
        assert without.stderr.decode() == (
            f"soketler connect: TLS: 127.0.0.1 port {port} wants a client certificate "
            "(--tls-cert and --tls-key)\n"
        )
        server.stderr.wait_for(r"TLS: .* sent no client certificate")
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        with_cert = run_tool(
            [
                "connect",
                "--tls-ca",
                certs.ca,
                "--tls-cert",
                certs.client.cert,
                "--tls-key",
                certs.client.key,
                "127.0.0.1",
                str(port),
            ],
            input=b"certified\n",
        )
        assert with_cert.returncode == 0, with_cert.stderr
        if mode:
            assert server.stdout_line() == b"certified\n"
        else:
            assert server.finish() == (0, b"certified\n")


# --- what the listener does with strangers ---------------------------------------


def _tls_client(certs: Certs, port: int) -> ssl.SSLSocket:
    context = tls.client_tls(ca_file=certs.ca).context
    raw = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _closed_promptly(sock: socket.socket) -> bool:
    """True when the peer closes (or resets) within a few seconds: well before the
    handshake timeout, so it was the plaintext, not the clock, that ended it."""
    sock.settimeout(tls.HANDSHAKE_TIMEOUT / 2)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_plaintext_to_the_one_client_listener_is_closed_and_the_next_client_served(
    certs: Certs,
) -> None:
    with tls_listener(certs.good) as server:
        port = server.listening_port()
        with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT) as plain:
            plain.sendall(b"NICK plaintext\r\nUSER x 0 * :x\r\n")
            assert _closed_promptly(plain)
        server.stderr.wait_for(r"TLS: 127\.0\.0\.1 port \d+ did not answer in TLS")
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        with _tls_client(certs, port) as client:
            client.sendall(b"the real client\n")
            client.shutdown(socket.SHUT_WR)
            recv_all(client)
        assert server.finish() == (0, b"the real client\n")


def test_plaintext_to_a_keep_open_listener_does_not_hurt_its_clients(certs: Certs) -> None:
    with tls_listener(certs.good, "-k") as server:
        port = server.listening_port()
        with _tls_client(certs, port) as client:
            client.sendall(b"before\n")
            assert server.stdout_line() == b"before\n"
            with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT) as plain:
                plain.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert _closed_promptly(plain)
            client.sendall(b"after\n")
            assert server.stdout_line() == b"after\n"


def test_a_client_that_never_starts_its_handshake_does_not_block_another(certs: Certs) -> None:
    with tls_listener(certs.good) as server:
        port = server.listening_port()
        with socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT):
            assert server.proc.stdin is not None
            server.proc.stdin.close()
            with _tls_client(certs, port) as client:
                client.sendall(b"not kept waiting\n")
                client.shutdown(socket.SHUT_WR)
                recv_all(client)
            assert server.finish() == (0, b"not kept waiting\n")


# --- other programs -----------------------------------------------------------------


def test_openssl_s_client_talks_to_listen_tls(data_env: dict[str, str], tmp_path: Path) -> None:
    openssl = require_program("openssl")
    with running(["listen", "--tls", "-s", "127.0.0.1", "-p", "0", "-v"], env=data_env) as server:
        fingerprint = server.stderr.wait_for(FINGERPRINT).group(1)
        port = server.listening_port()
        assert server.proc.stdin is not None
        with subprocess.Popen(
            [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-showcerts"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as s_client:
            assert s_client.stdin is not None and s_client.stdout is not None
            server.stderr.wait_for(r"TLS with 127\.0\.0\.1 port \d+: TLSv1\.3")
            s_client.stdin.write(b"hello from openssl\n")
            s_client.stdin.flush()
            assert server.stdout_line() == b"hello from openssl\n"
            server.proc.stdin.write(b"hello from soketler\n")
            server.proc.stdin.close()  # close_notify: s_client prints what came, then ends
            transcript = s_client.stdout.read().decode()
            s_client.wait(STEP_TIMEOUT)
    assert "hello from soketler" in transcript
    shown = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", transcript, re.S)
    assert shown is not None
    der = ssl.PEM_cert_to_DER_cert(shown.group(0))
    assert format_fingerprint(sha256_fingerprint(der)) == fingerprint


# --- reloading ----------------------------------------------------------------------


def test_sighup_reloads_the_certificate_for_new_clients_only(tmp_path: Path) -> None:
    first, second = make_certs(tmp_path / "first"), make_certs(tmp_path / "second")
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"

    def install(files: CertFiles) -> None:
        cert.write_bytes(Path(files.cert).read_bytes())
        key.write_bytes(Path(files.key).read_bytes())

    install(first.good)
    args = ["-k", "--tls-cert", str(cert), "--tls-key", str(key)]
    with running(["listen", "-s", "127.0.0.1", "-p", "0", "-v", *args]) as server:
        assert server.stderr.wait_for(FINGERPRINT).group(1) == fingerprint_of(first.good)
        port = server.listening_port()
        with _tls_client(first, port) as old:
            old.sendall(b"old 1\n")
            assert server.stdout_line() == b"old 1\n"

            install(second.good)
            server.proc.send_signal(signal.SIGHUP)
            reloaded = server.stderr.wait_for(r"TLS certificate reloaded: SHA256 (\S+)")
            assert reloaded.group(1) == fingerprint_of(second.good)
            with _tls_client(second, port) as new:
                new.sendall(b"new 1\n")
                assert server.stdout_line() == b"new 1\n"
                old.sendall(b"old 2\n")
                assert server.stdout_line() == b"old 2\n"

                # A broken file is refused; the last good certificate stays in service.
                cert.write_text("not yet copied")
                server.proc.send_signal(signal.SIGHUP)
                server.stderr.wait_for(r"still serving the previous certificate")
                with _tls_client(second, port) as third:
                    third.sendall(b"third\n")
                    assert server.stdout_line() == b"third\n"


# --- ncat, which ends its input with a bare TCP half-close -----------------------

PAYLOAD = os.urandom(256 << 10)


def test_ncat_ssl_client_to_listen_tls(data_env: dict[str, str]) -> None:
    ncat = require_program("ncat")
    with running(["listen", "--tls", "-s", "127.0.0.1", "-p", "0", "-v"], env=data_env) as server:
        port = server.listening_port()
        assert server.proc.stdin is not None
        server.proc.stdin.write(b"reply\n")
        server.proc.stdin.close()
        client = subprocess.run(
            [ncat, "--ssl", "127.0.0.1", str(port)],
            input=PAYLOAD,
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"reply\n"
        code, out = server.finish()
    assert (code, out) == (0, PAYLOAD)


def test_connect_tls_to_ncat_ssl_listen(certs: Certs, tmp_path: Path) -> None:
    ncat = require_program("ncat")
    port = free_port()
    received = tmp_path / "received"
    listen = [ncat, "--ssl", "--ssl-cert", certs.good.cert, "--ssl-key", certs.good.key]
    with (
        received.open("wb") as sink,
        subprocess.Popen(
            [*listen, "-l", "-v", "127.0.0.1", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.PIPE,
        ) as peer,
    ):
        assert peer.stderr is not None
        LineReader(peer.stderr).wait_for(r"Listening on")
        client = run_tool(["connect", "--tls-ca", certs.ca, "127.0.0.1", str(port)], input=PAYLOAD)
        assert client.returncode == 0, client.stderr
        assert peer.wait(STEP_TIMEOUT) == 0
    assert received.read_bytes() == PAYLOAD


def test_tls_over_a_unix_socket_verifies_the_name_localhost(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    path = str(tmp_path / "tls.sock")
    with running(["listen", "--tls", "-U", path, "-v"], env=data_env) as server:
        server.stderr.wait_for(r"listening on .*tls\.sock")
        assert server.proc.stdin is not None
        server.proc.stdin.write(b"over a Unix socket\n")
        server.proc.stdin.close()
        crt = os.path.join(data_env["XDG_DATA_HOME"], "soketler", "tls", "selfsigned.crt")
        client = run_tool(["connect", "--tls-ca", crt, "-U", path], input=b"and back\n")
        assert client.returncode == 0, client.stderr
        assert client.stdout == b"over a Unix socket\n"
        assert server.finish() == (0, b"and back\n")
