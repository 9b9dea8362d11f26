"""Certificates for TLS tests, made with trustme: a good one, and each kind of bad one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import trustme

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
