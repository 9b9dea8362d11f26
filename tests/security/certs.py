"""Certificates for TLS tests, made with trustme: a good one, and each kind of bad one."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

STEP = 10.0
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class CertFiles:
    cert: str  # PEM chain, leaf first
    key: str


@dataclass(frozen=True)
class Certs:
    """Files in one folder. `ca` signed `good`, `expired` and `wrong_name`; `other_ca`
    (which clients do not trust) signed `untrusted`."""

    ca: str
    good: CertFiles
    expired: CertFiles
    wrong_name: CertFiles
    untrusted: CertFiles
    client: CertFiles  # a client certificate signed by `ca`
    authority: trustme.CA


def _write(folder: Path, name: str, leaf: trustme.LeafCert) -> CertFiles:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    return CertFiles(str(cert), str(key))


def make_certs(folder: Path) -> Certs:
    folder.mkdir(parents=True, exist_ok=True)
    ca, other = trustme.CA(), trustme.CA()
    ca_path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    local = ("localhost", "127.0.0.1", "::1")
    return Certs(
        ca=str(ca_path),
        good=_write(folder, "good", ca.issue_cert(*local)),
        expired=_write(
            folder,
            "expired",
            ca.issue_cert(
                *local, not_before=LONG_AGO, not_after=LONG_AGO + datetime.timedelta(days=30)
            ),
        ),
        wrong_name=_write(folder, "wrong-name", ca.issue_cert("example.org")),
        untrusted=_write(folder, "untrusted", other.issue_cert(*local)),
        client=_write(folder, "client", ca.issue_cert("client@example.org")),
        authority=ca,
    )


@contextlib.contextmanager
def threaded_tls_echo(context: ssl.SSLContext) -> Iterator[int]:
    """One connection's echo in a thread with a blocking SSLSocket.

    Unlike asyncio's TLS server, which drops the connection without a word, OpenSSL
    on a blocking socket sends the alert that says why a handshake failed.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(STEP)

    def serve() -> None:
        with contextlib.suppress(OSError):
            raw, _ = listener.accept()
            raw.settimeout(STEP)
            conn = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            try:
                conn.do_handshake()
            except ssl.SSLError:
                # Closing with the client's bytes unread would send a reset, and a reset
                # makes the client's kernel drop the alert before the client reads it.
                with socket.socket(fileno=conn.detach()) as plain:
                    plain.shutdown(socket.SHUT_WR)
                    while plain.recv(4096):
                        pass
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with listener:
        yield listener.getsockname()[1]
        thread.join(STEP)
