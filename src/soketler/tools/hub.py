"""`listen -k` and `listen --echo`: one listener, many stream clients at once.

Each client is an asyncio protocol. Without `--echo`, what clients send goes to
stdout and what is typed on stdin goes to every client (as `ncat -k` does); with
`--echo`, each client gets its own bytes back. Nothing grows without bound: a
client that does not read has its echo paused, slow clients hold back stdin, and a
slow stdout pauses every client's reading.

With `--tls` each connection runs its own TLS (`security.tlslayer.TlsLayer`) over the
plain TCP transport, with a handshake timer of its own: a failed handshake is closed
with the alert that tells the client why, and a client counts (is greeted, takes the
one place without -k) only once its handshake is done.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable
from typing import cast

from soketler.security.tls import (
    HANDSHAKE_TIMEOUT,
    explain_connection_error,
    explain_handshake_error,
)
from soketler.security.tlslayer import TlsLayer
from soketler.tools import fdcopy
from soketler.tools.endpoints import show
from soketler.tools.streams import Output, read_input
from soketler.tools.transforms import CrlfLines, HexDump

Log = Callable[[str], None]
# After a failed TLS handshake: how long to wait for the client to close (see _tls_failed).
LINGER = 1.0


class Hub:
    """Who is connected, and the shared state their flow control depends on."""

    def __init__(
        self,
        *,
        greeting: bytes | None,
        echo: bool,
        hex_dump: bool,
        keep_open: bool,
        log: Log,
        tls: ssl.SSLContext | None = None,
        tls_handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        self.tls = tls
        self.tls_handshake_timeout = tls_handshake_timeout
        self.greeting = greeting
        self.echo = echo
        self.hex_dump = hex_dump
        self.keep_open = keep_open
        self.log = log
        self.clients: set[Client] = set()
        self.output: Output | None = None
        self.output_full = False
        self.stuck_clients = 0  # clients whose send buffer is over the high-water mark
        self.input_gate = threading.Event()
        self.input_gate.set()
        self.served = 0
        self.finished = asyncio.Event()
        self.stop_listening: Callable[[], None] = lambda: None

    def attach_output(self, fd: int) -> None:
        self.output = Output(fd, on_full=self._output_full, on_drained=self._output_drained)

    def broadcast(self, data: bytes) -> None:
        for client in self.clients:
            client.send(data)

    def _output_full(self) -> None:
        self.output_full = True
        for client in self.clients:
            client.hold()

    def _output_drained(self) -> None:
        self.output_full = False
        for client in self.clients:
            client.release()

    def client_stuck(self, stuck: bool) -> None:
        self.stuck_clients += 1 if stuck else -1
        if self.stuck_clients:
            self.input_gate.clear()
        else:
            self.input_gate.set()


class Client(asyncio.Protocol):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.transport: asyncio.Transport | None = None
        self.name = "client"
        self._holds = 0  # reasons to keep reading paused (a full stdout, a full echo)
        self._stuck = False
        self._dump = HexDump() if hub.hex_dump else None
        self._tls: TlsLayer | None = None
        self._handshake_timer: asyncio.TimerHandle | None = None
        self._discarding = False  # TLS failed: the alert is sent, we wait for the close

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        self.name = show(transport.get_extra_info("peername"))
        if self.hub.tls is None:
            self._welcome()
            return
        self._tls = TlsLayer(self.hub.tls, server_side=True)
        self._handshake_timer = asyncio.get_running_loop().call_later(
            self.hub.tls_handshake_timeout, self._handshake_timed_out
        )

    def _welcome(self) -> None:
        """The client is in: counted, announced, greeted."""
        hub, transport = self.hub, self.transport
        assert transport is not None
        if not hub.keep_open and hub.served:
            # Without -k only the first client is served; one that slipped into the
            # backlog before the listener closed is turned away.
            transport.abort()
            return
        hub.served += 1
        if not hub.keep_open:
            hub.stop_listening()  # as `nc -l`: one client, then the port is free again
        hub.clients.add(self)
        hub.log(f"connection from {self.name}")
        if self._tls is not None:
            cipher = self._tls.ssl.cipher()
            hub.log(
                f"TLS with {self.name}: {self._tls.ssl.version()} {cipher[0] if cipher else ''}"
            )
        if hub.greeting:
            self.send(hub.greeting)
        if hub.output_full:
            self.hold()

    def send(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self._tls is not None:
            self._tls.send(data)
            data = self._tls.data_to_send()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._tls is not None:
            data = self._decrypt(data)
        if data:
            self._take(data)

    def _take(self, data: bytes) -> None:
        hub = self.hub
        if hub.echo:
            self.send(data)
        elif hub.output is not None:
            hub.output.write(self._dump.feed(data) if self._dump is not None else data)

    def _decrypt(self, raw: bytes) -> bytes:
        """Plaintext from raw bytes; handles the handshake, alerts and close_notify."""
        layer, transport = self._tls, self.transport
        assert layer is not None and transport is not None
        shaking = not layer.handshake_done
        try:
            plain = layer.receive(raw)
        except ssl.SSLError as exc:
            self._tls_failed(exc, shaking)
            return b""
        transport.write(layer.data_to_send())
        if shaking and layer.handshake_done:
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
            self._welcome()
            if transport.is_closing():
                return b""
        if layer.peer_finished:  # close_notify: as the end of a TCP stream
            if plain:
                self._take(plain)
            self._end_tls()
            return b""
        return plain

    def _tls_failed(self, exc: ssl.SSLError, shaking: bool) -> None:
        assert self._tls is not None and self.transport is not None
        failure = (
            explain_handshake_error(exc, self.name, client=False)
            if shaking
            else explain_connection_error(exc, self.name)
        )
        self.hub.log(failure.message)
        self.transport.write(self._tls.data_to_send())  # the alert says why
        # Closing with the client's bytes unread would send a reset, and a reset makes
        # the client's kernel drop the alert unread. So: end our side, read and drop
        # what still comes, close when the client does (or after LINGER seconds).
        self._discarding = True
        self.transport.write_eof()
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        self._handshake_timer = asyncio.get_running_loop().call_later(LINGER, self.transport.abort)

    def _handshake_timed_out(self) -> None:
        self.hub.log(f"timed out: TLS handshake with {self.name}")
        if self.transport is not None:
            self.transport.abort()

    def _end_tls(self) -> None:
        """The peer has finished: answer with our close_notify after what is queued."""
        assert self._tls is not None and self.transport is not None
        self._tls.close()
        self.transport.write(self._tls.data_to_send())
        self.transport.close()

    def close(self) -> None:
        """Closes after what is queued (with a TLS close_notify first when TLS is up)."""
        if self.transport is None or self.transport.is_closing():
            return
        if self._tls is not None and self._tls.handshake_done:
            self._end_tls()
        else:
            self.transport.close()

    def eof_received(self) -> bool:
        if self._tls is not None and not self._discarding:
            try:
                plain = self._tls.receive_eof()
            except ssl.SSLError as exc:
                self._tls_failed(exc, shaking=True)
                return False
            if plain:
                self._take(plain)
            self._end_tls()
        # Returning False closes the transport once what is queued has been written,
        # so an echo finishes sending before the connection goes.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        hub = self.hub
        if self not in hub.clients:
            return
        hub.clients.discard(self)
        if self._stuck:
            hub.client_stuck(False)
        reason = f" ({exc})" if exc is not None else ""
        hub.log(f"closed {self.name}{reason}")
        if not hub.keep_open:
            hub.finished.set()

    def pause_writing(self) -> None:
        self._stuck = True
        self.hub.client_stuck(True)
        if self.hub.echo:
            self.hold()  # stop reading what we could not send back

    def resume_writing(self) -> None:
        self._stuck = False
        self.hub.client_stuck(False)
        if self.hub.echo:
            self.release()

    def hold(self) -> None:
        self._holds += 1
        if self._holds == 1 and self.transport is not None:
            self.transport.pause_reading()

    def release(self) -> None:
        self._holds -= 1
        if self._holds == 0 and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()


async def serve(
    listening: socket.socket,
    hub: Hub,
    *,
    stdin: int | None,
    stdout: int,
    crlf: bool,
    stop: asyncio.Event,
) -> None:
    """Serves clients on `listening` until `stop` is set (or, without -k, the one
    client leaves)."""
    loop = asyncio.get_running_loop()
    if not hub.echo:
        hub.attach_output(stdout)
    stopper = fdcopy.Stopper()
    reading: asyncio.Future[fdcopy.Ending] | None = None
    if stdin is not None and not hub.echo:
        reading = read_input(
            stdin,
            hub.broadcast,
            stopper=stopper,
            gate=hub.input_gate,
            transform=CrlfLines() if crlf else None,
        )
    listening.setblocking(False)
    server = await loop.create_server(lambda: Client(hub), sock=listening)
    hub.stop_listening = server.close
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(hub.finished.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
        server.close()
        for client in list(hub.clients):
            client.close()
        stopper.stop()
        if reading is not None:
            await asyncio.wait([reading], timeout=1.0)
        stopper.close()
        if hub.output is not None:
            await hub.output.aclose()
        await server.wait_closed()
