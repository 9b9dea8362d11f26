"""A self-signed certificate made once and kept in the data folder, for `--tls` alone.

`--tls` without `--tls-cert` should just work, and work the same way each time: the
first run makes a key and a certificate and stores them; later runs use them again,
so a client that pinned the fingerprint keeps trusting the server across restarts.

Two files in `<data folder>/tls/`:
- `selfsigned.pem`: the private key and the certificate, readable by the owner only.
  It is written whole under a temporary name and linked into place, so two servers
  starting at once never see half a file or a key from one and a certificate from the
  other: the first link wins and the other server uses what won.
- `selfsigned.crt`: the certificate alone, to hand to clients (`--tls-ca`).

The key is ECDSA P-256: fast to make and to use, and accepted by every current TLS
client. The certificate names localhost, this host's name, 127.0.0.1 and ::1.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass

from soketler.paths import data_directory
from soketler.security.fingerprints import format_fingerprint
from soketler.security.tls import TlsError, certificate_fingerprint

TLS_FOLDER = "tls"
KEY_AND_CERT = "selfsigned.pem"
CERT_ONLY = "selfsigned.crt"
VALID_DAYS = 3650  # pinned by fingerprint: a renewal would break every pin, so make it rare
# Clocks disagree: a certificate made now must already be valid on a client a bit behind.
BACKDATE = datetime.timedelta(hours=1)
LOCAL_NAMES = ("localhost",)
LOCAL_ADDRESSES = ("127.0.0.1", "::1")

DAMAGED = (
    "TLS: the self-signed certificate {path} cannot be used ({reason}); "
    "remove it to have a new one made (clients that pinned the old one must pin again)"
)


@dataclass(frozen=True, slots=True)
class SelfSigned:
    """The stored certificate: `path` holds key and certificate, `cert_path` the certificate."""

    path: str
    cert_path: str
    fingerprint: bytes
    created: bool  # made by this call (the fingerprint is new)

    @property
    def fingerprint_text(self) -> str:
        return format_fingerprint(self.fingerprint)


def make_self_signed(
    names: tuple[str, ...], addresses: tuple[str, ...], now: datetime.datetime
) -> tuple[bytes, bytes]:
    """A new (key PEM, certificate PEM) for these DNS names and IP addresses."""
    # Imported here: cryptography takes a while to load and only the first run needs it.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "soketler"),
            x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "soketler"),
        ]
    )
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def _host_names() -> tuple[str, ...]:
    names = list(LOCAL_NAMES)
    with contextlib.suppress(OSError):
        host = socket.gethostname()
        if host and host not in names and _valid_dns_name(host):
            names.append(host)
    return tuple(names)


def _valid_dns_name(name: str) -> bool:
    return all(label and len(label) <= 63 and label.isascii() for label in name.split("."))


def _expired(path: str, now: datetime.datetime) -> bool:
    from cryptography import x509

    with open(path, "rb") as file:
        certificate = x509.load_pem_x509_certificate(_certificate_block(file.read()))
    return certificate.not_valid_after_utc <= now


def _certificate_block(pem: bytes) -> bytes:
    start = pem.index(b"-----BEGIN CERTIFICATE-----")
    end = pem.index(b"-----END CERTIFICATE-----", start)
    return pem[start : end + len(b"-----END CERTIFICATE-----")] + b"\n"


def _write_new(path: str, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def ensure_self_signed(
    directory: str | None = None, *, now: datetime.datetime | None = None
) -> SelfSigned:
    """The stored self-signed certificate, made first if there is none (or it expired).

    directory: where `tls/` goes (default: the user data folder). Raises TlsError
    when the folder cannot be written or the stored file is damaged.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    folder = os.path.join(directory or data_directory(), TLS_FOLDER)
    path = os.path.join(folder, KEY_AND_CERT)
    cert_path = os.path.join(folder, CERT_ONLY)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        created = _make_if_missing(path, folder, now)
        fingerprint = certificate_fingerprint(path)
        with open(path, "rb") as file:
            certificate = _certificate_block(file.read())
        _replace(cert_path, certificate, 0o644)
    except TlsError as exc:
        raise TlsError(DAMAGED.format(path=path, reason=_after_colon(exc.message))) from None
    except ValueError as exc:  # no certificate block, or cryptography could not parse it
        raise TlsError(DAMAGED.format(path=path, reason=str(exc) or "no certificate")) from None
    except OSError as exc:
        raise TlsError(
            f"TLS: cannot store the self-signed certificate in {folder}: {exc.strerror or exc}"
        ) from None
    return SelfSigned(path, cert_path, fingerprint, created)


def _make_if_missing(path: str, folder: str, now: datetime.datetime) -> bool:
    expired = os.path.exists(path)
    if expired and not _expired(path, now):
        return False
    key_pem, cert_pem = make_self_signed(_host_names(), LOCAL_ADDRESSES, now)
    temporary = os.path.join(folder, f".{KEY_AND_CERT}.{os.getpid()}.{secrets.token_hex(4)}")
    _write_new(temporary, key_pem + cert_pem, 0o600)
    try:
        if expired:
            os.replace(temporary, path)  # nobody can use the old one anyway
            return True
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _replace(path: str, data: bytes, mode: int) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as file:
        if file.read() == data:
            return
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    _write_new(temporary, data, mode)
    os.replace(temporary, path)


def _after_colon(message: str) -> str:
    return message.rsplit(": ", 1)[-1]
