"""TLS contexts for servers and clients, and one clear sentence for each way TLS fails.

Servers: TLS 1.2 at least, otherwise the ssl module's defaults for a server (no
compression, no renegotiation, forward-secret ciphers first), a PEM certificate and
key, and optionally client certificates checked against a CA file. The context a
listener holds is a `ReloadableServerContext`: `reload()` reads the files again and
every handshake after that uses them, while connections already open keep theirs.

Clients verify the server's certificate and name by default (the system's trusted
authorities, or a CA file). A self-signed server is reached by pinning its SHA-256
fingerprint, checked after the handshake in place of the usual verification, or,
knowingly, with no check at all (`insecure`).

A handshake that fails becomes a `TlsError` whose message is one line for a person
and whose exit code is `exitcodes.TLS` (or `TIMEOUT` when the peer never finished).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from soketler import exitcodes
from soketler.errors import SoketlerError
from soketler.security.fingerprints import format_fingerprint, matches, sha256_fingerprint

MIN_VERSION = ssl.TLSVersion.TLSv1_2
# A handshake not finished by then is cut: a client on a slow link needs a few round
# trips, a client that only opened the connection and waits holds a slot for nothing.
HANDSHAKE_TIMEOUT = 10.0

# A peer that ends the TCP stream without a TLS close_notify has finished sending, as
# with close_notify. `ncat --ssl` ends that way at the end of its input while it still
# reads; without this OpenSSL 3 would treat it as an attack on the whole connection and
# refuse to send the answer. The protocols carried (lines, IRC, JSON) frame their own
# messages, so a cut-off stream cannot pass for a complete last message.
IGNORE_UNEXPECTED_EOF = ssl.OP_IGNORE_UNEXPECTED_EOF

# OpenSSL's certificate verification codes (X509_V_ERR_*, from x509_vfy.h), which the
# ssl module gives as `SSLCertVerificationError.verify_code` but does not name.
X509_UNABLE_TO_GET_ISSUER_CERT = 2
X509_CERT_NOT_YET_VALID = 9
X509_CERT_HAS_EXPIRED = 10
X509_DEPTH_ZERO_SELF_SIGNED_CERT = 18
X509_SELF_SIGNED_CERT_IN_CHAIN = 19
X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
X509_CERT_UNTRUSTED = 27
X509_HOSTNAME_MISMATCH = 62
X509_IP_ADDRESS_MISMATCH = 64

_SELF_SIGNED = frozenset({X509_DEPTH_ZERO_SELF_SIGNED_CERT, X509_SELF_SIGNED_CERT_IN_CHAIN})
_UNTRUSTED = _SELF_SIGNED | {
    X509_UNABLE_TO_GET_ISSUER_CERT,
    X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
    X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
    X509_CERT_UNTRUSTED,
}
_WRONG_NAME = frozenset({X509_HOSTNAME_MISMATCH, X509_IP_ADDRESS_MISMATCH})

# What a person reads. {peer} is "host port N"; each is one line.
EXPIRED = "TLS: the certificate of {peer} has expired"
NOT_YET_VALID = "TLS: the certificate of {peer} is not valid yet (is this machine's clock right?)"
UNTRUSTED = (
    "TLS: the certificate of {peer} is not signed by an authority this machine trusts{how}; "
    "trust its authority with --tls-ca FILE, or pin it with --tls-fingerprint SHA256"
)
SELF_SIGNED_NOTE = " (it is self-signed)"
WRONG_NAME = "TLS: the certificate of {peer} is not valid for the name {name}"
WRONG_FINGERPRINT = (
    "TLS: the certificate of {peer} does not match --tls-fingerprint; it has SHA256 {actual}"
)
REFUSED = "TLS: the certificate of {peer} was refused: {reason}"
NOT_TLS = "TLS: {peer} did not answer in TLS (is it a plaintext port?)"
WANTS_CLIENT_CERT = "TLS: {peer} wants a client certificate (--tls-cert and --tls-key)"
NO_CLIENT_CERT = "TLS: {peer} sent no client certificate"
CLOSED_IN_HANDSHAKE = "TLS: {peer} closed the connection during the handshake"
HANDSHAKE_FAILED = "TLS: the handshake with {peer} failed: {reason}"
HANDSHAKE_TIMED_OUT = "timed out: TLS handshake with {peer}"
CONNECTION_FAILED = "TLS: the connection with {peer} failed: {reason}"
CANNOT_LOAD = "TLS: cannot load {what} {path}: {reason}"


NO_CERTIFICATE = "no PEM certificate in it"
NO_KEY = "no PEM private key in it"
NO_KEY_WITH_CERT = "no PEM private key in it; give the key file too"

_CERTIFICATE_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)
# "BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "BEGIN ENCRYPTED PRIVATE KEY", ...
_PRIVATE_KEY_PEM = "PRIVATE KEY-----"


class TlsError(SoketlerError):
    """A TLS failure; `message` is the line to show, `exit_code` the documented code."""

    def __init__(self, message: str, exit_code: int = exitcodes.TLS) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# --- loading certificates -------------------------------------------------------------


class _EncryptedKey(Exception):
    """The key file asks for a passphrase; a server cannot stop to ask for one."""


def _no_passphrase() -> str:
    raise _EncryptedKey


def _load_failure(what: str, path: str, exc: BaseException) -> TlsError:
    if isinstance(exc, _EncryptedKey):
        reason = "the key is encrypted; give a key without a passphrase"
    elif isinstance(exc, FileNotFoundError):
        reason = "no such file"
    elif isinstance(exc, PermissionError):
        reason = "permission denied"
    elif isinstance(exc, ssl.SSLError) and exc.reason == "KEY_VALUES_MISMATCH":
        reason = "the key does not belong to the certificate"
    elif isinstance(exc, ssl.SSLError) and exc.library == "PEM":
        reason = "it is damaged, or not PEM"
    elif isinstance(exc, ssl.SSLError) and exc.reason == "EE_KEY_TOO_SMALL":
        reason = "the key is too small to be accepted"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:
        reason = str(exc)
    return TlsError(CANNOT_LOAD.format(what=what, path=path, reason=reason))


def _read_pem(path: str, what: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError as exc:
        raise _load_failure(what, path, exc) from None


def _load_chain(context: ssl.SSLContext, cert: str, key: str | None, what: str) -> None:
    # OpenSSL says "PEM lib" for every file that lacks what it wants; looking first
    # gives the person the reason.
    if _CERTIFICATE_PEM.search(_read_pem(cert, what)) is None:
        raise TlsError(CANNOT_LOAD.format(what=what, path=cert, reason=NO_CERTIFICATE))
    key_path = key if key is not None else cert
    if _PRIVATE_KEY_PEM not in _read_pem(key_path, "the key"):
        reason = NO_KEY if key is not None else NO_KEY_WITH_CERT
        raise TlsError(CANNOT_LOAD.format(what="the key", path=key_path, reason=reason))
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except (OSError, _EncryptedKey) as exc:
        if _is_key_problem(exc):
            raise _load_failure("the key", key_path, exc) from None
        raise _load_failure(what, cert, exc) from None


def _is_key_problem(exc: BaseException) -> bool:
    return isinstance(exc, _EncryptedKey) or (
        isinstance(exc, ssl.SSLError) and exc.reason == "KEY_VALUES_MISMATCH"
    )


def _load_authorities(context: ssl.SSLContext, path: str, what: str) -> None:
    try:
        context.load_verify_locations(cafile=path)
    except OSError as exc:
        raise _load_failure(what, path, exc) from None


def certificate_fingerprint(path: str) -> bytes:
    """The SHA-256 fingerprint of the first certificate in a PEM file (key may be there too)."""
    found = _CERTIFICATE_PEM.search(_read_pem(path, "the certificate"))
    if found is None:
        raise TlsError(
            CANNOT_LOAD.format(what="the certificate", path=path, reason="no certificate in it")
        )
    return sha256_fingerprint(ssl.PEM_cert_to_DER_cert(found.group(0)))


# --- servers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerFiles:
    """Where a listener's certificate comes from.

    cert: PEM certificate chain (leaf first); it may hold the key too. key: PEM key
    (None: in `cert`). client_ca: PEM authorities for client certificates; when set,
    a client must present a certificate they signed.
    """

    cert: str
    key: str | None = None
    client_ca: str | None = None


def server_context(files: ServerFiles) -> ssl.SSLContext:
    """A server context from `files`; raises TlsError naming the file that is wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MIN_VERSION
    # Renegotiation (TLS 1.2) lets a client make the server redo expensive work at will.
    context.options |= ssl.OP_NO_RENEGOTIATION | IGNORE_UNEXPECTED_EOF
    _load_chain(context, files.cert, files.key, "the certificate")
    if files.client_ca is not None:
        _load_authorities(context, files.client_ca, "the client authorities")
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class ReloadableServerContext:
    """The context a listener keeps for its whole life, with certificates that can change.

    A listening socket (or `loop.create_server(ssl=...)`) holds one SSLContext. This
    one has an SNI callback, which OpenSSL calls early in every handshake, with or
    without a server name; it moves the connection to the context built from the files
    most recently loaded. So `reload()` changes what new handshakes get, and
    connections already open keep the certificate they were made with.
    """

    def __init__(
        self, files: ServerFiles, build: Callable[[ServerFiles], ssl.SSLContext] = server_context
    ) -> None:
        self.files = files
        self._build = build
        self._current = build(files)
        self.fingerprint = certificate_fingerprint(files.cert)
        # The listener's own context never serves a handshake to the end: the callback
        # always swaps. It is built from the same files so its settings (versions,
        # client certificates) match the contexts it hands over to.
        self.context = build(files)
        self.context.sni_callback = self._select

    def _select(
        self,
        connection: ssl.SSLObject | ssl.SSLSocket,
        server_name: str | None,
        context: ssl.SSLContext,
    ) -> None:
        connection.context = self._current

    @property
    def current(self) -> ssl.SSLContext:
        return self._current

    def reload(self) -> bytes:
        """Reads the files again; returns the new certificate's fingerprint.

        Raises TlsError, and keeps serving the old certificate, when the new files
        cannot be used (a half-copied certificate must not take the service down).
        """
        fresh = self._build(self.files)
        fingerprint = certificate_fingerprint(self.files.cert)
        self._current, self.fingerprint = fresh, fingerprint
        return fingerprint


