"""One TLS connection over a connected socket, driven by the event loop.

The ssl module's `SSLObject` does the TLS work on memory buffers; this class moves
the bytes between those buffers and the socket with `loop.sock_recv`/`sock_sendall`.
asyncio's own TLS transport would do for a chat client, but not for `connect` and
`listen`: it cannot half-close. Like `nc` over TCP, `connect --tls` must be able to
say "no more from me" at the end of stdin and still read the answer. TLS 1.3 allows
exactly that (RFC 8446 section 6.1: close_notify closes one direction), and so does
the SSLObject: after our close_notify it goes on decrypting what the peer sends.

Everything runs on the loop's thread, so the SSLObject is never used by two threads at
once. Sends go through one lock so that records leave in the order they were made,
whichever task made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

READ_SIZE = 1 << 16


class TlsChannel:
    """A TLS connection: `handshake()`, then `receive()`/`send()`, `close_sending()`."""

    def __init__(
        self,
        sock: socket.socket,
        tls: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.tls = tls
        self._incoming = incoming
        self._outgoing = outgoing
        self._send_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()

    @classmethod
    def client(
        cls, sock: socket.socket, context: ssl.SSLContext, server_name: str | None
    ) -> TlsChannel:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_name)
        return cls(sock, tls, incoming, outgoing)

    @classmethod
    def server(cls, sock: socket.socket, context: ssl.SSLContext) -> TlsChannel:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        return cls(sock, context.wrap_bio(incoming, outgoing, server_side=True), incoming, outgoing)

    async def handshake(self) -> None:
        """Raises ssl.SSLError (a refused certificate, a peer that is not TLS) or OSError."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
            except ssl.SSLError:
                # Our alert (bad certificate, ...) tells the peer why; send it if we can.
                with contextlib.suppress(OSError):
                    await self._flush()
                raise
        await self._flush()  # our last handshake message

    async def receive(self) -> bytes:
        """The next decrypted bytes; b"" when the peer has finished sending."""
        while True:
            try:
                data = self.tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                await self._flush()  # reading may have made something to answer
                await self._fill()
                continue
            except ssl.SSLZeroReturnError:
                # close_notify after ours, or the TCP stream's end without one (the
                # contexts of `security.tls` take that as the peer having finished).
                return b""
            if self._outgoing.pending:
                await self._flush()
            return data  # b"" here is the peer's close_notify

    async def send(self, data: bytes) -> None:
        async with self._send_lock:
            self.tls.write(data)
            await self._send_pending()

    async def close_sending(self) -> None:
        """Sends close_notify and ends our direction of the TCP stream; reading goes on."""
        async with self._send_lock:
            # Only the first step of SSL_shutdown is wanted: it writes our close_notify.
            # What the ssl module does next, wait for theirs, fails one way or another
            # (SSLWantReadError; an EOF error if the peer has already gone), and none of
            # those is a failure of ours: the close_notify is in the buffer either way.
            with contextlib.suppress(ssl.SSLError):
                self.tls.unwrap()
            await self._send_pending()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    async def _flush(self) -> None:
        if self._outgoing.pending:
            async with self._send_lock:
                await self._send_pending()

    async def _send_pending(self) -> None:
        data = self._outgoing.read()
        if data:
            await self._loop.sock_sendall(self.sock, data)

    async def _fill(self) -> None:
        data = await self._loop.sock_recv(self.sock, READ_SIZE)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()
