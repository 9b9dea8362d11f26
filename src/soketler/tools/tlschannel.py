"""One TLS connection over a connected socket, driven by the event loop.

`security.tlslayer.TlsLayer` does the TLS work on bytes; this class moves them
between it and the socket with `loop.sock_recv`/`sock_sendall`. asyncio's own TLS
transport would do for a chat client, but not for `connect` and `listen`: it cannot
half-close. Like `nc` over TCP, `connect --tls` must be able to say "no more from me"
at the end of stdin and still read the answer. TLS 1.3 allows exactly that (RFC 8446
section 6.1: close_notify closes one direction), and so does the layer: after our
close_notify it goes on decrypting what the peer sends.

Everything runs on the loop's thread, so the layer is never used by two threads at
once. Sends go through one lock so that records leave in the order they were made,
whichever task made them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

from soketler.security.tlslayer import TlsLayer

READ_SIZE = 1 << 16


class TlsChannel:
    """A TLS connection: `handshake()`, then `receive()`/`send()`, `close_sending()`."""

    def __init__(self, sock: socket.socket, layer: TlsLayer) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.layer = layer
        self._early = b""  # plaintext that came with the end of the handshake
        self._send_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()

    @property
    def tls(self) -> ssl.SSLObject:
        return self.layer.ssl

    @classmethod
    def client(
        cls, sock: socket.socket, context: ssl.SSLContext, server_name: str | None
    ) -> TlsChannel:
        return cls(sock, TlsLayer(context, server_side=False, server_hostname=server_name))

    @classmethod
    def server(cls, sock: socket.socket, context: ssl.SSLContext) -> TlsChannel:
        return cls(sock, TlsLayer(context, server_side=True))

    async def handshake(self) -> None:
        """Raises ssl.SSLError (a refused certificate, a peer that is not TLS) or OSError."""
        try:
            await self._flush()
            while not self.layer.handshake_done:
                data = await self._loop.sock_recv(self.sock, READ_SIZE)
                if data:
                    self._early += self.layer.receive(data)
                else:
                    self._early += self.layer.receive_eof()
                await self._flush()
        except ssl.SSLError:
            # Our alert (bad certificate, not TLS, ...) tells the peer why; send it if we can.
            with contextlib.suppress(OSError):
                await self._flush()
            raise

    async def receive(self) -> bytes:
        """The next decrypted bytes; b"" when the peer has finished sending."""
        if self._early:
            data, self._early = self._early, b""
            return data
        while not self.layer.peer_finished:
            raw = await self._loop.sock_recv(self.sock, READ_SIZE)
            data = self.layer.receive(raw) if raw else self.layer.receive_eof()
            await self._flush()  # reading may have made something to answer
            if data:
                return data
        return b""

    async def send(self, data: bytes) -> None:
        async with self._send_lock:
            self.layer.send(data)
            await self._send_pending()

    async def close_sending(self) -> None:
        """Sends close_notify and ends our direction of the TCP stream; reading goes on."""
        async with self._send_lock:
            self.layer.close()
            await self._send_pending()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    async def _flush(self) -> None:
        # Only when there is something: the receiving side must not queue behind a send
        # that waits for a peer which is itself waiting for us to read.
        if self.layer.has_data_to_send:
            async with self._send_lock:
                await self._send_pending()

    async def _send_pending(self) -> None:
        data = self.layer.data_to_send()
        if data:
            await self._loop.sock_sendall(self.sock, data)