# --- clients -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientTls:
    """How a client checks the server: the context, the name, and the pin if any.

    server_name is sent as SNI and verified against the certificate (None: the host
    connected to). pinned: the SHA-256 fingerprint the certificate must have; with a
    pin the context verifies nothing itself and `check_peer` decides.
    """

    context: ssl.SSLContext
    server_name: str | None = None
    pinned: bytes | None = None

    def name_for(self, host: str) -> str:
        return self.server_name or host

    def check_peer(self, tls: ssl.SSLObject | ssl.SSLSocket | None, peer: str) -> None:
        """After the handshake: raises TlsError when the pinned fingerprint differs."""
        if self.pinned is None:
            return
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if der is None:
            raise TlsError(HANDSHAKE_FAILED.format(peer=peer, reason="it sent no certificate"))
        if not matches(der, self.pinned):
            actual = format_fingerprint(sha256_fingerprint(der))
            raise TlsError(WRONG_FINGERPRINT.format(peer=peer, actual=actual))


def client_tls(
    *,
    ca_file: str | None = None,
    insecure: bool = False,
    pinned: bytes | None = None,
    server_name: str | None = None,
    cert: str | None = None,
    key: str | None = None,
) -> ClientTls:
    """The client side: verifying by default; see `ClientTls`.

    ca_file: trust these authorities instead of the system's. insecure: no check at
    all (the connection is encrypted, but to whoever answered). cert/key: a client
    certificate for servers that ask for one.
    """
    if insecure or pinned is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_file is not None:
        # Only these authorities: trusting a private CA should not also trust every
        # public one for this connection.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _load_authorities(context, ca_file, "the authorities")
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = MIN_VERSION
    context.options |= IGNORE_UNEXPECTED_EOF
    if cert is not None:
        _load_chain(context, cert, key, "the client certificate")
    return ClientTls(context, server_name, pinned)


