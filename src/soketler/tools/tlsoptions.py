"""`--tls` and friends for `connect` and `listen`: options to contexts, failures to ToolErrors.

Imported only when a TLS option is given (any `--tls-*` option, or `--insecure`,
turns TLS on by itself).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from soketler import exitcodes
from soketler.security.fingerprints import FingerprintError, format_fingerprint, parse_fingerprint
from soketler.security.selfsigned import ensure_self_signed
from soketler.security.tls import (
    HANDSHAKE_TIMEOUT,
    ClientTls,
    ReloadableServerContext,
    ServerFiles,
    TlsError,
    client_tls,
    explain_handshake_error,
)
from soketler.tools.errors import ToolError
from soketler.tools.tlschannel import TlsChannel

NOT_OVER_UDP = "--tls works over TCP and Unix stream sockets, not with -u"
KEY_WITHOUT_CERT = "--tls-key needs --tls-cert"


def _tool_error(exc: TlsError) -> ToolError:
    return ToolError(exc.message, exc.exit_code)


# --- connect -------------------------------------------------------------------------


def client_settings(args: argparse.Namespace) -> ClientTls:
    """The client context from the options; raises ToolError for bad ones."""
    if args.udp:
        raise ToolError(NOT_OVER_UDP, exitcodes.USAGE)
    if args.tls_key is not None and args.tls_cert is None:
        raise ToolError(KEY_WITHOUT_CERT, exitcodes.USAGE)
    pinned = None
    if args.tls_fingerprint is not None:
        try:
            pinned = parse_fingerprint(args.tls_fingerprint)
        except FingerprintError as exc:
            raise ToolError(str(exc), exitcodes.USAGE) from None
    try:
        return client_tls(
            ca_file=args.tls_ca,
            insecure=args.insecure,
            pinned=pinned,
            server_name=args.tls_servername,
            cert=args.tls_cert,
            key=args.tls_key,
        )
    except TlsError as exc:
        raise _tool_error(exc) from None


async def client_handshake(
    sock: socket.socket, settings: ClientTls, host: str, peer: str, timeout: float | None
) -> TlsChannel:
    """A TLS client connection over `sock` with the certificate checked; or ToolError."""
    name = settings.name_for(host)
    channel = TlsChannel.client(sock, settings.context, name)
    try:
        async with asyncio.timeout(timeout or HANDSHAKE_TIMEOUT):
            await channel.handshake()
        settings.check_peer(channel.tls, peer)
    except (OSError, TimeoutError, TlsError) as exc:
        raise _tool_error(explain_handshake_error(exc, peer, name)) from None
    return channel


# --- listen --------------------------------------------------------------------------


def server_settings(args: argparse.Namespace) -> ReloadableServerContext:
    """The listener's context from the options, the self-signed one when no --tls-cert.

    Prints the certificate's fingerprint: clients pin it with --tls-fingerprint.
    """
    if args.udp:
        raise ToolError(NOT_OVER_UDP, exitcodes.USAGE)
    if args.tls_key is not None and args.tls_cert is None:
        raise ToolError(KEY_WITHOUT_CERT, exitcodes.USAGE)
    note = ""
    try:
        if args.tls_cert is None:
            made = ensure_self_signed()
            files = ServerFiles(made.path, None, args.tls_client_ca)
            when = "made now" if made.created else "made earlier"
            note = f" (self-signed, {when}; for clients' --tls-ca: {made.cert_path})"
        else:
            files = ServerFiles(args.tls_cert, args.tls_key, args.tls_client_ca)
        holder = ReloadableServerContext(files)
    except TlsError as exc:
        raise _tool_error(exc) from None
    say(f"TLS certificate SHA256 {format_fingerprint(holder.fingerprint)}{note}")
    return holder


def reload(holder: ReloadableServerContext) -> None:
    """SIGHUP: the certificate files again, for new connections; the old ones stay."""
    try:
        fingerprint = holder.reload()
    except TlsError as exc:
        say(f"{exc.message}; still serving the previous certificate")
        return
    say(f"TLS certificate reloaded: SHA256 {format_fingerprint(fingerprint)}")


async def server_handshake(
    sock: socket.socket, holder: ReloadableServerContext, peer: str
) -> TlsChannel:
    """The server side of a handshake within HANDSHAKE_TIMEOUT; or ToolError."""
    channel = TlsChannel.server(sock, holder.context)
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            await channel.handshake()
    except (OSError, TimeoutError) as exc:
        raise _tool_error(explain_handshake_error(exc, peer, client=False)) from None
    return channel


# After a failed handshake: how long, and how much, to read what the client still sends.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1 << 16


async def hang_up_gently(sock: socket.socket) -> None:
    """Closes after a failed handshake so that the client can read our alert.

    A TLS 1.3 client sends its first data right after its side of the handshake; a
    close with those bytes unread sends a reset, and the client's kernel throws the
    alert away when the reset arrives. So: end our side, read (a bounded amount, for a
    bounded time) until the client closes, then close.
    """
    loop = asyncio.get_running_loop()
    try:
        sock.shutdown(socket.SHUT_WR)
        drained = 0
        async with asyncio.timeout(LINGER_SECONDS):
            while drained < LINGER_BYTES and (data := await loop.sock_recv(sock, 4096)):
                drained += len(data)
    except (OSError, TimeoutError):
        pass  # it went away, or took too long: close all the same
    finally:
        sock.close()


def say(message: str) -> None:
    print(f"soketler listen: {message}", file=sys.stderr, flush=True)
