"""TLS as a layer on bytes: what the socket read goes in, plaintext and bytes to send come out.

No sockets, no event loop: the ssl module's `SSLObject` over two memory buffers.
A transport that owns the socket feeds `receive(data)` and `receive_eof()`, hands
`send(plaintext)` what the application writes, and writes `data_to_send()` to the
socket after each call. So a server can accept plain TCP, count the connection
against its limits at once, and run the handshake inside its own protocol, with a
timer of its own for the handshake timeout, on any event loop.

Why not `loop.start_tls()` or `create_server(ssl=...)`: with `ssl=` the application's
protocol only hears of a connection once its handshake is over, so half-open
handshakes escape the connection limits, and a failed handshake is dropped without
the alert that tells the client why. `start_tls()` begun from `connection_made` is
racy under uvloop: the ClientHello reached the plain protocol before the TLS one took
over, even with reading paused, and the handshake stalled (uvloop 0.23, measured).
"""

from __future__ import annotations

import contextlib
import ssl

READ_SIZE = 1 << 16


class TlsLayer:
    """One TLS connection's state; see the module docstring. Raises ssl.SSLError."""

    def __init__(
        self, context: ssl.SSLContext, *, server_side: bool, server_hostname: str | None = None
    ) -> None:
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.ssl = context.wrap_bio(
            self._incoming, self._outgoing, server_side=server_side, server_hostname=server_hostname
        )
        self.handshake_done = False
        self.peer_finished = False  # close_notify, or the end of the TCP stream, arrived
        self._closed = False
        self._advance()  # a client's ClientHello is ready to send at once

    def _advance(self) -> None:
        try:
            self.ssl.do_handshake()
        except ssl.SSLWantReadError:
            return
        self.handshake_done = True

    def receive(self, data: bytes) -> bytes:
        """Feeds bytes from the socket; returns the plaintext they completed (maybe b"")."""
        if data:
            self._incoming.write(data)
        if not self.handshake_done:
            self._advance()
            if not self.handshake_done:
                return b""
        chunks: list[bytes] = []
        while not self.peer_finished:
            try:
                chunk = self.ssl.read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.peer_finished = True
                break
            if not chunk:
                self.peer_finished = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def receive_eof(self) -> bytes:
        """The TCP stream ended; returns the plaintext that was still buffered.

        During the handshake this raises (the peer went away before TLS was set up).
        Afterwards it counts as the peer having finished (see security.tls,
        IGNORE_UNEXPECTED_EOF).
        """
        self._incoming.write_eof()
        if not self.handshake_done:
            self._advance()  # raises SSLEOFError
        return self.receive(b"")

    def send(self, data: bytes) -> None:
        """Encrypts application bytes; only after the handshake (the caller waits for it)."""
        if not self.handshake_done:
            raise ssl.SSLError("send before the TLS handshake is done")
        if data and not self._closed:
            self.ssl.write(data)

    def close(self) -> None:
        """Queues our close_notify; reading may go on (TLS 1.3 half-close)."""
        if self._closed:
            return
        self._closed = True
        # Only the first step of SSL_shutdown is wanted: it writes our close_notify.
        # The ssl module then waits for the peer's, which shows up as an error here
        # (SSLWantReadError; an EOF error if the peer has gone) and is none of ours.
        with contextlib.suppress(ssl.SSLError):
            self.ssl.unwrap()

    @property
    def has_data_to_send(self) -> bool:
        return self._outgoing.pending > 0

    def data_to_send(self) -> bytes:
        """Everything to write to the socket now, in order."""
        return self._outgoing.read()