def describe_session(tls: ssl.SSLObject | ssl.SSLSocket) -> str:
    """`TLSv1.3 TLS_AES_256_GCM_SHA384, certificate SHA256 AB:...` for -v output."""
    cipher = tls.cipher()
    text = f"{tls.version()} {cipher[0] if cipher else '?'}"
    der = tls.getpeercert(binary_form=True)
    if der is not None:
        text += f", certificate SHA256 {format_fingerprint(sha256_fingerprint(der))}"
    return text


# --- handshake failures --------------------------------------------------------------

# OpenSSL reasons that mean "what came back was not TLS at all".
_NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "HTTP_REQUEST",
        "UNKNOWN_PROTOCOL",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
    }
)
_CLIENT_CERT_WANTED = frozenset(
    {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE"}
)


def explain_handshake_error(
    exc: BaseException, peer: str, server_name: str | None = None, *, client: bool = True
) -> TlsError:
    """One sentence for a failed handshake (or a failure just after it)."""
    if isinstance(exc, TlsError):
        return exc
    if isinstance(exc, TimeoutError):
        return TlsError(HANDSHAKE_TIMED_OUT.format(peer=peer), exitcodes.TIMEOUT)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _verification_failure(exc, peer, server_name)
    if isinstance(exc, ssl.CertificateError):  # the old-style name check
        return TlsError(WRONG_NAME.format(peer=peer, name=server_name or "?"))
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError, EOFError)):
        return TlsError(CLOSED_IN_HANDSHAKE.format(peer=peer))
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _NOT_TLS_REASONS:
            return TlsError(NOT_TLS.format(peer=peer))
        if client and reason in _CLIENT_CERT_WANTED:
            return TlsError(WANTS_CLIENT_CERT.format(peer=peer))
        if not client and reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
            return TlsError(NO_CLIENT_CERT.format(peer=peer))
        return TlsError(HANDSHAKE_FAILED.format(peer=peer, reason=_readable(reason or str(exc))))
    return TlsError(HANDSHAKE_FAILED.format(peer=peer, reason=str(exc) or type(exc).__name__))


