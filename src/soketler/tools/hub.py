"""`listen -k` and `listen --echo`: one listener, many stream clients at once.

Each client is an asyncio protocol. Without `--echo`, what clients send goes to
stdout and what is typed on stdin goes to every client (as `ncat -k` does); with
`--echo`, each client gets its own bytes back. Nothing grows without bound: a
client that does not read has its echo paused, slow clients hold back stdin, and a
slow stdout pauses every client's reading.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable
from typing import cast

from soketler.tools import fdcopy
from soketler.tools.endpoints import show
from soketler.tools.streams import Output, read_input
from soketler.tools.transforms import CrlfLines, HexDump

Log = Callable[[str], None]


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
    ) -> None:
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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        hub = self.hub
        if not hub.keep_open and hub.served:
            # Without -k only the first client is served; one that slipped into the
            # backlog before the listener closed is turned away.
            transport.abort()
            return
        hub.served += 1
        if not hub.keep_open:
            hub.stop_listening()  # as `nc -l`: one client, then the port is free again
        hub.clients.add(self)
        self.name = show(transport.get_extra_info("peername"))
        hub.log(f"connection from {self.name}")
        tls = transport.get_extra_info("ssl_object")
        if tls is not None:
            hub.log(f"TLS with {self.name}: {tls.version()} {tls.cipher()[0]}")
        if hub.greeting:
            transport.write(hub.greeting)
        if hub.output_full:
            self.hold()

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        hub = self.hub
        if hub.echo:
            self.send(data)
        elif hub.output is not None:
            hub.output.write(self._dump.feed(data) if self._dump is not None else data)

    def eof_received(self) -> bool:
        # Returning False closes the transport once what is queued has been written,
        # so an echo finishes sending before the connection goes.
        return False

    def connection_lost(self, exc: Exception | None) -> None:
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
    tls: ssl.SSLContext | None = None,
    tls_handshake_timeout: float = 10.0,
) -> None:
    """Serves clients on `listening` until `stop` is set (or, without -k, the one
    client leaves). With `tls`, a client counts once its handshake is done; one that
    does not finish within `tls_handshake_timeout` is cut."""
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
    server = await loop.create_server(
        lambda: Client(hub),
        sock=listening,
        ssl=tls,
        ssl_handshake_timeout=tls_handshake_timeout if tls is not None else None,
    )
    hub.stop_listening = server.close
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(hub.finished.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
        server.close()
        for client in list(hub.clients):
            if client.transport is not None:
                client.transport.close()
        stopper.stop()
        if reading is not None:
            await asyncio.wait([reading], timeout=1.0)
        stopper.close()
        if hub.output is not None:
            await hub.output.aclose()
        await server.wait_closed()