def explain_connection_error(exc: ssl.SSLError, peer: str) -> TlsError:
    """One sentence for a TLS error after the handshake (an alert, a damaged record).

    In TLS 1.3 a client's handshake is over before the server has judged its
    certificate, so "you need a client certificate" arrives here, as an alert.
    """
    reason = exc.reason or ""
    if reason in _CLIENT_CERT_WANTED:
        return TlsError(WANTS_CLIENT_CERT.format(peer=peer))
    return TlsError(CONNECTION_FAILED.format(peer=peer, reason=_readable(reason or str(exc))))


def _verification_failure(
    exc: ssl.SSLCertVerificationError, peer: str, name: str | None
) -> TlsError:
    code = exc.verify_code
    if code == X509_CERT_HAS_EXPIRED:
        return TlsError(EXPIRED.format(peer=peer))
    if code == X509_CERT_NOT_YET_VALID:
        return TlsError(NOT_YET_VALID.format(peer=peer))
    if code in _UNTRUSTED:
        how = SELF_SIGNED_NOTE if code in _SELF_SIGNED else ""
        return TlsError(UNTRUSTED.format(peer=peer, how=how))
    if code in _WRONG_NAME:
        return TlsError(WRONG_NAME.format(peer=peer, name=name or "?"))
    reason = (exc.verify_message or exc.reason or str(exc)).rstrip(".")
    return TlsError(REFUSED.format(peer=peer, reason=reason))


def _readable(reason: str) -> str:
    # OpenSSL reasons are SHOUTED_WITH_UNDERSCORES; a sentence reads better.
    return reason.replace("_", " ").lower()
